"""The gate: one MCP extension in front of every `tools/call`.

It finds the user, the tool's requirements and the user's connection, then either runs the tool with a
`ToolContext` holding the token, or answers "authorization required" in the form the client can take:

- 2026-07-28 client with URL elicitation: an `InputRequiredResult` holding a url-mode elicitation; on the
  retry the gate waits (up to `flow_wait_seconds`) for the flow to complete, then runs the tool.
- 2025-11-25 client with URL elicitation: the -32042 error with the flow id as `elicitationId`, and
  `notifications/elicitation/complete` when the callback lands.
- Any other client: an `isError` result with a short text holding the URL, and `_meta` with
  `{url, provider, scopes, flow_id}` (no `structuredContent`: TypeScript clients validate it).

A call that may go ahead is run by the gate itself, with the SDK's own argument validation and result
conversion for the tool (`FuncMetadata`, derived once by the catalog), and answered as `MCPServer`'s
`tools/call` handler answers: the handler's per-call `Context`, the tool manager's lookup and the
registered function's indirection would only add work (see docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from mcp import MCPError, UrlElicitationRequiredError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Extension
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import (
    CallToolRequestParams,
    CallToolResult,
    ElicitCompleteNotification,
    ElicitCompleteNotificationParams,
    ElicitRequest,
    ElicitRequestURLParams,
    ElicitResult,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from mcp_server.authorization.errors import FlowRefused
from mcp_server.calls.catalog import Catalog, ToolDefinition
from mcp_server.calls.identity import current_user_id
from mcp_server.calls.orchestration import AuthorizationExpired, AuthorizationNeeded, Ready, SecretNeeded, ToolCalls
from mcp_server.errors import (
    OAuthError,
    PagesUnavailable,
    ProviderNotConfigured,
    ProviderUnavailable,
    StorageUnavailable,
    ToolExecutionError,
)
from mcp_server.observability.audit import flow_ref
from mcp_server.observability.telemetry import traced
from mcp_server.vault import Flow
from mcp_server.vault.flow_records import ConsentFlow, audited_as

__all__ = ["AuthGate", "gated_tools"]

logger = logging.getLogger(__name__)


@dataclass
class _Call:
    """One gated call in progress: the tool, what it runs with, and whether it lost its authorization."""

    calls: ToolCalls
    user_id: str
    definition: ToolDefinition
    ready: Ready
    needs_authorization: bool = field(default=False)

    async def run(self, arguments: Mapping[str, Any]) -> Any:
        try:
            return await self.calls.execute(self.user_id, self.definition, self.ready, arguments)
        except AuthorizationExpired as exc:
            self.needs_authorization = True
            raise ToolError(str(exc)) from exc
        except (ProviderUnavailable, OAuthError, StorageUnavailable) as exc:
            raise ToolError(f"{exc}. Try again in a moment.") from exc
        except ToolExecutionError as exc:
            raise ToolError(str(exc)) from exc


@dataclass(frozen=True)
class _Need:
    """Something the user must give before a tool can run: an authorization at a provider, or a secret."""

    key: str  # the input request's key in a 2026-07-28 InputRequiredResult
    tool: str  # the API name of the tool that needs it, for the audit trail
    what: str  # "the authorization with Google", for messages
    message: str  # what clients with URL elicitation show
    start: Callable[[], Awaitable[Flow]]  # the flow whose link gives it
    fallback: Callable[[Flow, str], tuple[str, dict[str, Any]]]  # text and _meta for other clients


def _entrypoint(definition: ToolDefinition) -> Callable[..., Any]:
    """The function registered on the MCP server: the tool's signature without its context parameter.

    The gate runs every catalogued tool itself, so this is only reached by bypassing it (`MCPServer.call_tool`).
    """

    async def entrypoint(**arguments: Any) -> Any:
        raise ToolError("This tool can only run through the authmcp gate.")

    entrypoint.__name__ = definition.fn.__name__
    entrypoint.__doc__ = definition.description
    entrypoint.__signature__ = definition.signature  # type: ignore[attr-defined]
    return entrypoint


class _ThroughTheGate(ArgModelBase):
    """The arguments model the SDK holds for a catalogued tool: the gate runs every one itself."""


def gated_tools(catalog: Catalog) -> list[Tool]:
    """Every catalogued tool as the MCP server lists and calls it: its MCP name, requirements in `_meta`.

    Built from the schemas the catalog holds, which are what `MCPServer.add_tool` would derive again from the
    same signature (names are already valid, no `Context` or `Resolve` parameters). The SDK's metadata carries
    only the output schema: the gate validates and converts with the tool's own (`ToolDefinition.metadata`).
    """
    return [
        Tool(
            fn=_entrypoint(definition),
            name=definition.mcp_name,
            title=definition.title,
            description=definition.description,
            parameters=definition.input_schema,
            fn_metadata=FuncMetadata(arg_model=_ThroughTheGate, output_schema=definition.output_schema),
            is_async=True,
            context_kwarg=None,  # our entrypoint takes none: the gate passes the context itself
            annotations=ToolAnnotations(title=definition.title, **definition.hints)
            if definition.title or definition.hints
            else None,
            meta=definition.meta(),
        )
        for definition in catalog
    ]


async def _run(call: _Call, params: CallToolRequestParams) -> HandlerResult:
    """Validate the arguments, run the tool and convert its result as `Tool.run` does, and answer a failure
    as `MCPServer`'s `tools/call` handler does: an `isError` result, the cause in the server's log only."""
    name = call.definition.mcp_name
    metadata = call.definition.metadata
    try:
        arguments = metadata.validate_arguments(params.arguments or {})
    except ValidationError as exc:  # the caller's mistake: field names in the log, never the values
        logger.info(
            "Tool %r rejected arguments: %r", name, sorted({".".join(map(str, e["loc"])) for e in exc.errors()})
        )
        return _error(f"Error executing tool {name}: {exc}")
    except MCPError:
        raise
    except Exception:  # a validator that crashed
        logger.exception("Tool %r raised an unexpected exception", name)
        return _error(f"Error executing tool {name}")
    try:
        return metadata.convert_result(await call.run(arguments))
    except MCPError:
        raise
    except ToolError as exc:  # expected: its text is for the model
        logger.info("Tool %r failed: %r", name, str(exc))
        return _error(f"Error executing tool {name}: {exc}")
    except Exception:  # a crash: the text stays in the log
        logger.exception("Tool %r raised an unexpected exception", name)
        return _error(f"Error executing tool {name}")


async def _send_elicitation_complete(flow_id: str, connection: Any) -> None:
    """Tell a 2025-11-25 client, on its session's standalone stream, that the elicitation `flow_id` is done."""
    notice = ElicitCompleteNotification(params=ElicitCompleteNotificationParams(elicitation_id=flow_id))
    await connection.notify(notice.method, notice.params.model_dump(by_alias=True, mode="json", exclude_none=True))


