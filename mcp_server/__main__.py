"""`python -m mcp_server` is the `authmcp` command."""

from mcp_server.cli.app import main

main()
