"""Requirement classes for `@tool(requires_auth=...)`: `OAuth2` for any provider, and the named providers."""

from __future__ import annotations

from mcp_server.declare import GitHub, Google, Microsoft, OAuth2, Slack, Zoom

__all__ = ["GitHub", "Google", "Microsoft", "OAuth2", "Slack", "Zoom"]
