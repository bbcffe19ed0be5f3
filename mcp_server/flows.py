"""The flow side of authorization: from "authorization required" to a stored connection.

- `start_flow` / `redirect` / `complete` run the authorization code flow: an opaque flow record handed out as
  `<public_url>/connect/<flow id>`, state and PKCE made when the browser arrives, the callback exchanging
  the code once.
- `start_secret_flow` / `submit_secret` do the same for a secret the user types on a page of ours.
- `confirm_user` binds held tokens once the application's verifier says who is in the browser.
- `wait` lets a blocked call (or an API long-poll) sleep until the callback lands, in this process or another.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn
from urllib.parse import urlencode

import anyio

from mcp_server.telemetry import traced
from mcp_server.audit import flow_ref
from mcp_server.connections import ConnectionService
from mcp_server.declare import OAuth2
from mcp_server.errors import AuthmcpError, OAuthError, ProviderUnavailable
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.providers import oauth2
from mcp_server.vault import DecryptionError, Flow

__all__ = ["CallbackError", "FlowService", "FlowUnavailable", "UserMismatch"]

logger = logging.getLogger(__name__)


class FlowUnavailable(AuthmcpError):
    """A `/connect/<id>` link that is unknown, finished or expired."""


class UserMismatch(AuthmcpError):
    """User verification named someone other than the flow's user."""


