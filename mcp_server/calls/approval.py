"""Asking the person before a tool acts: which calls need a yes, and how the question reads.

The policy comes from `[approval]`: `policy = "off" | "destructive" | "listed"`, `tools` (always asked for),
and `toolkits` overriding the policy per toolkit. A tool is "destructive" when its declaration says so
(`@tool(destructive=True)`, or no hint at all on a tool that is not read-only: MCP's default is destructive).

An approval answers one call, not a tool: it is bound to the user, the tool and a keyed digest of the exact
arguments, so a yes given for one email cannot send another. And it is used once: a page's yes moves its row to
"used", a form's yes (2026-07-28) inserts the row of its question's nonce, so the same retry sent again, to
any replica, finds it taken and runs nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import unicodedata
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
from mcp import MCPError
from mcp.server.context import HandlerResult, ServerRequestContext
from mcp_types import (
    CallToolRequestParams,
    CallToolResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    TextContent,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp_server.calls.catalog import Catalog, ToolDefinition
from mcp_server.config import ApprovalSettings
from mcp_server.errors import ConfigError
from mcp_server.observability.audit import flow_ref
from mcp_server.observability.telemetry import traced
from mcp_server.vault.approvals import (
    consume_approval,
    create_approval,
    find_pending_approval,
    take_decline,
    use_answer,
)

if TYPE_CHECKING:
    from mcp_server.authorization.service import AuthorizationService
    from mcp_server.vault.flow_records import ApprovalFlow

__all__ = ["APPROVAL_SCHEMA", "ApprovalPolicy", "Approvals", "call_digest", "describe_call"]

# What a client renders as the form: one yes/no question (MCP form elicitation allows flat primitives only).
APPROVAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"approve": {"type": "boolean", "title": "Run it", "description": "Yes: the tool runs once."}},
    "required": ["approve"],
}

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


class ApprovalPolicy:
    def __init__(self, settings: ApprovalSettings) -> None:
        self.settings = settings
        self._listed = {name.replace("_", ".", 1) for name in settings.tools}

    @property
    def enabled(self) -> bool:
        return (
            self.settings.policy != "off"
            or bool(self._listed)
            or any(mode != "off" for mode in self.settings.toolkits.values())
        )

    def check(self, catalog: Catalog) -> None:
        """Refuse names in `[approval]` that match nothing, rather than silently never asking.

        Raises:
            ConfigError: A listed tool or toolkit is not loaded.
        """
        unknown = sorted(name for name in self._listed if catalog.get(name) is None)
        if unknown:
            raise ConfigError(
                f"[approval] tools names {', '.join(unknown)}, which no loaded toolkit has; see `authmcp tools`."
            )
        toolkits = {definition.toolkit for definition in catalog}
        strangers = sorted(set(self.settings.toolkits) - toolkits)
        if strangers:
            raise ConfigError(
                f"[approval] toolkits names {', '.join(strangers)}, which is not loaded; see `authmcp tools`."
            )

    def requires(self, definition: ToolDefinition) -> bool:
        """Whether a call of this tool waits for the person's yes."""
        if definition.api_name in self._listed:
            return True
        policy = self.settings.toolkits.get(definition.toolkit, self.settings.policy)
        if policy == "destructive":
            hints = definition.hints
            return not hints.get("readOnlyHint", False) and hints.get("destructiveHint", True)
        return False


