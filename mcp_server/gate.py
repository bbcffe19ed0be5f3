"""The gate: one MCP extension in front of every `tools/call`.

It finds the user, the tool's requirements and the user's connection, then either runs the tool with a
`ToolContext` holding the token, or answers "authorization required" in the form the client can take:

- 2026-07-28 client with URL elicitation: an `InputRequiredResult` holding a url-mode elicitation; on the
  retry the gate waits (up to `flow_wait_seconds`) for the flow to complete, then runs the tool.
- 2025-11-25 client with URL elicitation: the -32042 error with the flow id as `elicitationId`, and
  `notifications/elicitation/complete` when the callback lands.
- Any other client: an `isError` result with a short text holding the URL, and `_meta` with
  `{url, provider, scopes, flow_id}` (no `structuredContent`: TypeScript clients validate it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from mcp import UrlElicitationRequiredError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Extension, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import (
    CallToolRequestParams,
    CallToolResult,
    ElicitRequest,
    ElicitRequestURLParams,
    ElicitResult,
    InputRequiredResult,
    TextContent,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp_server.authorization import AuthorizationService, ProviderNotConfigured
from mcp_server.calls import AuthorizationExpired, missing_secrets, run_tool, tool_context
from mcp_server.catalog import Catalog, ToolDefinition
from mcp_server.declare import ToolContext
from mcp_server.errors import OAuthError, ProviderUnavailable, ToolExecutionError
from mcp_server.identity import current_user_id
from mcp_server.vault import Connection, Flow

__all__ = ["AuthGate", "register_tools"]

logger = logging.getLogger(__name__)


@dataclass
class _Call:
    """One gated call in progress: what the registered tool function reads, and what it reports back."""

    service: AuthorizationService
    definition: ToolDefinition
    context: ToolContext
    connection: Connection | None
    needs_authorization: bool = field(default=False)

    async def run(self, arguments: Mapping[str, Any]) -> Any:
        try:
            return await run_tool(self.service, self.definition, self.context, self.connection, arguments)
        except AuthorizationExpired as exc:
            self.needs_authorization = True
            raise ToolError(str(exc)) from exc
        except (ProviderUnavailable, OAuthError) as exc:
            raise ToolError(f"{exc}. Try again in a moment.") from exc
        except ToolExecutionError as exc:
            raise ToolError(str(exc)) from exc


_current_call: ContextVar[_Call] = ContextVar("authmcp_current_call")


def _entrypoint(definition: ToolDefinition) -> Callable[..., Any]:
    """The function registered on the MCP server: the tool's signature without its context parameter."""

    async def entrypoint(**arguments: Any) -> Any:
        call = _current_call.get(None)
        if call is None or call.definition is not definition:  # only reachable by bypassing the gate
            raise ToolError("This tool can only run through the authmcp gate.")
        return await call.run(arguments)

    entrypoint.__name__ = definition.fn.__name__
    entrypoint.__doc__ = definition.description
    entrypoint.__signature__ = definition.signature  # type: ignore[attr-defined]
    return entrypoint


def register_tools(server: MCPServer[Any], catalog: Catalog) -> None:
    """Add every catalogued tool to the MCP server under its MCP name, requirements in `_meta`."""
    for definition in catalog:
        server.add_tool(
            _entrypoint(definition),
            name=definition.mcp_name,
            description=definition.description,
            meta=definition.meta(),
        )


def _error(text: str, meta: dict[str, Any] | None = None) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True, _meta=meta)


def _url_elicitation_supported(ctx: ServerRequestContext[Any, Any]) -> bool:
    # check the url sub-capability itself: check_client_capability accepts form-only clients
    caps = ctx.session.client_capabilities
    return bool(caps and caps.elicitation and caps.elicitation.url is not None)


