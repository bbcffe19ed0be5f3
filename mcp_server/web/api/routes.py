"""The `/v1` endpoints over the shared services, mounted under one key check and Arcade's error shapes: the
catalog (tools.py), authorizing (auth.py), the one orchestration (`ToolCalls`, execution.py), and the admin
endpoints (admin.py). Keys, bodies and error shapes are edge.py's; Arcade's terms for outcomes are outcomes.py's."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route, Router

from mcp_server.calls.catalog import Catalog
from mcp_server.calls.orchestration import ToolCalls
from mcp_server.config import Settings
from mcp_server.web.api.admin import AdminEndpoints
from mcp_server.web.api.auth import AuthEndpoints
from mcp_server.web.api.edge import ArcadeErrors, endpoint
from mcp_server.web.api.execution import ExecuteEndpoint
from mcp_server.web.api.models import HealthSchema
from mcp_server.web.api.tools import ToolEndpoints

__all__ = ["create_api_routes"]


async def health(request: Request) -> BaseModel:
    return HealthSchema(healthy=True)


def create_api_routes(catalog: Catalog, calls: ToolCalls, settings: Settings) -> list[BaseRoute]:
    """The `/v1` API as one mount: every tool call through `calls`, the orchestration the MCP gate uses too."""
    keys = [key.get_secret_value().encode() for key in settings.api.keys]
    tools, auth = ToolEndpoints(catalog, calls), AuthEndpoints(catalog, calls)
    execution, admin = ExecuteEndpoint(catalog, calls), AdminEndpoints(calls.service)
    routes = [
        Route("/health", endpoint(keys, health), methods=["GET"]),
        Route("/tools", endpoint(keys, tools.list_tools), methods=["GET"]),
        Route("/tools/authorize", endpoint(keys, auth.authorize_tool), methods=["POST"]),
        Route("/tools/execute", endpoint(keys, execution.execute), methods=["POST"]),
        Route("/tools/{name}", endpoint(keys, tools.get_tool), methods=["GET"]),
        Route("/auth/authorize", endpoint(keys, auth.authorize), methods=["POST"]),
        Route("/auth/status", endpoint(keys, auth.status), methods=["GET"]),
        Route("/auth/confirm_user", endpoint(keys, auth.confirm_user), methods=["POST"]),
        Route("/admin/user_connections", endpoint(keys, admin.list_connections), methods=["GET"]),
        Route("/admin/user_connections/{id}", endpoint(keys, admin.delete_connection), methods=["DELETE"]),
        Route("/admin/audit", endpoint(keys, admin.list_audit), methods=["GET"]),
    ]
    return [Mount("/v1", app=ArcadeErrors(Router(routes=routes)))]
