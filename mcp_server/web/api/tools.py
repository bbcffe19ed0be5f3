"""`GET /v1/tools` and `GET /v1/tools/{name}`: the catalog in Arcade's definitions, with each requirement's status
for the server and, when a user is named, for that user."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from starlette.requests import Request

from mcp_server.authorization.connections import ConnectionService
from mcp_server.calls.catalog import Catalog, ToolDefinition
from mcp_server.calls.orchestration import ToolCalls
from mcp_server.errors import OAuthError, ProviderNotConfigured, ProviderUnavailable
from mcp_server.toolkit.tool import OAuth2
from mcp_server.web.api.definitions import arcade_definition
from mcp_server.web.api.edge import ApiError, read_query
from mcp_server.web.api.models import (
    ArcadeToolDefinition,
    AuthorizationRequirement,
    OAuth2Scopes,
    Requirements,
    SecretRequirement,
    ToolGetQuery,
    ToolListQuery,
    ToolPage,
)

__all__ = ["ToolEndpoints", "find_tool"]


def find_tool(catalog: Catalog, name: str) -> ToolDefinition:
    definition = catalog.get(name)
    if definition is None:
        raise ApiError(
            404,
            "not_found",
            "No tool has this name on this server; GET /v1/tools lists them (names are Toolkit.Tool, or Toolkit_Tool).",
        )
    return definition


class ToolEndpoints:
    def __init__(self, catalog: Catalog, calls: ToolCalls) -> None:
        self.catalog = catalog
        self.calls = calls
        self.service = calls.service
        self.secrets = calls.secrets
        self._definitions: dict[str, ArcadeToolDefinition] = {}  # built on first use: not on a stdio start's path

    async def list_tools(self, request: Request) -> BaseModel:
        query = read_query(request, ToolListQuery)
        toolkit = query.toolkit.lower() if query.toolkit else None
        matching = [d for d in self.catalog if toolkit is None or d.toolkit.lower() == toolkit]
        page = matching[query.offset : query.offset + query.limit]
        statuses = StatusCache(self.service.connections)
        items = [await self.describe(d, query.user_id, statuses) for d in page]
        return ToolPage(
            items=items, limit=query.limit, offset=query.offset, page_count=len(items), total_count=len(matching)
        )

    async def get_tool(self, request: Request) -> BaseModel:
        query = read_query(request, ToolGetQuery)
        definition = find_tool(self.catalog, request.path_params["name"])
        return await self.describe(definition, query.user_id, StatusCache(self.service.connections))

    async def describe(
        self, definition: ToolDefinition, user_id: str | None, statuses: StatusCache
    ) -> ArcadeToolDefinition:
        """The tool's definition with its requirements' status: the server's, and the named user's if any."""
        given = self.secrets if user_id is None else await self.calls.secrets_for(user_id, definition)
        secrets_ = [
            SecretRequirement(
                key=name,
                met=name in given,
                status_reason=None if name in given else "neither set on this server nor given by the user",
            )
            for name in definition.secrets
        ]
        met: bool | None = all(s.met for s in secrets_)
        authorization = None
        if definition.requirement is not None:
            authorization = await self.authorization_requirement(definition.requirement, user_id, statuses)
            if authorization.status == "active" and user_id is None:
                met = None  # it depends on the user, and none was named
            else:
                met = met and authorization.token_status == "completed"
        requirements = Requirements(authorization=authorization, secrets=secrets_ or None, met=met)
        arcade = self._definitions.get(definition.mcp_name)
        if arcade is None:
            arcade = self._definitions[definition.mcp_name] = arcade_definition(definition)
        return arcade.model_copy(update={"requirements": requirements})

    async def authorization_requirement(
        self, requirement: OAuth2, user_id: str | None, statuses: StatusCache
    ) -> AuthorizationRequirement:
        answer = AuthorizationRequirement(
            id=requirement.id,
            provider_id=requirement.id,
            provider_type=requirement.provider_type,
            oauth2=OAuth2Scopes(scopes=list(requirement.scopes)),
            status="active",
        )
        try:
            self.service.connections.provider(requirement.id)
        except ProviderNotConfigured as exc:
            answer.status, answer.status_reason = "inactive", str(exc)
            return answer
        if user_id is not None:
            answer.token_status = await statuses.get(user_id, requirement)
        return answer


class StatusCache:
    """Each (user, requirement) looked up once per request: a page of tools often shares one provider."""

    def __init__(self, connections: ConnectionService) -> None:
        self.connections = connections
        self.seen: dict[tuple[str, OAuth2], Literal["not_started", "completed", "failed"]] = {}

    async def get(self, user_id: str, requirement: OAuth2) -> Literal["not_started", "completed", "failed"]:
        key = (user_id, requirement)
        if key not in self.seen:
            try:
                connection = await self.connections.connection_for(user_id, requirement)
                self.seen[key] = "completed" if connection is not None else "not_started"
            except (ProviderUnavailable, OAuthError):  # a stored grant that cannot be renewed right now
                self.seen[key] = "failed"
        return self.seen[key]