class AuthGate(Extension):
    identifier = "dev.authmcp/gate"

    def __init__(
        self,
        *,
        catalog: Catalog,
        service: AuthorizationService,
        local_user: str,
        secrets: Mapping[str, str],
        flow_wait_seconds: float,
    ) -> None:
        self.catalog = catalog
        self.service = service
        self.local_user = local_user
        self.secrets = dict(secrets)
        self.flow_wait_seconds = flow_wait_seconds

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        definition = self.catalog.get(params.name)
        if definition is None:
            return await call_next(ctx)
        user_id = current_user_id(self.local_user)

        refusal = missing_secrets(definition, self.secrets)
        if refusal is not None:
            return _error(refusal)

        connection: Connection | None = None
        requirement = definition.requirement
        if requirement is not None:
            try:
                connection = await self.service.connection_for(user_id, requirement)
                if connection is None:
                    answer = await self._authorization_required(params, ctx, user_id, definition)
                    if not isinstance(answer, Connection):
                        return answer
                    connection = answer
            except ProviderNotConfigured as exc:
                return _error(str(exc))
            except (ProviderUnavailable, OAuthError) as exc:
                return _error(f"Could not renew your authorization: {exc}. Try again in a moment.")

        call = _Call(
            service=self.service,
            definition=definition,
            context=tool_context(user_id, definition, connection, self.secrets),
            connection=connection,
        )
        token = _current_call.set(call)
        try:
            result = await call_next(ctx)
        finally:
            _current_call.reset(token)
        if call.needs_authorization:
            answer = await self._authorization_required(params, ctx, user_id, definition, retry=False)
            if not isinstance(answer, Connection):
                return answer
        return result

    async def _authorization_required(
        self,
        params: CallToolRequestParams,
        ctx: ServerRequestContext[Any, Any],
        user_id: str,
        definition: ToolDefinition,
        *,
        retry: bool = True,
    ) -> HandlerResult | Connection:
        """Answer "authorization required" for this client, or, on a retry after consent, the new connection."""
        requirement = definition.requirement
        assert requirement is not None
        provider = self.service.provider(requirement.id)
        key = f"authorize:{requirement.id}"
        url_ok = _url_elicitation_supported(ctx)
        modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS

        responses = params.input_responses or {}
        if modern and retry and key in responses:
            response = responses[key]
            if isinstance(response, ElicitResult) and response.action != "accept":
                return _error(f"Authorization with {provider.name} was declined, so {definition.api_name} did not run.")
            flow_id = params.request_state
            if flow_id:
                flow = await self.service.wait(flow_id, self.flow_wait_seconds)
                if flow is not None and flow.user_id == user_id and flow.status == "completed":
                    connection = await self.service.connection_for(user_id, requirement)
                    if connection is not None:
                        return connection
                if flow is not None and flow.user_id == user_id and flow.status == "failed":
                    retry_flow = await self.service.start_flow(user_id, requirement)
                    return self._fallback(
                        definition, retry_flow,
                        f"The authorization with {provider.name} did not complete ({flow.error}). ",
                    )
            flow = await self.service.start_flow(user_id, requirement)
            return self._fallback(definition, flow, f"The authorization with {provider.name} is not complete yet. ")

        flow = await self.service.start_flow(user_id, requirement)
        url = self.service.connect_url(flow)
        message = f"Sign in to {provider.name} to let {definition.api_name} act for you."
        if modern and url_ok:
            return InputRequiredResult(
                input_requests={key: ElicitRequest(params=ElicitRequestURLParams(message=message, url=url))},
                request_state=flow.id,
            )
        if not modern and url_ok:
            session = ctx.session
            self.service.on_complete(flow.id, lambda: session.send_elicit_complete(flow.id))
            raise UrlElicitationRequiredError(
                [ElicitRequestURLParams(message=message, url=url, elicitation_id=flow.id)]
            )
        return self._fallback(definition, flow)

    def _fallback(self, definition: ToolDefinition, flow: Flow, preface: str = "") -> CallToolResult:
        requirement = definition.requirement
        assert requirement is not None
        provider = self.service.provider(requirement.id)
        url = self.service.connect_url(flow)
        text = (
            f"{preface}Authorization required: {definition.api_name} acts on your {provider.name} account. "
            f"Open {url} in your browser, grant access, then call the tool again."
        )
        return _error(
            text,
            {"url": url, "provider": requirement.id, "scopes": list(flow.scopes), "flow_id": flow.id},
        )


