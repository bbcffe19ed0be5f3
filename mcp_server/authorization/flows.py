"""The flow side of authorization: from "authorization required" to a stored connection.

- `start_flow` / `redirect` / `complete` run the authorization code flow: an opaque flow record handed out as
  `<public_url>/connect/<flow id>`, bound to the first browser that opens it (a cookie of its own, see
  `browser_binding.py`), state and PKCE made when that browser arrives, the callback exchanging the code once and
  only in that browser (the exchange: `exchange.py`).
- `start_secret_flow` / `submit_secret` do the same for a secret the user types on a page of ours.
- With user verification (`verification.py`) what the browser obtained is held until the person is shown to be
  the flow's user.
- `wait` lets a blocked call (or an API long-poll) sleep until the callback lands, in this process or another.
"""

from __future__ import annotations

import logging
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from mcp_server.authorization.browser_binding import BrowserBinding
from mcp_server.authorization.connections import ConnectionService
from mcp_server.authorization.errors import FlowRefused, FlowUnavailable
from mcp_server.authorization.exchange import CodeExchange, Landing
from mcp_server.authorization.maintenance import log_background_failure
from mcp_server.authorization.verification import Mode, VerificationSteps
from mcp_server.errors import ServerStopping
from mcp_server.observability.audit import flow_ref
from mcp_server.observability.telemetry import traced
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.providers.id_tokens import IdTokens
from mcp_server.toolkit.tool import OAuth2
from mcp_server.vault import DecryptionError, Flow
from mcp_server.vault.flow_records import OPEN_STATUSES, ApprovalFlow, ConsentFlow, SecretFlow, audited_as

__all__ = ["FlowService"]

logger = logging.getLogger(__name__)

MAX_FLOW_SCOPES = 100  # scopes one flow may ask for
MAX_FLOW_SCOPE_CHARS = 4096  # their total length
WITHDRAWN = (
    "This link was withdrawn: another program took the port of authmcp's pages. Go back to your app and try the "
    "tool again."
)


