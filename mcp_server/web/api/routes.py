"""The `/v1` endpoints over the shared services: the catalog, the one orchestration (`ToolCalls`), the connections
and the audit trail. Keys, bodies and error shapes are edge.py's; Arcade's terms for outcomes are outcomes.py's."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import anyio
from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_core import PydanticSerializationError, to_jsonable_python
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route, Router

from mcp_server.authorization.errors import FlowRefused, FlowUnavailable, UserMismatch
from mcp_server.calls.catalog import Catalog, ToolDefinition
from mcp_server.calls.orchestration import AuthorizationExpired, AuthorizationNeeded, SecretNeeded, ToolCalls
from mcp_server.config import Settings
from mcp_server.errors import (
    OAuthError,
    ProviderNotConfigured,
    ProviderUnavailable,
    StorageUnavailable,
    ToolExecutionError,
)
from mcp_server.observability.audit import AuditQuery, parse_since, read_audit
from mcp_server.toolkit.tool import OAuth2
from mcp_server.vault import Connection, Flow
from mcp_server.web.api.definitions import arcade_definition
from mcp_server.web.api.edge import ApiError, ArcadeErrors, endpoint, problems, read_body, read_query
from mcp_server.web.api.models import (
    ArcadeToolDefinition,
    AuditEventItem,
    AuditListQuery,
    AuditPage,
    AuthAuthorizeRequest,
    AuthorizationRequirement,
    AuthorizationResponse,
    ConfirmUserRequest,
    ConfirmUserResponse,
    ConnectionListQuery,
    ErrorKind,
    ExecuteToolResponse,
    HealthSchema,
    OAuth2Scopes,
    Requirements,
    SecretRequirement,
    StatusQuery,
    ToolAuthorizeRequest,
    ToolError,
    ToolExecuteRequest,
    ToolGetQuery,
    ToolListQuery,
    ToolOutput,
    ToolPage,
    UserConnection,
    UserConnectionPage,
)
from mcp_server.web.api.outcomes import ALREADY_COMPLETED_ID, completed, failure, flow_status, tool_error

__all__ = ["create_api_routes"]

logger = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 59  # Arcade's limit for `GET /v1/auth/status?wait=`


# ---------------------------------------------------------------- the endpoints


class _Api:
    def __init__(self, catalog: Catalog, calls: ToolCalls, settings: Settings) -> None:
        self.catalog = catalog
        self.calls = calls
        self.service = calls.service
        self.keys = [key.get_secret_value().encode() for key in settings.api.keys]
        self.secrets = calls.secrets
        self._definitions: dict[str, ArcadeToolDefinition] = {}  # built on first use: not on a stdio start's path

    def tool(self, name: str) -> ToolDefinition:
        definition = self.catalog.get(name)
        if definition is None:
            raise ApiError(
                404,
                "not_found",
                "No tool has this name on this server; GET /v1/tools lists them "
                "(names are Toolkit.Tool, or Toolkit_Tool).",
            )
        return definition

    # -- GET /v1/health

    async def health(self, request: Request) -> BaseModel:
        return HealthSchema(healthy=True)

    # -- GET /v1/tools, GET /v1/tools/{name}

    async def list_tools(self, request: Request) -> BaseModel:
        query = read_query(request, ToolListQuery)
        toolkit = query.toolkit.lower() if query.toolkit else None
        matching = [d for d in self.catalog if toolkit is None or d.toolkit.lower() == toolkit]
        page = matching[query.offset : query.offset + query.limit]
        statuses = _StatusCache(self)
        items = [await self.describe(d, query.user_id, statuses) for d in page]
        return ToolPage(
            items=items, limit=query.limit, offset=query.offset, page_count=len(items), total_count=len(matching)
        )

    async def get_tool(self, request: Request) -> BaseModel:
        query = read_query(request, ToolGetQuery)
        definition = self.tool(request.path_params["name"])
        return await self.describe(definition, query.user_id, _StatusCache(self))

    async def describe(
        self, definition: ToolDefinition, user_id: str | None, statuses: _StatusCache
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
        self, requirement: OAuth2, user_id: str | None, statuses: _StatusCache
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

    # -- POST /v1/tools/authorize, POST /v1/auth/authorize

    async def authorize_tool(self, request: Request) -> BaseModel:
        body = await read_body(request, ToolAuthorizeRequest)
        _refuse_next_uri(body.next_uri)
        definition = self.tool(body.tool_name)
        if definition.requirement is None:
            return AuthorizationResponse(id=ALREADY_COMPLETED_ID, status="completed", user_id=body.user_id)
        return await self.authorization(body.user_id, definition.requirement)

    async def authorize(self, request: Request) -> BaseModel:
        body = await read_body(request, AuthAuthorizeRequest)
        _refuse_next_uri(body.next_uri)
        wanted = body.auth_requirement
        provider_id = wanted.id or wanted.provider_id
        assert provider_id is not None  # the model's validator
        if self.service.providers.get(provider_id) is None:
            raise ApiError(
                404,
                "not_found",
                "No provider has this id on this server; use a provider configured "
                "under [providers.<id>] (or a catalogued one such as google or github).",
            )
        scopes = wanted.oauth2.scopes if wanted.oauth2 else []
        return await self.authorization(body.user_id, OAuth2(id=provider_id, scopes=scopes))

    async def authorization(self, user_id: str, requirement: OAuth2) -> AuthorizationResponse:
        """`completed` if the user's connection covers the requirement, else a flow for them to finish."""
        try:
            found = await self.calls.authorize(user_id, requirement)
            if isinstance(found, Connection):
                return completed(user_id, found)
        except ProviderNotConfigured as exc:
            raise ApiError(400, "provider_not_configured", str(exc)) from None
        except FlowRefused as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        except (ProviderUnavailable, OAuthError) as exc:
            raise ApiError(
                503, "provider_unavailable", f"Could not renew the user's authorization: {exc}. Try again in a moment."
            ) from None
        return self.flow_answer(found)

    def flow_answer(self, flow: Flow) -> AuthorizationResponse:
        status = flow_status(flow)
        waiting_for_user = status == "pending" and flow.status == "pending"
        return AuthorizationResponse(
            id=flow.id,
            status=status,
            url=self.service.flows.connect_url(flow) if waiting_for_user else None,
            provider_id=flow.provider_id if flow.kind != "approval" else None,
            scopes=list(flow.scopes) if flow.kind != "approval" else [],  # an approval's "scope" is its call digest
            user_id=flow.user_id,
            error=(flow.error or "expired") if status == "failed" else None,
        )

    # -- GET /v1/auth/status

    async def status(self, request: Request) -> BaseModel:
        query = read_query(request, StatusQuery)
        if query.id == ALREADY_COMPLETED_ID:
            return AuthorizationResponse(id=ALREADY_COMPLETED_ID, status="completed")
        flow = await self.service.flows.flow_status(query.id)
        if flow is None:
            raise ApiError(
                404,
                "not_found",
                "No authorization has this id; use the id that /v1/tools/authorize or /v1/auth/authorize answered.",
            )
        wait = min(query.wait, MAX_WAIT_SECONDS)
        if wait and flow_status(flow) == "pending":
            flow = await self.service.flows.wait(flow.id, timeout=wait) or flow  # woken by the callback, not by polling
        elif wait and flow_status(flow) == "failed":
            # Already over when asked. `wait_for_completion` asks again until "completed"; holding the answer
            # for `wait` keeps that loop at one request per `wait` instead of spinning.
            await anyio.sleep(wait)
        return self.flow_answer(flow)

    # -- POST /v1/auth/confirm_user

    async def confirm_user(self, request: Request) -> BaseModel:
        body = await read_body(request, ConfirmUserRequest)
        try:
            confirmed = await self.service.flows.confirm_user(body.flow_id, body.user_id)
        except UserMismatch as exc:
            raise ApiError(403, "user_mismatch", str(exc)) from None  # what was refused, and what to do
        except FlowUnavailable as exc:
            raise ApiError(400, "flow_unavailable", str(exc)) from None
        # the grant is bound only when the browser that consented arrives at next_uri
        return ConfirmUserResponse(auth_id=confirmed.flow.id, next_uri=confirmed.next_uri)

    # -- POST /v1/tools/execute

    async def execute(self, request: Request) -> BaseModel:
        body = await read_body(request, ToolExecuteRequest)
        if body.run_at is not None:
            raise ApiError(
                400, "not_supported", "authmcp runs tools at once and does not schedule them; leave out run_at."
            )
        definition = self.tool(body.tool_name)
        started = time.perf_counter()
        output = await self.run(definition, body.user_id, body.input or {})
        success = output.error is None
        execution_id = secrets.token_urlsafe(16)
        return ExecuteToolResponse(
            id=execution_id,
            execution_id=execution_id,
            finished_at=datetime.now(UTC).isoformat(),
            duration=round((time.perf_counter() - started) * 1000, 3),
            status="success" if success else "failed",
            success=success,
            output=output,
        )

    async def run(self, definition: ToolDefinition, user_id: str, raw: Mapping[str, Any]) -> ToolOutput:
        """What the MCP gate does for a call, answered in Arcade's terms."""
        try:
            arguments = definition.validate_arguments(raw)
        except ValidationError as exc:
            return failure("TOOL_RUNTIME_BAD_INPUT_VALUE", f"Invalid input for {definition.api_name}: {problems(exc)}.")
        requirement = definition.requirement
        try:
            step = await self.calls.prepare(user_id, definition)
            if isinstance(step, SecretNeeded):
                return failure("TOOL_REQUIREMENTS_NOT_MET", step.refusal)
            if isinstance(step, AuthorizationNeeded):
                provider = self.service.connections.provider(step.requirement.id)
                self.service.audit.record(
                    "tool.call",
                    user_id=user_id,
                    tool=definition.api_name,
                    provider_id=step.requirement.id,
                    actor="user",
                    outcome="authorization_required",
                )
                return await self.authorization_required(
                    user_id,
                    step.requirement,
                    "TOOL_REQUIREMENTS_NOT_MET",
                    f"Authorization required: {definition.api_name} acts on the user's {provider.name} account. "
                    "Send the user to output.authorization.url, then execute again.",
                )
            approvals = self.calls.approvals
            if approvals is not None and self.calls.needs_approval(definition):
                pending = await approvals.by_page(user_id, definition, raw)
                if pending is not None:
                    return ToolOutput(
                        authorization=self.flow_answer(pending),
                        error=ToolError(
                            kind="TOOL_REQUIREMENTS_NOT_MET",
                            can_retry=True,
                            message=f"Approval required: the user must approve this call of {definition.api_name} "
                            "at output.authorization.url, then execute again with the same input.",
                        ),
                    )
            value = await self.calls.execute(user_id, definition, step, arguments)
        except AuthorizationExpired as exc:
            assert requirement is not None
            return await self.authorization_required(
                user_id,
                requirement,
                "UPSTREAM_RUNTIME_AUTH_ERROR",
                f"{exc} Send the user to output.authorization.url, then execute again.",
            )
        except ProviderNotConfigured as exc:
            return failure("TOOL_REQUIREMENTS_NOT_MET", str(exc))
        except (ProviderUnavailable, OAuthError) as exc:
            return failure(
                "UPSTREAM_RUNTIME_SERVER_ERROR",
                f"Could not renew the user's authorization: {exc}. Try again in a moment.",
                can_retry=True,
            )
        except ToolExecutionError as exc:
            return ToolOutput(error=tool_error(exc))
        except StorageUnavailable:
            raise  # a 503 for the whole request (`_endpoint`): the client retries it
        except Exception:
            logger.exception("tool %s failed unexpectedly (API call for user %r)", definition.api_name, user_id)
            return failure(
                "TOOL_RUNTIME_FATAL", f"{definition.api_name} failed unexpectedly; the details are in authmcp's log."
            )
        try:
            return ToolOutput(value=to_jsonable_python(value))
        except PydanticSerializationError:
            return failure(
                "TOOL_RUNTIME_BAD_OUTPUT_VALUE", f"{definition.api_name} returned a value that cannot be sent as JSON."
            )

    async def authorization_required(
        self, user_id: str, requirement: OAuth2, kind: ErrorKind, message: str
    ) -> ToolOutput:
        flow = await self.service.flows.start_flow(user_id, requirement)
        return ToolOutput(
            authorization=self.flow_answer(flow), error=ToolError(kind=kind, message=message, can_retry=True)
        )

    # -- GET /v1/admin/user_connections, DELETE /v1/admin/user_connections/{id}

    async def list_connections(self, request: Request) -> BaseModel:
        query = read_query(request, ConnectionListQuery)
        rows, total = await self.service.vault.list_connections(
            query.user_id, query.provider_id, limit=query.limit, offset=query.offset
        )
        items = []
        for row in rows:
            provider = self.service.providers.get(row["provider_id"])
            items.append(
                UserConnection(
                    id=str(row["id"]),
                    connection_id=str(row["id"]),
                    connection_status=row["status"],
                    provider_id=row["provider_id"],
                    provider_type=provider.type if provider else None,
                    provider_description=provider.name if provider else None,
                    provider_user_info=row["user_info"],
                    scopes=row["scopes"].split(),
                    user_id=row["user_id"],
                )
            )
        return UserConnectionPage(
            items=items, limit=query.limit, offset=query.offset, page_count=len(items), total_count=total
        )

    async def delete_connection(self, request: Request) -> None:
        """Disconnect at once and revoke at the provider (queued and retried if it is down)."""
        raw = request.path_params["id"]
        owner = await self.service.vault.connection_owner(int(raw)) if raw.isdigit() and len(raw) < 19 else None
        if owner is None:
            raise ApiError(404, "not_found", "No connection has this id; GET /v1/admin/user_connections lists them.")
        await self.service.connections.disconnect(*owner, by="admin")

    # -- GET /v1/admin/audit

    async def list_audit(self, request: Request) -> BaseModel:
        query = read_query(request, AuditListQuery)
        try:
            since = parse_since(query.since) if query.since is not None else None
        except ValueError as exc:
            raise ApiError(400, "invalid_request", f"{exc}.") from None
        rows, total = await read_audit(
            self.service.vault.engine,
            AuditQuery(query.user_id, query.tool, query.provider_id, since, query.limit, query.offset),
        )
        items = [AuditEventItem(**{**row, "scopes": (row["scopes"] or "").split()}) for row in rows]
        return AuditPage(items=items, limit=query.limit, offset=query.offset, page_count=len(items), total_count=total)


