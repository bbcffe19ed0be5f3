"""The front door: authmcp as the OAuth 2.1 authorization server of its MCP clients (`[front_door]`)."""