class FlowService(CodeExchange, VerificationSteps, BrowserBinding):
    def __init__(
        self,
        *,
        connections: ConnectionService,
        public_url: str,
        flow_ttl: float = 600.0,
        http_timeout: float = 10.0,
        verification: Mode = "none",
        verifier_url: str | None = None,
        idp: Provider | None = None,
        idp_tokens: IdTokens | None = None,
        max_open_flows: int = 20,
        retention_seconds: float = 7 * 86400.0,
        pages_ready: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.connections = connections
        self.vault = connections.vault
        self.audit = connections.audit
        self.providers: ProviderRegistry = connections.providers
        self.public_url = public_url.rstrip("/")
        self.flow_ttl = flow_ttl
        self.http_timeout = http_timeout
        self.verification = verification
        self.verifier_url = verifier_url if verification == "custom" else None
        self.idp = idp if verification == "idp" else None
        self.idp_tokens = idp_tokens if self.idp is not None else None  # an OpenID issuer: its ID tokens
        self.max_open_flows = max_open_flows
        self.retention_seconds = retention_seconds
        # raises PagesUnavailable when the pages' port is held by a program that is not ours (shared_pages.py)
        self.pages_ready = pages_ready
        # a cookie set by an https public URL gets the __Host- prefix: Secure, Path=/, no Domain (RFC 6265bis)
        self.secure_cookies = self.public_url.startswith("https://")
        # both removed when the flow finishes; a waiter's entry also when its last waiter leaves, a notice's when
        # its session is gone or its flow expired (see `on_complete`), so neither outgrows what is live
        self._waiters: dict[str, _Waiting] = {}
        self._stopping = False  # set by `stop_waiting`: the process shuts down
        self._on_complete: dict[str, list[_Notice]] = {}
        # flows finished by other processes on the same database (replicas): wake our waiters too
        self.vault.notices.subscribe(self._finished_elsewhere, self._recheck_waiters)

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/oauth/callback"

    def connect_url(self, flow: Flow) -> str:
        """The link a person opens for this flow: a consent or secret page, or an approval page."""
        return f"{self.public_url}/{'approve' if isinstance(flow, ApprovalFlow) else 'connect'}/{flow.id}"

    async def link(self, flow: Flow) -> str:
        """`connect_url(flow)` to hand out to a person, once the pages it leads to are known to be ours.

        Raises:
            PagesUnavailable: The pages' port is held by a program that did not prove to be authmcp.
        """
        if self.pages_ready is not None:
            await self.pages_ready()
        return self.connect_url(flow)

    async def withdraw_links(self) -> int:
        """Fail every open flow: the pages their links lead to are held by another program. Returns how many."""
        withdrawn = await self.vault.fail_open_flows(WITHDRAWN)
        for flow_id in withdrawn:
            logger.info("flow %s withdrawn: its link leads to a port another program holds", flow_ref(flow_id))
            await self.finish(flow_id)
        return len(withdrawn)

    def done_url(self, flow: Flow) -> str:
        """Where the flow's browser reads how it went (an approval's own page tells that itself)."""
        if isinstance(flow, ApprovalFlow):
            return self.connect_url(flow)
        return f"{self.public_url}/connect/{flow.id}/done"

    def provider(self, provider_id: str) -> Provider:
        return self.connections.provider(provider_id)

    # ---------------------------------------------------------------- starting

    @traced("authmcp.flow.start")
    async def start_flow(self, user_id: str, requirement: OAuth2) -> ConsentFlow:
        """A pending flow asking for what the tool needs plus what the user already granted (incremental).

        An unexpired pending flow for the same scopes that no browser has opened is handed out again.

        Raises:
            ProviderNotConfigured: The provider has no OAuth app configured.
            FlowRefused: Too many scopes, or too long in all.
        """
        provider = self.provider(requirement.id)
        granted: tuple[str, ...] = ()
        try:
            existing = await self.vault.get_connection(user_id, requirement.id)
            granted = existing.scopes if existing else ()
        except DecryptionError:
            pass
        scopes = tuple(dict.fromkeys((*provider.scopes, *granted, *requirement.scopes)))
        if len(scopes) > MAX_FLOW_SCOPES or sum(len(s) + 1 for s in scopes) > MAX_FLOW_SCOPE_CHARS:
            raise FlowRefused(
                f"An authorization may ask for at most {MAX_FLOW_SCOPES} scopes of {MAX_FLOW_SCOPE_CHARS} characters "
                f"in all; ask for fewer."
            )
        flow = await self.vault.find_pending_flow(user_id, requirement.id, scopes)
        if flow is None:
            flow = await self._create(user_id, requirement.id, scopes, kind=ConsentFlow.kind)
        assert isinstance(flow, ConsentFlow)
        return flow

    @traced("authmcp.flow.start_secret")
    async def start_secret_flow(self, user_id: str, name: str, tool: str | None = None) -> SecretFlow:
        """A pending flow whose link opens a page of ours where the user types the secret's value."""
        flow = await self.vault.find_pending_flow(user_id, name, (), kind=SecretFlow.kind)
        if flow is None:
            flow = await self._create(user_id, name, (), kind=SecretFlow.kind, tool=tool)
        assert isinstance(flow, SecretFlow)
        return flow

    async def _create(
        self, user_id: str, provider_id: str, scopes: tuple[str, ...], *, kind: str, tool: str | None = None
    ) -> Flow:
        # at most max_open_flows open per user: the oldest make room, and their links say they were replaced
        for replaced in await self.vault.replace_oldest_flows(user_id, keep=self.max_open_flows - 1):
            logger.info("flow %s replaced by a newer one (user %r)", flow_ref(replaced), user_id)
            await self.finish(replaced)
        flow = await self.vault.create_flow(
            secrets.token_urlsafe(24), user_id, provider_id, scopes, ttl=self.flow_ttl, kind=kind, tool=tool
        )
        logger.info("flow %s started: user %r, %s %s", flow_ref(flow.id), user_id, kind, provider_id)
        if kind == SecretFlow.kind:
            self.audit.record(
                "secret.requested", user_id=user_id, provider_id=provider_id, flow_ref=flow_ref(flow.id), actor="user"
            )
        else:
            self.audit.record(
                "authorization.started",
                user_id=user_id,
                provider_id=provider_id,
                scopes=" ".join(scopes),
                flow_ref=flow_ref(flow.id),
                actor="user",
            )
        return flow

    def audit_failure(self, flow: Flow, reason: str, error_kind: str | None = None) -> None:
        """Record that the flow failed. `reason` is always our own words (CallbackError messages never carry a
        provider's text)."""
        if isinstance(flow, ApprovalFlow):  # its verification failed: the call was not approved
            self.audit.record(
                "approval.declined",
                user_id=flow.user_id,
                tool=flow.tool,
                flow_ref=flow_ref(flow.id),
                actor="user",
                outcome="failed",
                error_kind=error_kind,
                detail=reason,
            )
            return
        self.audit.record(
            "authorization.failed",
            user_id=flow.user_id,
            provider_id=audited_as(flow),
            flow_ref=flow_ref(flow.id),
            outcome="failed",
            error_kind=error_kind,
            detail=reason,
        )

    async def _resolve(self, flow: Flow) -> Flow:
        """`flow`, failed first if it is stuck in its exchange past the bound (its process died mid-exchange)."""
        if flow.status != "exchanging" or not await self.vault.fail_orphaned_flows(
            self.connections.exchange_bound, flow.id
        ):
            return flow
        logger.warning("flow %s was left mid-exchange by a process that stopped; failed", flow_ref(flow.id))
        self.audit_failure(flow, "the process completing it stopped mid-exchange")
        await self.finish(flow.id)
        return await self.vault.get_flow(flow.id) or flow

    @traced("authmcp.flow.submit_secret")
    async def submit_secret(self, flow_id: str, value: str) -> Landing:
        """The value typed on a secret flow's page: stored encrypted at once, or held until the user is verified.

        Raises:
            FlowUnavailable: The flow is not a pending secret flow any more.
            CallbackError: It expired meanwhile.
        """
        flow = await self.vault.get_flow(flow_id)
        if not isinstance(flow, SecretFlow) or flow.status != "pending" or flow.is_expired(time.time()):
            raise FlowUnavailable("This link has expired or was already used. Go back to your app and try again.")
        if self.verifies_users:
            return Landing(flow, await self.hold_for_verification(flow, {"secret": value}, from_status="pending"))
        await self.store_secret(flow.id, value, from_status="pending")
        return Landing(flow, f"/connect/{flow.id}/done")

    async def store_secret(self, flow_id: str, value: str, *, from_status: str) -> SecretFlow:
        """Store the typed secret (encrypted) for the flow's user, and finish the flow.

        Raises:
            FlowUnavailable: The flow is no longer in `from_status` (expired, or used meanwhile).
        """
        flow = await self.vault.complete_secret_flow(flow_id, value, from_status=from_status)
        if flow is None:
            raise FlowUnavailable("This link has expired or was already used. Go back to your app and try again.")
        self.connections.forget_secret(flow.user_id, flow.name)
        logger.info("flow %s completed: user %r stored secret %s", flow_ref(flow.id), flow.user_id, flow.name)
        self.audit.record(
            "secret.set",
            user_id=flow.user_id,
            provider_id=flow.name,
            flow_ref=flow_ref(flow.id),
            actor="user",
            outcome="ok",
        )
        await self.finish(flow.id)
        return flow

    async def purge(self) -> int:
        """Delete the flows that finished more than the retention period ago (run by the maintenance loop)."""
        purged = await self.vault.purge_flows(time.time() - self.retention_seconds)
        if purged:
            logger.info("%d finished authorization flow(s) deleted after the retention period", purged)
        return purged

    async def maintain(self, interval: float) -> None:
        """Run forever beside the connection side's maintenance: purge old flows every `interval` seconds."""
        failures = 0
        while True:
            try:
                self.drop_expired_notices(time.time())
                await self.purge()
                failures, delay = 0, interval
            except Exception as exc:  # the database away for now, or a bug: say so, back off, keep serving
                failures += 1
                delay = min(2.0**failures, interval)
                log_background_failure("flow maintenance", exc, delay)
            await anyio.sleep(delay)

    # ---------------------------------------------------------------- waiting

    async def finish(self, flow_id: str) -> None:
        """Wake whoever waits on this flow and run the completion callbacks (e.g. elicitation/complete)."""
        waiting = self._waiters.pop(flow_id, None)
        if waiting is not None:
            waiting.event.set()
        for notice in self._on_complete.pop(flow_id, []):
            session = notice.session()
            if session is None:
                continue
            try:
                await notice.notify(session)
            except Exception as exc:  # the client went away; the notice is advisory
                logger.info("completion notice for flow %s not delivered: %s", flow_ref(flow_id), type(exc).__name__)

    async def _finished_elsewhere(self, flow_id: str) -> None:
        """Another process finished a flow: drop what this one cached for it, then wake its waiters here.

        Only what the vault shows counts: a notice of a flow still open there (repeated, or forged on a channel
        another program can write to) moves nothing, so a client never hears "complete" early."""
        flow = await self.vault.get_flow(flow_id)  # one read per finished flow, so a replica never answers
        # from a connection it cached before the user granted more
        if flow is not None and flow.status in OPEN_STATUSES:
            logger.info("a notice said flow %s finished, but the vault shows it open; ignored", flow_ref(flow_id))
            return
        if isinstance(flow, ConsentFlow):
            self.connections.forget(flow.user_id, flow.provider_id)
        elif isinstance(flow, SecretFlow):
            self.connections.forget_secret(flow.user_id, flow.name)
        await self.finish(flow_id)

    async def _recheck_waiters(self) -> None:
        """Notices from other processes may have been missed (a lost LISTEN connection): re-read the flows."""
        for flow_id in [*self._waiters, *self._on_complete]:
            flow = await self.vault.get_flow(flow_id)
            if flow is None or flow.status not in OPEN_STATUSES:
                await self._finished_elsewhere(flow_id)

    def on_complete(self, flow: Flow, session: object, notify: Callable[[Any], Awaitable[None]]) -> None:
        """Run `notify(session)` when the flow finishes. Held by a weak reference to `session`: the notice goes
        when the session object does (its client closed it), or when the flow expires (`drop_expired_notices`)."""
        flow_id = flow.id
        if any(n.session() is session for n in self._on_complete.get(flow_id, [])):
            return  # the session asked again for the same flow: one notice is enough

        def session_ended(ref: weakref.ref[Any]) -> None:
            kept = [n for n in self._on_complete.get(flow_id, []) if n.session is not ref]
            if kept:
                self._on_complete[flow_id] = kept
            else:
                self._on_complete.pop(flow_id, None)

        notice = _Notice(weakref.ref(session, session_ended), notify, flow.expires_at)
        self._on_complete.setdefault(flow_id, []).append(notice)

    def drop_expired_notices(self, now: float) -> None:
        """Forget the completion notices of flows past their expiry: those flows can no longer finish."""
        for flow_id in [f for f, notices in self._on_complete.items() if notices[0].expires_at <= now]:
            del self._on_complete[flow_id]

    @traced("authmcp.flow.wait")
    async def wait(self, flow_id: str, timeout: float) -> Flow | None:
        """Wait until the flow finishes (in this process or another on the same database) or `timeout` passes;
        returns the flow as it then is."""
        waiting = self._waiters.setdefault(flow_id, _Waiting())  # before reading: a finish in between wakes us
        waiting.count += 1
        try:
            return await self._wait(flow_id, waiting, timeout)
        finally:
            waiting.count -= 1
            waiting.parked.discard(anyio.get_current_task().id)
            if waiting.count == 0 and self._waiters.get(flow_id) is waiting:
                del self._waiters[flow_id]

    def stop_waiting(self) -> None:
        """The process stops: every call waiting on a flow (and any that would start to) is told to retry."""
        self._stopping = True
        for waiting in self._waiters.values():
            waiting.event.set()

    async def _wait(self, flow_id: str, waiting: _Waiting, timeout: float) -> Flow | None:
        event = waiting.event
        flow = await self.vault.get_flow(flow_id)
        if flow is None or flow.status in ("completed", "failed"):
            if self._waiters.get(flow_id) is waiting:
                del self._waiters[flow_id]
                event.set()  # anyone else on it re-reads the flow too
            return flow
        until = time.monotonic() + min(timeout, max(0.0, flow.expires_at - time.time()))
        # a flow orphaned mid-exchange is failed by whoever looks: wake now and then to look
        look_every = max(1.0, self.connections.exchange_bound / 4)
        waiting.parked.add(anyio.get_current_task().id)
        logger.debug("waiting for flow %s", flow_ref(flow_id))  # what tests of other processes wait for
        while not event.is_set() and not self._stopping and time.monotonic() < until:
            with anyio.move_on_after(min(look_every, until - time.monotonic())):
                await event.wait()
            if not event.is_set():
                latest = await self.flow_status(flow_id)
                if latest is None or latest.status in ("completed", "failed"):
                    return latest
        flow = await self.vault.get_flow(flow_id)
        if self._stopping and (flow is None or flow.status not in ("completed", "failed")):
            raise ServerStopping("This server is restarting and stopped waiting for the authorization")
        return flow

    def waiting(self, flow_id: str) -> int:
        """How many calls here wait on the flow past their first read of it, asleep until it finishes: what a
        test waits for before finishing the flow, so that the wake-up, not that read, is what it sees."""
        waiting = self._waiters.get(flow_id)
        return len(waiting.parked) if waiting is not None else 0

    async def flow_status(self, flow_id: str) -> Flow | None:
        flow = await self.vault.get_flow(flow_id)
        return await self._resolve(flow) if flow is not None else None


@dataclass
class _Waiting:
    event: anyio.Event = field(default_factory=anyio.Event)
    count: int = 0  # tasks in `wait` on it
    parked: set[int] = field(default_factory=set)  # of those, the ones asleep on `event` (see `waiting`)


@dataclass
class _Notice:
    session: weakref.ref[Any]
    notify: Callable[[Any], Awaitable[None]]
    expires_at: float  # the flow's
