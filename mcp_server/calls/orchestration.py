"""Running a catalogued tool for a user: secrets, the user's connection, the call, and the one retry after a 401.

The MCP gate and the `/v1` API both go through here, so "check, authorize, execute" has one implementation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mcp_server.observability.telemetry import traced
from mcp_server._http import httpx2
from mcp_server.authorization.service import AuthorizationService
from mcp_server.calls.catalog import ToolDefinition
from mcp_server.toolkit.tool import ToolAuthorization, ToolContext
from mcp_server.errors import ToolExecutionError, UpstreamAuthError
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.vault import Connection

__all__ = ["AuthorizationExpired", "ToolEnvironment", "missing_secrets", "run_tool", "secrets_for", "tool_context"]


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
            value = await service.user_secret(user_id, name)
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
    refreshed = await service.refresh(context.user_id, connection.provider_id, rejected=connection)
    if refreshed is None:
        raise AuthorizationExpired("The authorization for this tool is no longer valid; authorize again.")
    provider = service.providers.get(refreshed.provider_id)
    retry_context = replace(context, authorization=_authorization(refreshed, provider))
    try:
        return await definition.invoke(retry_context, arguments)
    except UpstreamAuthError:
        raise AuthorizationExpired("The provider still refuses the refreshed token; authorize again.") from None