class _StatusCache:
    """Each (user, requirement) looked up once per request: a page of tools often shares one provider."""

    def __init__(self, api: _Api) -> None:
        self.api = api
        self.seen: dict[tuple[str, OAuth2], Literal["not_started", "completed", "failed"]] = {}

    async def get(self, user_id: str, requirement: OAuth2) -> Literal["not_started", "completed", "failed"]:
        key = (user_id, requirement)
        if key not in self.seen:
            try:
                connection = await self.api.service.connections.connection_for(user_id, requirement)
                self.seen[key] = "completed" if connection is not None else "not_started"
            except (ProviderUnavailable, OAuthError):  # a stored grant that cannot be renewed right now
                self.seen[key] = "failed"
        return self.seen[key]


def _refuse_next_uri(next_uri: str | None) -> None:
    if next_uri is not None:
        raise ApiError(
            400,
            "not_supported",
            "authmcp does not take next_uri: after consent the browser sees "
            "authmcp's page (or your [api] verifier_url). Leave it out.",
        )


# ---------------------------------------------------------------- routes


def create_api_routes(catalog: Catalog, calls: ToolCalls, settings: Settings) -> list[BaseRoute]:
    """The `/v1` API as one mount: every tool call through `calls`, the orchestration the MCP gate uses too."""
    api = _Api(catalog, calls, settings)
    routes = [
        Route("/health", endpoint(api.keys, api.health), methods=["GET"]),
        Route("/tools", endpoint(api.keys, api.list_tools), methods=["GET"]),
        Route("/tools/authorize", endpoint(api.keys, api.authorize_tool), methods=["POST"]),
        Route("/tools/execute", endpoint(api.keys, api.execute), methods=["POST"]),
        Route("/tools/{name}", endpoint(api.keys, api.get_tool), methods=["GET"]),
        Route("/auth/authorize", endpoint(api.keys, api.authorize), methods=["POST"]),
        Route("/auth/status", endpoint(api.keys, api.status), methods=["GET"]),
        Route("/auth/confirm_user", endpoint(api.keys, api.confirm_user), methods=["POST"]),
        Route("/admin/user_connections", endpoint(api.keys, api.list_connections), methods=["GET"]),
        Route("/admin/user_connections/{id}", endpoint(api.keys, api.delete_connection), methods=["DELETE"]),
        Route("/admin/audit", endpoint(api.keys, api.list_audit), methods=["GET"]),
    ]
    return [Mount("/v1", app=ArcadeErrors(Router(routes=routes)))]