def _error(text: str, meta: dict[str, Any] | None = None) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True, _meta=meta)


def _url_elicitation_supported(ctx: ServerRequestContext[Any, Any]) -> bool:
    # check the url sub-capability itself: check_client_capability accepts form-only clients
    caps = ctx.session.client_capabilities
    return bool(caps and caps.elicitation and caps.elicitation.url is not None)


class AuthGate(Extension):
    identifier = "dev.authmcp/gate"

    def __init__(self, *, catalog: Catalog, calls: ToolCalls, local_user: str, flow_wait_seconds: float) -> None:
        self.catalog = catalog
        self.calls = calls
        self.service = calls.service
        self.local_user = local_user
        self.flow_wait_seconds = flow_wait_seconds

    @traced("authmcp.gate")
    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        definition = self.catalog.get(params.name)
        if definition is None:
            return await call_next(ctx)
        try:
            return await self._gated(params, ctx, definition)
        except StorageUnavailable as exc:  # passes by itself: a tool error the client may retry, not -32603
            logger.warning("tool %s: %s", definition.mcp_name, exc)
            return _error(f"{exc}. Nothing was lost: try the call again in a moment.")
        except PagesUnavailable as exc:  # no link handed out: what to do is in the message (logged where raised)
            return _error(str(exc))

    async def _gated(
        self,
        params: CallToolRequestParams,
        ctx: ServerRequestContext[Any, Any],
        definition: ToolDefinition,
    ) -> HandlerResult:
        user_id = current_user_id(self.local_user)
        asked: set[str] = set()
        try:
            while True:
                step = await self.calls.prepare(user_id, definition)
                if isinstance(step, Ready):
                    break
                need = self._need(definition, user_id, step)
                if need.key in asked:  # asked on this call and given, yet still missing
                    if isinstance(step, SecretNeeded):
                        return _error(step.refusal)
                    return await self._answer(ctx, need)
                asked.add(need.key)
                answer = await self._ask(params, ctx, user_id, need)
                if answer is not None:
                    return answer
                # this is the retry of a client whose user just finished the flow: look again
        except (ProviderNotConfigured, FlowRefused) as exc:
            return _error(str(exc))
        except (ProviderUnavailable, OAuthError) as exc:
            return _error(f"Could not renew your authorization: {exc}. Try again in a moment.")

        approvals = self.calls.approvals
        if approvals is not None and self.calls.needs_approval(definition):
            refusal = await approvals.ask(params, ctx, user_id, definition)
            if refusal is not None:
                return refusal

        call = _Call(calls=self.calls, user_id=user_id, definition=definition, ready=step)
        result = await _run(call, params)
        if call.needs_authorization:
            return await self._answer(ctx, self._authorization_need(definition, user_id))
        return result

    def _need(self, definition: ToolDefinition, user_id: str, step: SecretNeeded | AuthorizationNeeded) -> _Need:
        if isinstance(step, SecretNeeded):
            return self._secret_need(definition, user_id, step.name)
        return self._authorization_need(definition, user_id)

    def _authorization_need(self, definition: ToolDefinition, user_id: str) -> _Need:
        requirement = definition.requirement
        assert requirement is not None
        provider = self.service.connections.provider(requirement.id)

        def fallback(flow: Flow, url: str) -> tuple[str, dict[str, Any]]:
            assert isinstance(flow, ConsentFlow)  # `start_flow`'s
            text = (
                f"Authorization required: {definition.api_name} acts on your {provider.name} account. "
                f"Open {url} in your browser, grant access, then call the tool again."
            )
            return text, {"url": url, "provider": requirement.id, "scopes": list(flow.scopes), "flow_id": flow.id}

        return _Need(
            key=f"authorize:{requirement.id}",
            tool=definition.api_name,
            what=f"the authorization with {provider.name}",
            message=f"Sign in to {provider.name} to let {definition.api_name} act for you.",
            start=lambda: self.service.flows.start_flow(user_id, requirement),
            fallback=fallback,
        )

    def _secret_need(self, definition: ToolDefinition, user_id: str, name: str) -> _Need:
        def fallback(flow: Flow, url: str) -> tuple[str, dict[str, Any]]:
            text = (
                f"Secret required: {definition.api_name} needs your {name}. Open {url} in your browser, enter it "
                f"there (it is stored encrypted, never shown to the model), then call the tool again. "
                f"(Or the server's operator sets [secrets] {name}, or AUTHMCP_SECRETS__{name}, for everyone.)"
            )
            return text, {"url": url, "secret": name, "flow_id": flow.id}

        return _Need(
            key=f"secret:{name}",
            tool=definition.api_name,
            what=f"entering {name}",
            message=f"{definition.api_name} needs your {name}. Enter it on the page that opens.",
            start=lambda: self.service.flows.start_secret_flow(user_id, name, definition.api_name),
            fallback=fallback,
        )

    async def _ask(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], user_id: str, need: _Need
    ) -> HandlerResult | None:
        """Ask the user for `need`, unless this call is a 2026-07-28 client's retry after it asked before.

        On such a retry the gate waits (up to `flow_wait_seconds`) for the user to finish the flow, and returns
        None once they have: the caller then reads what the user gave and goes on with the same call.
        """
        response = (params.input_responses or {}).get(need.key)
        if response is None or ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return await self._answer(ctx, need)
        if isinstance(response, ElicitResult) and response.action != "accept":
            return _error(f"The user declined {need.what}, so the tool did not run.")
        flow = (
            await self.service.flows.wait(params.request_state, self.flow_wait_seconds)
            if params.request_state
            else None
        )
        if flow is not None and flow.user_id == user_id:
            if flow.status == "completed":
                return None
            if flow.status == "failed":
                return await self._fallback(
                    need, await need.start(), f"{need.what.capitalize()} did not complete ({flow.error}). "
                )
        return await self._fallback(need, await need.start(), f"{need.what.capitalize()} is not complete yet. ")

    async def _answer(self, ctx: ServerRequestContext[Any, Any], need: _Need) -> HandlerResult:
        """Start (or reuse) the flow for `need` and hand out its link in the form this client can take."""
        flow = await need.start()
        self.service.audit.record(
            "tool.call",
            user_id=flow.user_id,
            tool=need.tool,
            provider_id=audited_as(flow),
            actor="user",
            outcome="authorization_required" if isinstance(flow, ConsentFlow) else "secret_required",
            flow_ref=flow_ref(flow.id),
        )
        url = await self.service.flows.link(flow)
        url_ok = _url_elicitation_supported(ctx)
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            if url_ok:
                return InputRequiredResult(
                    input_requests={
                        need.key: ElicitRequest(params=ElicitRequestURLParams(message=need.message, url=url))
                    },
                    request_state=flow.id,
                )
        elif url_ok:
            # held for the MCP session's connection, weakly: ctx.session is only this request's proxy to it
            # (the SDK names the connection no other way), and a closed session must not be kept alive
            connection = ctx.session._connection
            self.service.flows.on_complete(flow, connection, partial(_send_elicitation_complete, flow.id))
            raise UrlElicitationRequiredError(
                [ElicitRequestURLParams(message=need.message, url=url, elicitation_id=flow.id)]
            )
        return _error(*need.fallback(flow, url))

    async def _fallback(self, need: _Need, flow: Flow, preface: str) -> CallToolResult:
        text, meta = need.fallback(flow, await self.service.flows.link(flow))
        return _error(preface + text, meta)
