"""One tool call, the same for every front door: prepare -> authorize -> approve -> execute -> audit.

`ToolCalls` is the one orchestration. `prepare` says what the call still lacks (a secret, an authorization) or that
it is ready; `authorize` starts the flow that gives it; `needs_approval` says whether the person must say yes
first; `execute` runs the tool with the user's token, refreshing once after a 401, and leaves the call's row in
the audit trail. The MCP gate (calls/gate.py) and the `/v1` API (web/api/execution.py) only render the outcome:
an MCP result in the form each protocol era takes, or Arcade's JSON.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mcp_server._http import httpx2
from mcp_server.authorization.service import AuthorizationService
from mcp_server.calls.catalog import ToolDefinition
from mcp_server.errors import ToolExecutionError, UpstreamAuthError
from mcp_server.observability.telemetry import traced
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.toolkit.tool import ToolAuthorization, ToolContext
from mcp_server.vault import Connection, Flow

if TYPE_CHECKING:
    from mcp_server.calls.approval import Approvals
    from mcp_server.toolkit.tool import OAuth2

__all__ = [
    "AuthorizationExpired",
    "AuthorizationNeeded",
    "Ready",
    "SecretNeeded",
    "ToolCalls",
    "ToolEnvironment",
    "missing_secrets",
    "run_tool",
    "secrets_for",
    "tool_context",
]


@dataclass(frozen=True)
class ToolEnvironment:
    """What every tool call gets from the server: one shared HTTP client, and each toolkit's settings."""

    http: httpx2.AsyncClient
    toolkit_settings: Mapping[str, Mapping[str, str]]  # keyed by toolkit name in lower case ("gmail")
    providers: ProviderRegistry | None = None  # for each provider's error convention


class AuthorizationExpired(ToolExecutionError):
    """The provider keeps refusing the user's token and no refresh helps: the user must authorize again."""


async def secrets_for(
    service: AuthorizationService, user_id: str, definition: ToolDefinition, server_secrets: Mapping[str, str]
) -> dict[str, str]:
    """The values of the tool's secrets for this user: the server-wide value if configured, else the user's own."""
    values: dict[str, str] = {}
    for name in definition.secrets:
        value = server_secrets.get(name)
        if value is None:
            value = await service.connections.user_secret(user_id, name)
        if value is not None:
            values[name] = value
    return values


def missing_secrets(definition: ToolDefinition, secrets: Mapping[str, str]) -> str | None:
    """A message naming the secrets the tool needs and the server lacks, and how to set them; else None."""
    missing = [name for name in definition.secrets if name not in secrets]
    if not missing:
        return None
    settings = ", ".join(f'[secrets] {n} = "..." (or AUTHMCP_SECRETS__{n})' for n in missing)
    return (
        f"{definition.api_name} needs the secret {', '.join(missing)}, which neither this server nor the user has "
        f"given. The user can give their own through the link an MCP client shows, or the server's operator can "
        f"set {settings} and restart authmcp."
    )


def _authorization(connection: Connection, provider: Provider | None) -> ToolAuthorization:
    return ToolAuthorization(
        provider_id=connection.provider_id,
        token=connection.access_token,
        scopes=connection.scopes,
        user_info=connection.user_info,
        extras=connection.token_extras,
        error_style=provider.error_style if provider is not None else "http",
    )


def _provider(environment: ToolEnvironment | None, connection: Connection) -> Provider | None:
    providers = environment.providers if environment is not None else None
    return providers.get(connection.provider_id) if providers is not None else None


def tool_context(
    user_id: str,
    definition: ToolDefinition,
    connection: Connection | None,
    secrets: Mapping[str, str],
    environment: ToolEnvironment | None = None,
) -> ToolContext:
    """The context a tool receives: the user, their authorization if the tool needs one, its declared secrets,
    its toolkit's settings and the shared HTTP client."""
    return ToolContext(
        user_id=user_id,
        authorization=(
            _authorization(connection, _provider(environment, connection)) if connection is not None else None
        ),
        secrets={name: secrets[name] for name in definition.secrets},
        settings=dict(environment.toolkit_settings.get(definition.toolkit.lower(), {})) if environment else {},
        http=environment.http if environment else None,
    )


