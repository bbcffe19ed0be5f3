"""HTTP routes beside the MCP endpoints: the browser side of flows, pages, health, and the `/v1` API."""

from __future__ import annotations

from typing import Any

from mcp_server.web.consent import create_web_routes
from mcp_server.web.home import create_home_routes
from mcp_server.web.hosts import HostCheck, allowed_hosts

__all__ = ["HostCheck", "allowed_hosts", "create_api_routes", "create_home_routes", "create_web_routes"]


def __getattr__(name: str) -> Any:
    # the `/v1` API is imported when first used: a start that never serves it does not pay for its models
    if name == "create_api_routes":
        from mcp_server.web.api import create_api_routes

        return create_api_routes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