class CallbackError(AuthmcpError):
    """The provider's redirect back to us cannot complete a flow. `status` is the HTTP status to answer."""

    def __init__(self, message: str, *, status: int = 400, flow_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.flow_id = flow_id


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class FlowService:
    def __init__(
        self,
        *,
        connections: ConnectionService,
        public_url: str,
        flow_ttl: float = 600.0,
        http_timeout: float = 10.0,
        verifier_url: str | None = None,
    ) -> None:
        self.connections = connections
        self.vault = connections.vault
        self.audit = connections.audit
        self.providers: ProviderRegistry = connections.providers
        self.public_url = public_url.rstrip("/")
        self.flow_ttl = flow_ttl
        self.http_timeout = http_timeout
        self.verifier_url = verifier_url
        self._waiters: dict[str, anyio.Event] = {}
        self._on_complete: dict[str, list[Callable[[], Awaitable[None]]]] = {}
        # flows finished by other processes on the same database (replicas): wake our waiters too
        self.vault.notices.subscribe(self._finished_elsewhere, self._recheck_waiters)

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/oauth/callback"

    def connect_url(self, flow: Flow) -> str:
        """The link a person opens for this flow: a consent or secret page, or an approval page."""
        return f"{self.public_url}/{'approve' if flow.kind == 'approval' else 'connect'}/{flow.id}"

    def provider(self, provider_id: str) -> Provider:
        return self.connections.provider(provider_id)

    @traced("authmcp.flow.start")
    async def start_flow(self, user_id: str, requirement: OAuth2) -> Flow:
        """A pending flow asking for what the tool needs plus what the user already granted (incremental).

        An unexpired pending flow for the same scopes is handed out again rather than starting another.

        Raises:
            ProviderNotConfigured: The provider has no OAuth app configured.
        """
        provider = self.provider(requirement.id)
        granted: tuple[str, ...] = ()
        try:
            existing = await self.vault.get_connection(user_id, requirement.id)
            granted = existing.scopes if existing else ()
        except DecryptionError:
            pass
        scopes = tuple(dict.fromkeys((*provider.scopes, *granted, *requirement.scopes)))
        flow = await self.vault.find_pending_flow(user_id, requirement.id, scopes)
        if flow is None:
            flow = await self.vault.create_flow(
                secrets.token_urlsafe(24), user_id, requirement.id, scopes, ttl=self.flow_ttl
            )
            logger.info("flow %s started: user %r, provider %s", flow.id, user_id, requirement.id)
            self.audit.record(
                "authorization.started", user_id=user_id, provider_id=requirement.id, scopes=" ".join(scopes),
                flow_ref=flow_ref(flow.id), actor="user",
            )
        return flow

    @traced("authmcp.flow.start_secret")
    async def start_secret_flow(self, user_id: str, name: str) -> Flow:
        """A pending flow whose link opens a page of ours where the user types the secret's value."""
        flow = await self.vault.find_pending_flow(user_id, name, (), kind="secret")
        if flow is None:
            flow = await self.vault.create_flow(
                secrets.token_urlsafe(24), user_id, name, (), ttl=self.flow_ttl, kind="secret"
            )
            logger.info("flow %s started: user %r, secret %s", flow.id, user_id, name)
            self.audit.record(
                "secret.requested", user_id=user_id, provider_id=name, flow_ref=flow_ref(flow.id), actor="user"
            )
        return flow

    @traced("authmcp.flow.submit_secret")
    async def submit_secret(self, flow_id: str, value: str) -> Flow:
        """Store the value typed on a secret flow's page, encrypted, and complete the flow.

        Raises:
            FlowUnavailable: The flow is unknown, not a secret flow, finished, or expired.
        """
        flow = await self.vault.complete_secret_flow(flow_id, value)
        if flow is None:
            raise FlowUnavailable("This link has expired or was already used. Go back to your app and try again.")
        self.connections.forget_secret(flow.user_id, flow.provider_id)
        logger.info("flow %s completed: user %r stored secret %s", flow.id, flow.user_id, flow.provider_id)
        self.audit.record(
            "secret.set", user_id=flow.user_id, provider_id=flow.provider_id, flow_ref=flow_ref(flow.id), actor="user",
            outcome="ok",
        )
        await self._finish(flow.id)
        return flow

    @traced("authmcp.flow.redirect")
    async def redirect(self, flow_id: str) -> str:
        """The provider URL for a browser arriving at `/connect/<flow id>`, with fresh state and PKCE.

        Raises:
            FlowUnavailable: The flow is unknown, already finished, or expired.
        """
        flow = await self.vault.get_flow(flow_id)
        if flow is None or flow.kind != "oauth":
            raise FlowUnavailable("This authorization link is not known. Go back to your app and try the tool again.")
        if flow.status == "completed":
            raise FlowUnavailable("This authorization is already complete. You can close this tab.")
        if flow.status != "pending" or flow.is_expired(time.time()):
            raise FlowUnavailable("This authorization link has expired. Go back to your app and try the tool again.")
        provider = self.provider(flow.provider_id)
        state = secrets.token_urlsafe(32)  # 256 bits, single use, stored only as a hash
        code_verifier = secrets.token_urlsafe(64)  # 86 characters (RFC 7636 §4.1: 43 to 128)
        if not await self.vault.arm_flow(flow.id, hash_state(state), code_verifier):
            raise FlowUnavailable("This authorization link has expired. Go back to your app and try the tool again.")
        return oauth2.authorization_url(
            provider, redirect_uri=self.redirect_uri, scopes=flow.scopes, state=state, code_verifier=code_verifier
        )

    @traced("authmcp.flow.callback")
    async def complete(self, params: Mapping[str, str]) -> Flow:
        """Handle the provider's redirect to `/oauth/callback`: check state, exchange the code once, store.

        Raises:
            CallbackError: What went wrong, in words for the person in the browser.
        """
        state = params.get("state")
        if not state:
            raise CallbackError("The response from the provider has no state. Start again from your app.")
        flow = await self.vault.claim_flow(hash_state(state))
        if flow is None:
            return await self._repeated_callback(hash_state(state))
        try:
            return await self._exchange(flow, params)
        except CallbackError as exc:
            await self.vault.fail_flow(flow.id, str(exc))
            self._audit_failure(flow, str(exc))
            await self._finish(flow.id)
            raise
        except Exception as exc:
            await self.vault.fail_flow(flow.id, "authmcp failed while completing the authorization")
            self._audit_failure(flow, "authmcp failed while completing the authorization", type(exc).__name__)
            await self._finish(flow.id)
            raise

    def _audit_failure(self, flow: Flow, reason: str, error_kind: str | None = None) -> None:
        # `reason` is always our own words (CallbackError messages never carry a provider's text)
        self.audit.record(
            "authorization.failed", user_id=flow.user_id, provider_id=flow.provider_id, flow_ref=flow_ref(flow.id),
            outcome="failed", error_kind=error_kind, detail=reason,
        )

    async def _repeated_callback(self, state_hash: str) -> NoReturn:
        """A callback whose flow was already claimed (a reload, a retry after a crash): say where it stands."""
        flow = await self.vault.flow_by_state(state_hash)
        if flow is not None:
            flow = await self._resolve(flow)
        if flow is not None and flow.status == "failed":
            raise CallbackError(flow.error or "This authorization did not complete. Start again from your app.")
        if flow is not None and flow.status == "exchanging":
            raise CallbackError(
                "This authorization is still being completed. Wait a moment, then reload this page.", status=409
            )
        raise CallbackError(
            "This authorization response is unknown, already used, or expired. Start again from your app."
        )

    async def _resolve(self, flow: Flow) -> Flow:
        """`flow`, failed first if it is stuck in its exchange past the bound (its process died mid-exchange)."""
        if flow.status != "exchanging" or not await self.vault.fail_orphaned_flows(
            self.connections.exchange_bound, flow.id
        ):
            return flow
        logger.warning("flow %s was left mid-exchange by a process that stopped; failed", flow.id)
        self._audit_failure(flow, "the process completing it stopped mid-exchange")
        await self._finish(flow.id)
        return await self.vault.get_flow(flow.id) or flow

    async def _exchange(self, flow: Flow, params: Mapping[str, str]) -> Flow:
        provider = self.provider(flow.provider_id)
        # RFC 9207: a mismatched issuer means the response came from another provider (mix-up, RFC 9700 §4.4).
        issuer = params.get("iss")
        if issuer is not None and provider.issuer is not None and issuer != provider.issuer:
            raise CallbackError(f"The response did not come from {provider.name}.", flow_id=flow.id)
        error = params.get("error")
        if error:
            if error == "access_denied":
                raise CallbackError(f"Access to {provider.name} was declined. Nothing was stored.", flow_id=flow.id)
            raise CallbackError(f"{provider.name} could not authorize this request ({_code(error)}).", flow_id=flow.id)
        code = params.get("code")
        if not code:
            raise CallbackError(f"{provider.name} sent no authorization code.", flow_id=flow.id)
        assert flow.code_verifier is not None
        try:
            tokens = await oauth2.exchange_code(
                provider,
                code=code,
                redirect_uri=self.redirect_uri,
                code_verifier=flow.code_verifier,
                timeout=self.http_timeout,
            )
        except OAuthError as exc:
            raise CallbackError(f"{exc.description} ({exc.error}). Start again from your app.", flow_id=flow.id) from None
        except ProviderUnavailable as exc:
            raise CallbackError(f"{exc}. Start again from your app.", status=502, flow_id=flow.id) from None
        user_info = await oauth2.fetch_user_info(provider, access_token=tokens.access_token, timeout=self.http_timeout)
        previous = None
        try:
            previous = await self.vault.get_connection(flow.user_id, flow.provider_id)
        except DecryptionError:
            pass
        connection = {
            "access_token": tokens.access_token,
            # a re-authorization may come without a refresh token (RFC 6749 §4.1.4 makes it optional)
            "refresh_token": tokens.refresh_token or (previous.refresh_token if previous else None),
            "token_type": tokens.token_type,
            "expires_at": tokens.expires_at,
            "scopes": list(tokens.scopes if tokens.scopes is not None else flow.scopes),
            "user_info": user_info,
            "token_extras": tokens.extras,
        }
        if self.verifier_url is not None:
            # Whoever is in this browser must be shown to be the flow's user before anything is bound to them.
            if not await self.vault.hold_tokens(flow.id, json.dumps(connection)):
                raise CallbackError("This authorization expired while it was being completed.", flow_id=flow.id)
            logger.info("flow %s: tokens held until the user is verified", flow.id)
        else:
            await self._bind(flow, connection)
        done = await self.vault.get_flow(flow.id)
        assert done is not None
        return done

    async def _bind(self, flow: Flow, connection: dict[str, Any]) -> None:
        saved = await self.vault.complete_flow(flow, **connection)
        self.connections.remember(saved)
        logger.info("flow %s completed: user %r connected to %s", flow.id, flow.user_id, flow.provider_id)
        self.audit.record(
            "authorization.completed", user_id=flow.user_id, provider_id=flow.provider_id,
            scopes=" ".join(saved.scopes), flow_ref=flow_ref(flow.id), actor="user", outcome="ok",
        )
        await self._finish(flow.id)

    def verifier_redirect(self, flow: Flow) -> str:
        """Where the browser goes after consent when users are verified: the application's verifier page."""
        assert self.verifier_url is not None
        separator = "&" if "?" in self.verifier_url else "?"
        return f"{self.verifier_url}{separator}{urlencode({'flow_id': flow.id})}"

    @traced("authmcp.flow.confirm_user")
    async def confirm_user(self, flow_id: str, user_id: str) -> Flow:
        """The application says who is in the browser; bind the held tokens only if it is the flow's user.

        Raises:
            FlowUnavailable: The flow is unknown, expired, or not waiting for verification.
            UserMismatch: Another user finished the flow; it is failed and nothing is bound.
        """
        flow = await self.vault.get_flow(flow_id)
        if flow is None:
            raise FlowUnavailable("No authorization flow has this id.")
        if flow.status == "completed" and flow.user_id == user_id:
            return flow
        if flow.status != "awaiting_verification" or flow.is_expired(time.time()):
            raise FlowUnavailable(f"This authorization is not waiting for verification (it is {flow.status}).")
        if flow.user_id != user_id:
            await self.vault.fail_flow(flow.id, "The person who authorized is not the user this link was made for.")
            await self._finish(flow.id)
            logger.warning("flow %s: verification named another user; nothing was bound", flow.id)
            self._audit_failure(flow, "the verified user is not the user this authorization was started for")
            raise UserMismatch("The verified user is not the user this authorization was started for.")
        released = await self.vault.release_held_tokens(flow.id)
        if released is None:
            raise FlowUnavailable("This authorization is not waiting for verification any more.")
        held_flow, payload = released
        self.audit.record(
            "authorization.verified", user_id=flow.user_id, provider_id=flow.provider_id, flow_ref=flow_ref(flow.id),
            actor="user", outcome="ok",
        )
        await self._bind(held_flow, json.loads(payload))
        done = await self.vault.get_flow(flow.id)
        assert done is not None
        return done

    async def _finish(self, flow_id: str) -> None:
        """Wake whoever waits on this flow and run the completion callbacks (e.g. elicitation/complete)."""
        event = self._waiters.pop(flow_id, None)
        if event is not None:
            event.set()
        for callback in self._on_complete.pop(flow_id, []):
            try:
                await callback()
            except Exception as exc:  # the client went away; the notice is advisory
                logger.info("completion notice for flow %s not delivered: %s", flow_id, type(exc).__name__)

    async def _finished_elsewhere(self, flow_id: str) -> None:
        """Another process finished a flow: drop what this one cached for it, then wake its waiters here."""
        flow = await self.vault.get_flow(flow_id)  # one read per finished flow, so a replica never answers
        # from a connection it cached before the user granted more
        if flow is not None:
            self.connections.forget(flow.user_id, flow.provider_id)
            self.connections.forget_secret(flow.user_id, flow.provider_id)
        await self._finish(flow_id)

    async def _recheck_waiters(self) -> None:
        """Notices from other processes may have been missed (a lost LISTEN connection): re-read the flows."""
        for flow_id in [*self._waiters, *self._on_complete]:
            flow = await self.vault.get_flow(flow_id)
            if flow is None or flow.status in ("completed", "failed"):
                await self._finished_elsewhere(flow_id)

    def on_complete(self, flow_id: str, callback: Callable[[], Awaitable[None]]) -> None:
        self._on_complete.setdefault(flow_id, []).append(callback)

    @traced("authmcp.flow.wait")
    async def wait(self, flow_id: str, timeout: float) -> Flow | None:
        """Wait until the flow finishes (in this process or another on the same database) or `timeout` passes;
        returns the flow as it then is."""
        event = self._waiters.setdefault(flow_id, anyio.Event())  # before reading: a finish in between wakes us
        flow = await self.vault.get_flow(flow_id)
        if flow is None or flow.status in ("completed", "failed"):
            if self._waiters.get(flow_id) is event:
                del self._waiters[flow_id]
                event.set()  # anyone else on it re-reads the flow too
            return flow
        until = time.monotonic() + min(timeout, max(0.0, flow.expires_at - time.time()))
        # a flow orphaned mid-exchange is failed by whoever looks: wake now and then to look
        look_every = max(1.0, self.connections.exchange_bound / 4)
        while not event.is_set() and time.monotonic() < until:
            with anyio.move_on_after(min(look_every, until - time.monotonic())):
                await event.wait()
            if not event.is_set():
                latest = await self.flow_status(flow_id)
                if latest is None or latest.status in ("completed", "failed"):
                    return latest
        return await self.vault.get_flow(flow_id)

    async def flow_status(self, flow_id: str) -> Flow | None:
        flow = await self.vault.get_flow(flow_id)
        return await self._resolve(flow) if flow is not None else None


def _code(error: str) -> str:
    """A provider's error code, shown only if it looks like one (never reflect arbitrary input)."""
    return error if error.replace("_", "").isalnum() and len(error) <= 64 else "unknown error"