def call_digest(key: bytes, user_id: str, tool: str, arguments: Mapping[str, Any] | None) -> str:
    """Binds an approval to one call: the user, the tool and these exact arguments."""
    canonical = json.dumps([user_id, tool, arguments or {}], sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def describe_call(definition: ToolDefinition, arguments: Mapping[str, Any] | None) -> str:
    """The call in words a person can judge: the tool, then one line per argument, every value whole.

    Nothing is cut (an approved call must not act on what the person was not shown), and no name or value can
    start a line of its own: line breaks, other control and format characters (bidirectional overrides
    included) and backslashes are written as escapes, so each line is exactly one argument.
    """
    name = f"{definition.title} ({definition.api_name})" if definition.title else definition.api_name
    lines = [f"{_visible(name)} wants to run with:"]
    for key, value in (arguments or {}).items():
        text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        lines.append(f"- {_visible(str(key))}: {_visible(text)}")
    if len(lines) == 1:
        lines.append("- (no arguments)")
    return "\n".join(lines)


def _visible(text: str) -> str:
    """`text` on one line, with every character that could hide or move what follows written as an escape."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return "".join(out)


APPROVAL_KEY = "approve"  # the input request's key in a 2026-07-28 InputRequiredResult
_STATE_PREFIX = "approval"


def _form_elicitation_supported(ctx: ServerRequestContext[Any, Any]) -> bool:
    caps = ctx.session.client_capabilities
    elicitation = caps.elicitation if caps else None
    # a bare "elicitation": {} is form mode only (the 2025-06-18 shape)
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


class Approvals:
    """Asks the person, in the way their client can: a form in the client (both protocol eras), else a link to
    a page of ours. `ask` returns None once the person said yes to this exact call, else the answer to send."""

    def __init__(
        self,
        policy: ApprovalPolicy,
        service: AuthorizationService,
        *,
        digest_key: bytes,
        wait_seconds: float,
        ttl: float,
        in_client: bool,
    ) -> None:
        self.policy = policy
        # may a form the client shows count as the person's yes? Only where nobody's identity is verified
        # ([api] verification = "none" and no [front_door]): elsewhere only the verified person in a browser
        self.in_client = in_client
        self.service = service
        self.digest_key = digest_key
        self.wait_seconds = wait_seconds
        self.ttl = ttl

    @traced("authmcp.approval")
    async def ask(
        self,
        params: CallToolRequestParams,
        ctx: ServerRequestContext[Any, Any],
        user_id: str,
        definition: ToolDefinition,
    ) -> HandlerResult | None:
        arguments = params.arguments or {}
        digest = call_digest(self.digest_key, user_id, definition.api_name, arguments)
        question = describe_call(definition, arguments) + "\nApprove it?"

        def audit(event: str, via: str, outcome: str | None = None) -> None:
            self.service.audit.record(
                event,
                user_id=user_id,
                tool=definition.api_name,
                arguments=arguments,
                actor="user",
                outcome=outcome,
                detail=f"asked {via}",
            )

        # Where users are verified (by [api] verification or the front door's sign-in), a yes counts only from the
        # verified person in a browser, never from a form the client (or the agent behind it) answers in-band.
        if _form_elicitation_supported(ctx) and self.in_client:
            if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
                response = (params.input_responses or {}).get(APPROVAL_KEY)
                answered = _answered_question(params.request_state, digest) if response is not None else None
                if answered is None:
                    audit("approval.asked", "in the client")
                    form = ElicitRequestFormParams(message=question, requested_schema=APPROVAL_SCHEMA)
                    return InputRequiredResult(
                        input_requests={APPROVAL_KEY: ElicitRequest(params=form)},
                        request_state=_question_state(digest, time.time() + self.ttl),
                    )
                nonce, expires_at = answered
                # the SDK's seal proves we asked, not that the answer is fresh: the same retry sent again would
                # pass it too, so each question's yes is taken once, in the database every replica shares (a no
                # runs nothing, however often it is sent: it needs no record, nor a database that can be written)
                if _is_yes(response) and not await use_answer(
                    self.service.vault, nonce, user_id, definition.api_name, digest, expires_at=expires_at
                ):
                    audit("approval.declined", "in the client", "replayed")
                    return _refused(
                        f"This approval of {definition.api_name} was already used, so the tool did not run again. "
                        f"To run it again, call the tool again: the user will be asked again."
                    )
                return self._decided(
                    response, definition, lambda outcome: audit(_event(outcome), "in the client", outcome)
                )
            if ctx.session.can_send_request:
                audit("approval.asked", "in the client")
                try:
                    with anyio.fail_after(self.wait_seconds):
                        response = await ctx.session.elicit_form(question, APPROVAL_SCHEMA, ctx.request_id)
                except TimeoutError:
                    audit("approval.declined", "in the client", "expired")
                    return _refused(f"Nobody answered whether {definition.api_name} may run, so it did not run.")
                except MCPError:  # the client refused the form after all: fall back to the page
                    pass
                else:
                    return self._decided(
                        response, definition, lambda outcome: audit(_event(outcome), "in the client", outcome)
                    )
        if await take_decline(self.service.vault, user_id, definition.api_name, digest):
            # the person said no on the page: the app hears it once, plainly, not as a new link to ask again with
            return _refused(_declined(definition, "declined", " on the approval page"))
        flow = await self.by_page(user_id, definition, arguments)
        if flow is None:
            return None
        url = await self.service.flows.link(flow)
        text = (
            f"Approval required: {definition.api_name} acts for the user, and they must approve this call first. "
            f"Ask them to open {url} in their browser, read what it will do and approve it, then call the tool "
            f"again with the same arguments."
        )
        return CallToolResult(
            content=[TextContent(type="text", text=text)],
            is_error=True,
            _meta={"url": url, "approval": definition.api_name, "flow_id": flow.id},
        )

    def _decided(self, response: Any, definition: ToolDefinition, audit: Callable[[str], None]) -> HandlerResult | None:
        if _is_yes(response):
            audit("granted")
            return None
        audit("declined")
        return _refused(_declined(definition, "did not approve"))

    async def by_page(
        self, user_id: str, definition: ToolDefinition, arguments: Mapping[str, Any]
    ) -> ApprovalFlow | None:
        """The approval of this call asked on a page of ours: None once the person approved it (used now, once),
        else the pending approval whose link to hand out."""
        vault = self.service.vault
        digest = call_digest(self.digest_key, user_id, definition.api_name, arguments)
        if await consume_approval(vault, user_id, definition.api_name, digest):
            return None  # the page recorded the decision
        flow = await find_pending_approval(vault, user_id, definition.api_name, digest)
        if flow is None:
            question = describe_call(definition, arguments)
            flow = await create_approval(
                vault, secrets.token_urlsafe(24), user_id, definition.api_name, digest, question, ttl=self.ttl
            )
            self.service.audit.record(
                "approval.asked",
                user_id=user_id,
                tool=definition.api_name,
                arguments=arguments,
                actor="user",
                detail="asked on a page",
                flow_ref=flow_ref(flow.id),
            )
        return flow


def _question_state(digest: str, expires_at: float) -> str:
    """The `requestState` of one form question (sealed by the SDK): this call's digest, a nonce of this question
    alone, and when its answer stops counting."""
    return f"{_STATE_PREFIX}:{digest}:{secrets.token_urlsafe(16)}:{int(expires_at)}"


def _answered_question(state: str | None, digest: str) -> tuple[str, float] | None:
    """(nonce, expiry) of the question this retry answers, if it was asked for this very call and is unexpired."""
    parts = (state or "").split(":")
    if len(parts) != 4 or parts[0] != _STATE_PREFIX or parts[1] != digest or not parts[3].isdigit():
        return None  # another step's state (an authorization's), or another call's: ask
    expires_at = float(parts[3])
    return (parts[2], expires_at) if time.time() < expires_at else None


def _is_yes(response: Any) -> bool:
    return (
        isinstance(response, ElicitResult)
        and response.action == "accept"
        and (response.content or {}).get("approve") is True
    )


def _event(outcome: str) -> str:
    return "approval.granted" if outcome == "granted" else "approval.declined"


def _declined(definition: ToolDefinition, verb: str, where: str = "") -> str:
    return f"The user {verb} {definition.api_name}{where}, so it did not run. Do not retry it unless they ask again."


def _refused(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