@traced("authmcp.tool.run")
async def run_tool(
    service: AuthorizationService,
    definition: ToolDefinition,
    context: ToolContext,
    connection: Connection | None,
    arguments: Mapping[str, Any],
) -> Any:
    """Call the tool. If the provider's API refuses the token (401), refresh once and retry once. Every call
    leaves one `tool.call` row in the audit trail: outcome, error kind, duration, a digest of the arguments.

    Raises:
        AuthorizationExpired: The token is refused even after a refresh, or the grant is gone.
        ToolExecutionError: The tool's own expected failures.
    """
    started = time.perf_counter()
    outcome, error_kind = "ok", None
    try:
        return await _run_with_retry(service, definition, context, connection, arguments)
    except AuthorizationExpired:
        outcome, error_kind = "authorization_required", "AuthorizationExpired"
        raise
    except BaseException as exc:
        outcome, error_kind = "error", type(exc).__name__
        raise
    finally:
        service.audit.record(
            "tool.call",
            user_id=context.user_id,
            tool=definition.api_name,
            provider_id=connection.provider_id if connection is not None else None,
            scopes=" ".join(connection.scopes) if connection is not None else None,
            outcome=outcome,
            error_kind=error_kind,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            arguments=arguments,
            actor="user",
        )


async def _run_with_retry(
    service: AuthorizationService,
    definition: ToolDefinition,
    context: ToolContext,
    connection: Connection | None,
    arguments: Mapping[str, Any],
) -> Any:
    try:
        return await definition.invoke(context, arguments)
    except UpstreamAuthError:
        if connection is None:
            raise
    # RFC 9700 §4.14 / our threat model: an upstream 401 is authoritative; refresh once, retry once.
    refreshed = await service.connections.refresh(context.user_id, connection.provider_id, rejected=connection)
    if refreshed is None:
        raise AuthorizationExpired("The authorization for this tool is no longer valid; authorize again.")
    provider = service.providers.get(refreshed.provider_id)
    retry_context = replace(context, authorization=_authorization(refreshed, provider))
    try:
        return await definition.invoke(retry_context, arguments)
    except UpstreamAuthError:
        raise AuthorizationExpired("The provider still refuses the refreshed token; authorize again.") from None


@dataclass(frozen=True)
class Ready:
    """The call has all it needs: the user's connection (if the tool needs one) and the tool's secrets."""

    connection: Connection | None
    secrets: Mapping[str, str]


@dataclass(frozen=True)
class SecretNeeded:
    """A secret the tool declares that neither the server nor the user has given."""

    name: str
    refusal: str  # what to tell a caller that cannot ask the user for it


@dataclass(frozen=True)
class AuthorizationNeeded:
    """The user has no connection at the tool's provider covering its scopes (or it needs re-authorization)."""

    requirement: OAuth2


Readiness = Ready | SecretNeeded | AuthorizationNeeded


class ToolCalls:
    """Check, authorize, approve, execute: the one orchestration both front doors call."""

    def __init__(
        self,
        *,
        service: AuthorizationService,
        environment: ToolEnvironment | None,
        secrets: Mapping[str, str],
        approvals: Approvals | None = None,
    ) -> None:
        self.service = service
        self.environment = environment
        self.secrets = dict(secrets)
        self.approvals = approvals

    async def secrets_for(self, user_id: str, definition: ToolDefinition) -> dict[str, str]:
        return await secrets_for(self.service, user_id, definition, self.secrets)

    async def prepare(self, user_id: str, definition: ToolDefinition) -> Readiness:
        """What the call still lacks, first the secrets then the authorization; or that it is ready.

        Raises:
            ProviderNotConfigured: The tool's provider has no app credentials here.
            ProviderUnavailable, OAuthError: A stale token could not be refreshed just now.
        """
        secrets: dict[str, str] = {}
        if definition.secrets:  # most tools declare none: no lookup, no await
            secrets = await self.secrets_for(user_id, definition)
            for name in definition.secrets:
                if name not in secrets:
                    return SecretNeeded(name, missing_secrets(definition, secrets) or "")
        connection: Connection | None = None
        if definition.requirement is not None:
            connection = await self.service.connections.connection_for(user_id, definition.requirement)
            if connection is None:
                return AuthorizationNeeded(definition.requirement)
        return Ready(connection, secrets)

    async def authorize(self, user_id: str, requirement: OAuth2) -> Connection | Flow:
        """The user's connection if it covers `requirement`, else the flow started (or reused) for them."""
        connection = await self.service.connections.connection_for(user_id, requirement)
        if connection is not None:
            return connection
        return await self.service.flows.start_flow(user_id, requirement)

    def needs_approval(self, definition: ToolDefinition) -> bool:
        return self.approvals is not None and self.approvals.policy.requires(definition)

    async def execute(
        self, user_id: str, definition: ToolDefinition, ready: Ready, arguments: Mapping[str, Any]
    ) -> Any:
        """Run the tool for the user (see `run_tool`: one retry after a refresh, one audit row)."""
        context = tool_context(user_id, definition, ready.connection, ready.secrets, self.environment)
        return await run_tool(self.service, definition, context, ready.connection, arguments)
