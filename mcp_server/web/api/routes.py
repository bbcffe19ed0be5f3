"""The `/v1` endpoints: who calls (API keys), what they sent, and the answers, over the shared services."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

import anyio
from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_core import PydanticSerializationError, to_jsonable_python
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server.observability.audit import AuditQuery, parse_since, read_audit
from mcp_server.authorization.service import (
    FlowRefused,
    FlowUnavailable,
    ProviderNotConfigured,
    UserMismatch,
)
from mcp_server.calls.orchestration import AuthorizationExpired, AuthorizationNeeded, SecretNeeded, ToolCalls
from mcp_server.calls.catalog import Catalog, ToolDefinition
from mcp_server.config import Settings
from mcp_server.toolkit.tool import OAuth2
from mcp_server.errors import (
    OAuthError,
    ProviderUnavailable,
    RetryableToolError,
    StorageUnavailable,
    ToolExecutionError,
    UpstreamError,
)
from mcp_server.vault import Connection, Flow
from mcp_server.vault.flow_store import OPEN_STATUSES
from mcp_server.web.api.definitions import arcade_definition
from mcp_server.web.api.models import (
    AuditEventItem,
    AuditListQuery,
    AuditPage,
    ArcadeToolDefinition,
    AuthAuthorizeRequest,
    AuthorizationRequirement,
    AuthorizationResponse,
    ConfirmUserRequest,
    ConfirmUserResponse,
    ConnectionListQuery,
    ErrorBody,
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

__all__ = ["ALREADY_COMPLETED_ID", "MAX_BODY_BYTES", "create_api_routes"]

logger = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 59  # Arcade's limit for `GET /v1/auth/status?wait=`
MAX_BODY_BYTES = 1 << 20
# The id of an authorization that needed no flow (nothing required, or already connected). Arcade's clients
# need some id to wait on; status answers "completed" for it. Flow ids are 32 characters, so it never collides.
ALREADY_COMPLETED_ID = "completed"


# ---------------------------------------------------------------- errors


class ApiError(Exception):
    """A refusal in Arcade's error shape (`arcadepy.types.shared.Error`)."""

    def __init__(self, status_code: int, name: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.name = name
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return _json(ErrorBody(name=self.name, message=self.message), self.status_code, self.headers)


def _json(model: BaseModel, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    # pydantic, not json.dumps: a tool's NaN becomes null instead of an exception
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        headers={"Cache-Control": "no-store", **(headers or {})},
        media_type="application/json",
    )


# ---------------------------------------------------------------- flows in Arcade's terms


def _status(flow: Flow) -> Literal["pending", "completed", "failed"]:
    if flow.status in ("completed", "used"):  # "used": an approval whose call has run
        return "completed"
    if flow.status in OPEN_STATUSES and not flow.is_expired(time.time()):
        return "pending"  # exchanging and awaiting_verification too: the user is not connected yet
    return "failed"


def _upstream_kind(status_code: int) -> ErrorKind:
    if status_code in (401, 403):
        return "UPSTREAM_RUNTIME_AUTH_ERROR"
    if status_code >= 500:
        return "UPSTREAM_RUNTIME_SERVER_ERROR"
    kinds: dict[int, ErrorKind] = {
        400: "UPSTREAM_RUNTIME_BAD_REQUEST",
        404: "UPSTREAM_RUNTIME_NOT_FOUND",
        422: "UPSTREAM_RUNTIME_VALIDATION_ERROR",
        429: "UPSTREAM_RUNTIME_RATE_LIMIT",
    }
    return kinds.get(status_code, "UPSTREAM_RUNTIME_UNMAPPED")


def _tool_error(exc: ToolExecutionError) -> ToolError:
    """A tool's expected failure in Arcade's error kinds; the message is the tool's own, meant for the model."""
    retry_after = exc.retry_after if isinstance(exc, RetryableToolError) else None
    if isinstance(exc, UpstreamError):
        kind, status_code = _upstream_kind(exc.status_code), exc.status_code
    else:
        kind, status_code = (
            ("TOOL_RUNTIME_RETRY" if isinstance(exc, RetryableToolError) else "TOOL_RUNTIME_FATAL"),
            None,
        )
    return ToolError(
        kind=kind,
        message=str(exc),
        can_retry=isinstance(exc, RetryableToolError) or kind == "UPSTREAM_RUNTIME_SERVER_ERROR",
        retry_after_ms=round(retry_after * 1000) if retry_after is not None else None,
        status_code=status_code,
    )


def _problems(exc: ValidationError) -> str:
    """What is wrong, field by field, without echoing the values sent."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        field = ".".join(str(p) for p in error["loc"])
        parts.append(f"{field}: {error['msg']}" if field else str(error["msg"]))
    return "; ".join(parts)


# ---------------------------------------------------------------- the endpoints

M = TypeVar("M", bound=BaseModel)


class _Api:
    def __init__(self, catalog: Catalog, calls: ToolCalls, settings: Settings) -> None:
        self.catalog = catalog
        self.calls = calls
        self.service = calls.service
        self.keys = [key.get_secret_value().encode() for key in settings.api.keys]
        self.secrets = calls.secrets
        self._definitions: dict[str, ArcadeToolDefinition] = {}  # built on first use: not on a stdio start's path

    # -- the edge: who calls, what they sent

    def authenticate(self, request: Request) -> None:
        """Arcade's clients send the key bare (`Authorization: <key>`); others send `Bearer <key>`: take both."""
        if not self.keys:
            raise ApiError(
                401,
                "unauthorized",
                "The /v1 API is off: no API keys are configured. Set [api] keys in "
                "authmcp's configuration (or AUTHMCP_API__KEYS) and send one as 'Authorization: Bearer <key>'.",
            )
        header = request.headers.get("authorization", "").strip()
        scheme, _, rest = header.partition(" ")
        presented = (rest.strip() if scheme.lower() == "bearer" else header).encode()
        if not presented or not any(hmac.compare_digest(presented, key) for key in self.keys):
            raise ApiError(
                401,
                "unauthorized",
                "Send a valid API key from [api] keys as 'Authorization: Bearer <key>' "
                "(with arcadepy: ARCADE_API_KEY).",
                {"WWW-Authenticate": "Bearer"},
            )

    @staticmethod
    async def body(request: Request, model: type[M]) -> M:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise ApiError(413, "request_too_large", f"The request body is over {MAX_BODY_BYTES} bytes; send less.")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_BODY_BYTES:
                raise ApiError(413, "request_too_large", f"The request body is over {MAX_BODY_BYTES} bytes; send less.")
        try:
            return model.model_validate_json(data)
        except ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors()):
                raise ApiError(
                    400,
                    "invalid_json",
                    "The request body is not valid JSON; send a JSON object with Content-Type: application/json.",
                ) from None
            raise ApiError(400, "invalid_request", f"The request body is not valid: {_problems(exc)}.") from None

    @staticmethod
    def query(request: Request, model: type[M]) -> M:
        try:
            return model.model_validate(dict(request.query_params))
        except ValidationError as exc:
            raise ApiError(400, "invalid_request", f"The query is not valid: {_problems(exc)}.") from None

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
        query = self.query(request, ToolListQuery)
        toolkit = query.toolkit.lower() if query.toolkit else None
        matching = [d for d in self.catalog if toolkit is None or d.toolkit.lower() == toolkit]
        page = matching[query.offset : query.offset + query.limit]
        statuses = _StatusCache(self)
        items = [await self.describe(d, query.user_id, statuses) for d in page]
        return ToolPage(
            items=items, limit=query.limit, offset=query.offset, page_count=len(items), total_count=len(matching)
        )

    async def get_tool(self, request: Request) -> BaseModel:
        query = self.query(request, ToolGetQuery)
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
            self.service.provider(requirement.id)
        except ProviderNotConfigured as exc:
            answer.status, answer.status_reason = "inactive", str(exc)
            return answer
        if user_id is not None:
            answer.token_status = await statuses.get(user_id, requirement)
        return answer

    # -- POST /v1/tools/authorize, POST /v1/auth/authorize

    async def authorize_tool(self, request: Request) -> BaseModel:
        body = await self.body(request, ToolAuthorizeRequest)
        _refuse_next_uri(body.next_uri)
        definition = self.tool(body.tool_name)
        if definition.requirement is None:
            return AuthorizationResponse(id=ALREADY_COMPLETED_ID, status="completed", user_id=body.user_id)
        return await self.authorization(body.user_id, definition.requirement)

    async def authorize(self, request: Request) -> BaseModel:
        body = await self.body(request, AuthAuthorizeRequest)
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
                return _completed(user_id, found)
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
        status = _status(flow)
        waiting_for_user = status == "pending" and flow.status == "pending"
        return AuthorizationResponse(
            id=flow.id,
            status=status,
            url=self.service.connect_url(flow) if waiting_for_user else None,
            provider_id=flow.provider_id if flow.kind != "approval" else None,
            scopes=list(flow.scopes) if flow.kind != "approval" else [],  # an approval's "scope" is its call digest
            user_id=flow.user_id,
            error=(flow.error or "expired") if status == "failed" else None,
        )

    # -- GET /v1/auth/status

    async def status(self, request: Request) -> BaseModel:
        query = self.query(request, StatusQuery)
        if query.id == ALREADY_COMPLETED_ID:
            return AuthorizationResponse(id=ALREADY_COMPLETED_ID, status="completed")
        flow = await self.service.flow_status(query.id)
        if flow is None:
            raise ApiError(
                404,
                "not_found",
                "No authorization has this id; use the id that /v1/tools/authorize or /v1/auth/authorize answered.",
            )
        wait = min(query.wait, MAX_WAIT_SECONDS)
        if wait and _status(flow) == "pending":
            flow = await self.service.wait(flow.id, timeout=wait) or flow  # woken by the callback, not by polling
        elif wait and _status(flow) == "failed":
            # Already over when asked. `wait_for_completion` asks again until "completed"; holding the answer
            # for `wait` keeps that loop at one request per `wait` instead of spinning.
            await anyio.sleep(wait)
        return self.flow_answer(flow)

    # -- POST /v1/auth/confirm_user

    async def confirm_user(self, request: Request) -> BaseModel:
        body = await self.body(request, ConfirmUserRequest)
        try:
            confirmed = await self.service.confirm_user(body.flow_id, body.user_id)
        except UserMismatch as exc:
            raise ApiError(403, "user_mismatch", str(exc)) from None  # what was refused, and what to do
        except FlowUnavailable as exc:
            raise ApiError(400, "flow_unavailable", str(exc)) from None
        # the grant is bound only when the browser that consented arrives at next_uri
        return ConfirmUserResponse(auth_id=confirmed.flow.id, next_uri=confirmed.next_uri)

    # -- POST /v1/tools/execute

    async def execute(self, request: Request) -> BaseModel:
        body = await self.body(request, ToolExecuteRequest)
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
            finished_at=datetime.now(timezone.utc).isoformat(),
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
            return _failure(
                "TOOL_RUNTIME_BAD_INPUT_VALUE", f"Invalid input for {definition.api_name}: {_problems(exc)}."
            )
        requirement = definition.requirement
        try:
            step = await self.calls.prepare(user_id, definition)
            if isinstance(step, SecretNeeded):
                return _failure("TOOL_REQUIREMENTS_NOT_MET", step.refusal)
            if isinstance(step, AuthorizationNeeded):
                provider = self.service.provider(step.requirement.id)
                self.service.audit.record(
                    "tool.call", user_id=user_id, tool=definition.api_name, provider_id=step.requirement.id,
                    actor="user", outcome="authorization_required",
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
                            kind="TOOL_REQUIREMENTS_NOT_MET", can_retry=True,
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
            return _failure("TOOL_REQUIREMENTS_NOT_MET", str(exc))
        except (ProviderUnavailable, OAuthError) as exc:
            return _failure(
                "UPSTREAM_RUNTIME_SERVER_ERROR",
                f"Could not renew the user's authorization: {exc}. Try again in a moment.",
                can_retry=True,
            )
        except ToolExecutionError as exc:
            return ToolOutput(error=_tool_error(exc))
        except StorageUnavailable:
            raise  # a 503 for the whole request (`_endpoint`): the client retries it
        except Exception:
            logger.exception("tool %s failed unexpectedly (API call for user %r)", definition.api_name, user_id)
            return _failure(
                "TOOL_RUNTIME_FATAL", f"{definition.api_name} failed unexpectedly; the details are in authmcp's log."
            )
        try:
            return ToolOutput(value=to_jsonable_python(value))
        except PydanticSerializationError:
            return _failure(
                "TOOL_RUNTIME_BAD_OUTPUT_VALUE", f"{definition.api_name} returned a value that cannot be sent as JSON."
            )

    async def authorization_required(
        self, user_id: str, requirement: OAuth2, kind: ErrorKind, message: str
    ) -> ToolOutput:
        flow = await self.service.start_flow(user_id, requirement)
        return ToolOutput(
            authorization=self.flow_answer(flow), error=ToolError(kind=kind, message=message, can_retry=True)
        )

    # -- GET /v1/admin/user_connections, DELETE /v1/admin/user_connections/{id}

    async def list_connections(self, request: Request) -> BaseModel:
        query = self.query(request, ConnectionListQuery)
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
        await self.service.disconnect(*owner, by="admin")

    # -- GET /v1/admin/audit

    async def list_audit(self, request: Request) -> BaseModel:
        query = self.query(request, AuditListQuery)
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
                connection = await self.api.service.connection_for(user_id, requirement)
                self.seen[key] = "completed" if connection is not None else "not_started"
            except (ProviderUnavailable, OAuthError):  # a stored grant that cannot be renewed right now
                self.seen[key] = "failed"
        return self.seen[key]


def _completed(user_id: str, connection: Connection) -> AuthorizationResponse:
    return AuthorizationResponse(
        id=ALREADY_COMPLETED_ID,
        status="completed",
        provider_id=connection.provider_id,
        scopes=list(connection.scopes),
        user_id=user_id,
    )


def _failure(kind: ErrorKind, message: str, *, can_retry: bool = False) -> ToolOutput:
    return ToolOutput(error=ToolError(kind=kind, message=message, can_retry=can_retry))


def _refuse_next_uri(next_uri: str | None) -> None:
    if next_uri is not None:
        raise ApiError(
            400,
            "not_supported",
            "authmcp does not take next_uri: after consent the browser sees "
            "authmcp's page (or your [api] verifier_url). Leave it out.",
        )


# ---------------------------------------------------------------- routes

Handler = Callable[[Request], Awaitable[BaseModel | None]]


def _endpoint(api: _Api, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            api.authenticate(request)
            answer = await handler(request)
            return _json(answer) if answer is not None else Response(status_code=204)
        except ApiError as exc:
            return exc.response()
        except StorageUnavailable as exc:  # passes by itself: retryable, never a 500
            logger.warning("%s %s: %s", request.method, request.url.path, exc)
            return ApiError(
                503, "storage_unavailable", f"{exc}. Nothing was lost: retry the request in a moment.",
                {"Retry-After": "2"},
            ).response()

    return endpoint


class _ArcadeErrors:
    """Routing's own refusals (404 for an unknown path, 405 for a wrong method) in Arcade's error shape too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except HTTPException as exc:
            if exc.status_code == 405:
                allowed = (exc.headers or {}).get("Allow", "another method")
                error = ApiError(405, "method_not_allowed", f"This path takes {allowed}.", exc.headers)
            elif exc.status_code == 404:
                error = ApiError(404, "not_found", "There is no such path in the /v1 API; see docs/api.md for the endpoints.")
            else:
                error = ApiError(exc.status_code, "http_error", exc.detail)
            await error.response()(scope, receive, send)


def create_api_routes(catalog: Catalog, calls: ToolCalls, settings: Settings) -> list[BaseRoute]:
    """The `/v1` API as one mount: every tool call through `calls`, the orchestration the MCP gate uses too."""
    api = _Api(catalog, calls, settings)
    routes = [
        Route("/health", _endpoint(api, api.health), methods=["GET"]),
        Route("/tools", _endpoint(api, api.list_tools), methods=["GET"]),
        Route("/tools/authorize", _endpoint(api, api.authorize_tool), methods=["POST"]),
        Route("/tools/execute", _endpoint(api, api.execute), methods=["POST"]),
        Route("/tools/{name}", _endpoint(api, api.get_tool), methods=["GET"]),
        Route("/auth/authorize", _endpoint(api, api.authorize), methods=["POST"]),
        Route("/auth/status", _endpoint(api, api.status), methods=["GET"]),
        Route("/auth/confirm_user", _endpoint(api, api.confirm_user), methods=["POST"]),
        Route("/admin/user_connections", _endpoint(api, api.list_connections), methods=["GET"]),
        Route("/admin/user_connections/{id}", _endpoint(api, api.delete_connection), methods=["DELETE"]),
        Route("/admin/audit", _endpoint(api, api.list_audit), methods=["GET"]),
    ]
    return [Mount("/v1", app=_ArcadeErrors(Router(routes=routes)))]
