"""The authorization service: one implementation of "check, authorize, wait" for every front door.

- `connection_for` answers, on every tool call, whether the user has a usable connection: from an in-memory
  view first (no database round trip on the hot path), refreshing a stale token single-flight.
- `start_flow` / `redirect` / `complete` run the authorization code flow: an opaque flow record handed out as
  `<public_url>/connect/<flow id>`, state and PKCE made when the browser arrives, the callback exchanging
  the code once.
- `wait` lets a blocked call (or an API long-poll) sleep until the callback lands.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import anyio

from mcp_server.declare import OAuth2
from mcp_server.errors import AuthmcpError, ConfigError, OAuthError, ProviderUnavailable
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.providers import oauth2
from mcp_server.vault import Connection, DecryptionError, Flow, Vault

__all__ = ["AuthorizationService", "CallbackError", "FlowUnavailable", "ProviderNotConfigured", "UserMismatch"]

logger = logging.getLogger(__name__)

STALE_LEEWAY_SECONDS = 60.0  # a token this close to expiry is refreshed before use
TOUCH_INTERVAL_SECONDS = 60.0  # how often a connection's "last used" time is written


class ProviderNotConfigured(ConfigError):
    """A tool needs a provider whose OAuth app is not configured on this server."""


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


@dataclass
class _Cached:
    connection: Connection
    valid_until: float  # monotonic time after which the database is asked again


class AuthorizationService:
    def __init__(
        self,
        *,
        vault: Vault,
        providers: ProviderRegistry,
        public_url: str,
        flow_ttl: float = 600.0,
        http_timeout: float = 10.0,
        cache_seconds: float = 5.0,
        verifier_url: str | None = None,
        revocation_retry_seconds: float = 60.0,
    ) -> None:
        self.vault = vault
        self.providers = providers
        self.public_url = public_url.rstrip("/")
        self.flow_ttl = flow_ttl
        self.http_timeout = http_timeout
        self.cache_seconds = cache_seconds
        self.verifier_url = verifier_url
        self.revocation_retry_seconds = revocation_retry_seconds
        self._cache: dict[tuple[str, str], _Cached] = {}
        self._refresh_locks: dict[tuple[str, str], anyio.Lock] = {}
        self._waiters: dict[str, anyio.Event] = {}
        self._on_complete: dict[str, list[Callable[[], Awaitable[None]]]] = {}
        self._last_touch: dict[tuple[str, str], float] = {}
        self._secret_cache: dict[tuple[str, str], tuple[str, float]] = {}
        self._lease_owner = secrets.token_hex(16)  # this process, as a refresh lease holder
        # flows finished by other processes on the same database (replicas): wake our waiters too
        vault.notices.subscribe(self._finished_elsewhere, self._recheck_waiters)

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/oauth/callback"

    def connect_url(self, flow: Flow) -> str:
        return f"{self.public_url}/connect/{flow.id}"

    def provider(self, provider_id: str) -> Provider:
        provider = self.providers.get(provider_id)
        if provider is None:  # the catalog refuses such tools at load time
            raise ProviderNotConfigured(f"Provider {provider_id!r} is not known to this server.")
        if provider.missing_settings():
            raise ProviderNotConfigured(provider.how_to_configure())
        return provider

    # ---------------------------------------------------------------- the per-call check

    async def connection_for(self, user_id: str, requirement: OAuth2) -> Connection | None:
        """The user's usable connection for `requirement`, refreshed if stale; None means "authorize first".

        Raises:
            ProviderUnavailable: A needed refresh could not reach the provider (an outage, not a revocation).
            OAuthError: The provider refused the refresh for a reason other than `invalid_grant`.
        """
        key = (user_id, requirement.id)
        cached = self._cache.get(key)
        connection = cached.connection if cached and cached.valid_until > time.monotonic() else await self._load(key)
        if connection is None or connection.status != "active" or not connection.covers(requirement.scopes):
            return None
        if connection.is_stale(time.time(), STALE_LEEWAY_SECONDS):
            return await self.refresh(user_id, requirement.id)
        now = time.monotonic()
        if now - self._last_touch.get(key, -TOUCH_INTERVAL_SECONDS) >= TOUCH_INTERVAL_SECONDS:
            self._last_touch[key] = now  # "last used" is kept to the minute, not written on every call
            await self.vault.touch_connection(user_id, requirement.id)
        return connection

    async def _load(self, key: tuple[str, str]) -> Connection | None:
        try:
            connection = await self.vault.get_connection(*key)
        except DecryptionError as exc:
            logger.error("connection of user %r to %s cannot be decrypted (%s); asking for authorization", *key, exc)
            return None
        self._remember(connection, key)
        return connection

    def _remember(self, connection: Connection | None, key: tuple[str, str]) -> None:
        if connection is None or connection.status != "active":
            self._cache.pop(key, None)
        else:
            self._cache[key] = _Cached(connection, time.monotonic() + self.cache_seconds)

    def forget(self, user_id: str, provider_id: str) -> None:
        self._cache.pop((user_id, provider_id), None)

    async def refresh(self, user_id: str, provider_id: str, *, rejected: Connection | None = None) -> Connection | None:
        """Refresh the user's token, one refresh at a time per (user, provider): across this process's tasks
        (a lock) and across processes sharing the database (a lease on the row; see `Vault.acquire_refresh_lease`).

        Without `rejected`, refreshes only if the stored token is stale. With `rejected` (a connection whose
        token the provider's API refused), refreshes unless another task already replaced that token.
        Returns None when the grant is gone (`invalid_grant`, or no refresh token): authorization is needed.
        """
        key = (user_id, provider_id)
        lock = self._refresh_locks.setdefault(key, anyio.Lock())
        async with lock:
            current = await self._load(key)  # re-read once locked: another task may have refreshed already
            if current is None or current.status != "active":
                return None
            if rejected is None and not current.is_stale(time.time(), STALE_LEEWAY_SECONDS):
                return current
            if rejected is not None and current.access_token != rejected.access_token:
                return current
            if not current.refresh_token:
                logger.info("token of user %r at %s expired and there is no refresh token", user_id, provider_id)
                return None
            leased = await self._lease(current)
            if leased is not current:
                return leased  # another process refreshed meanwhile (or the connection went away)
            return await self._refresh_leased(current)

    async def _lease(self, current: Connection) -> Connection | None:
        """Take the refresh lease for `current`; if another process holds it, wait for its result instead.

        Returns `current` once leased, else the connection as the other process left it.
        """
        key = (current.user_id, current.provider_id)
        lease_seconds = self.http_timeout + 5
        deadline = time.monotonic() + 2 * lease_seconds
        delay = 0.02
        while not await self.vault.acquire_refresh_lease(
            *key, owner=self._lease_owner, version=current.version, seconds=lease_seconds
        ):
            if time.monotonic() > deadline:
                raise ProviderUnavailable("another refresh of this authorization is taking too long")
            await anyio.sleep(delay)  # only while another process holds the lease: at most one refresh's time
            delay = min(delay * 2, 0.2)
            latest = await self._load(key)
            if latest is None or latest.status != "active":
                return None
            if latest.version != current.version:
                return latest
        return current

    async def _refresh_leased(self, current: Connection) -> Connection | None:
        user_id, provider_id = key = (current.user_id, current.provider_id)
        assert current.refresh_token is not None
        provider = self.provider(provider_id)
        try:
            tokens = await oauth2.refresh(provider, refresh_token=current.refresh_token, timeout=self.http_timeout)
        except OAuthError as exc:
            if exc.error != "invalid_grant":
                await self.vault.release_refresh_lease(*key, owner=self._lease_owner)
                raise
            # The only terminal answer (RFC 6749 §5.2): the grant was revoked or expired at the provider.
            logger.info("refresh for user %r at %s: invalid_grant; authorization needed", user_id, provider_id)
            await self.vault.set_connection_status(user_id, provider_id, "needs_reauth")
            self.forget(user_id, provider_id)
            return None
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.vault.release_refresh_lease(*key, owner=self._lease_owner)
            raise
        refreshed = await self.vault.save_connection(
            user_id,
            provider_id,
            access_token=tokens.access_token,
            # RFC 6749 §6: a response without a refresh token leaves the old one valid
            refresh_token=tokens.refresh_token or current.refresh_token,
            token_type=tokens.token_type,
            expires_at=tokens.expires_at,
            scopes=tokens.scopes if tokens.scopes else current.scopes,
        )
        logger.info("refreshed the token of user %r at %s", user_id, provider_id)
        self._remember(refreshed, key)
        return refreshed

    # ---------------------------------------------------------------- flows

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
        return flow

    # ---------------------------------------------------------------- secrets a user types in

    async def user_secret(self, user_id: str, name: str) -> str | None:
        """The value the user gave for a secret, from the in-memory view or the vault."""
        key = (user_id, name)
        cached = self._secret_cache.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            value = await self.vault.get_user_secret(user_id, name)
        except DecryptionError as exc:
            logger.error("secret %s of user %r cannot be decrypted (%s); asking for it again", name, user_id, exc)
            value = None
        if value is not None:
            self._secret_cache[key] = (value, time.monotonic() + self.cache_seconds)
        return value

    async def start_secret_flow(self, user_id: str, name: str) -> Flow:
        """A pending flow whose link opens a page of ours where the user types the secret's value."""
        flow = await self.vault.find_pending_flow(user_id, name, (), kind="secret")
        if flow is None:
            flow = await self.vault.create_flow(
                secrets.token_urlsafe(24), user_id, name, (), ttl=self.flow_ttl, kind="secret"
            )
            logger.info("flow %s started: user %r, secret %s", flow.id, user_id, name)
        return flow

    async def submit_secret(self, flow_id: str, value: str) -> Flow:
        """Store the value typed on a secret flow's page, encrypted, and complete the flow.

        Raises:
            FlowUnavailable: The flow is unknown, not a secret flow, finished, or expired.
        """
        flow = await self.vault.complete_secret_flow(flow_id, value)
        if flow is None:
            raise FlowUnavailable("This link has expired or was already used. Go back to your app and try again.")
        self._secret_cache.pop((flow.user_id, flow.provider_id), None)
        logger.info("flow %s completed: user %r stored secret %s", flow.id, flow.user_id, flow.provider_id)
        await self._finish(flow.id)
        return flow

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
            raise CallbackError(
                "This authorization response is unknown, already used, or expired. Start again from your app."
            )
        try:
            return await self._exchange(flow, params)
        except CallbackError as exc:
            await self.vault.fail_flow(flow.id, str(exc))
            await self._finish(flow.id)
            raise
        except Exception:
            await self.vault.fail_flow(flow.id, "authmcp failed while completing the authorization")
            await self._finish(flow.id)
            raise

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
        self._remember(saved, (flow.user_id, flow.provider_id))
        logger.info("flow %s completed: user %r connected to %s", flow.id, flow.user_id, flow.provider_id)
        await self._finish(flow.id)

    def verifier_redirect(self, flow: Flow) -> str:
        """Where the browser goes after consent when users are verified: the application's verifier page."""
        assert self.verifier_url is not None
        separator = "&" if "?" in self.verifier_url else "?"
        return f"{self.verifier_url}{separator}{urlencode({'flow_id': flow.id})}"

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
            raise UserMismatch("The verified user is not the user this authorization was started for.")
        released = await self.vault.release_held_tokens(flow.id)
        if released is None:
            raise FlowUnavailable("This authorization is not waiting for verification any more.")
        held_flow, payload = released
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
            self.forget(flow.user_id, flow.provider_id)
            self._secret_cache.pop((flow.user_id, flow.provider_id), None)
        await self._finish(flow_id)

    async def _recheck_waiters(self) -> None:
        """Notices from other processes may have been missed (a lost LISTEN connection): re-read the flows."""
        for flow_id in [*self._waiters, *self._on_complete]:
            flow = await self.vault.get_flow(flow_id)
            if flow is None or flow.status in ("completed", "failed"):
                await self._finished_elsewhere(flow_id)

    def on_complete(self, flow_id: str, callback: Callable[[], Awaitable[None]]) -> None:
        self._on_complete.setdefault(flow_id, []).append(callback)

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
        with anyio.move_on_after(min(timeout, max(0.0, flow.expires_at - time.time()))):
            await event.wait()
        return await self.vault.get_flow(flow_id)

    async def flow_status(self, flow_id: str) -> Flow | None:
        return await self.vault.get_flow(flow_id)

    async def disconnect(self, user_id: str, provider_id: str) -> bool:
        """Disconnect the user from a provider: unusable here at once, then revoked at the provider.

        The connection is removed and its token queued in one transaction; the revocation is tried now and,
        if the provider is down, again later by `retry_revocations`. Returns whether there was a connection.
        """
        removed = await self.vault.disconnect(user_id, provider_id, secrets.token_hex(12))
        self.forget(user_id, provider_id)
        if removed:
            logger.info("user %r disconnected from %s", user_id, provider_id)
            await self.retry_revocations()
        return removed

    async def maintain(self) -> None:
        """Run forever in the server's task group: every `revocation_retry_seconds`, fail the flows whose time ran
        out (among them any a crashed process left half-done) and retry queued revocations."""
        while True:
            try:
                expired = await self.vault.expire_flows()
                if expired:
                    logger.info("%d authorization flow(s) expired", expired)
                await self.retry_revocations()
            except AuthmcpError as exc:  # e.g. a key problem; say so and keep serving
                logger.error("maintenance failed: %s", exc)
            await anyio.sleep(self.revocation_retry_seconds)

    async def retry_revocations(self) -> int:
        """Revoke the queued tokens whose time has come. Returns how many are still queued after this pass."""
        for pending in await self.vault.due_revocations():
            provider = self.providers.get(pending.provider_id)
            revoked = False
            try:
                if provider is not None and not provider.missing_settings():
                    revoked = await oauth2.revoke(
                        provider, token=pending.token, token_type_hint=pending.token_type_hint,
                        timeout=self.http_timeout,
                    )
            except ProviderUnavailable as exc:
                delay = min(self.revocation_retry_seconds * 2**pending.attempts, 6 * 3600.0)  # at most 6 h apart
                logger.warning("revocation at %s failed (%s); retrying in %.0f s", pending.provider_id, exc, delay)
                await self.vault.postpone_revocation(pending.id, delay=delay, error=str(exc))
                continue
            except OAuthError as exc:
                logger.warning("revocation at %s refused for good: %s", pending.provider_id, exc)
            else:
                if revoked:
                    logger.info("token of user %r revoked at %s", pending.user_id, pending.provider_id)
                else:
                    logger.warning("%s offers no revocation endpoint: the token is forgotten here only", pending.provider_id)
            await self.vault.finish_revocation(pending.id)
        return await self.vault.count_revocations()


def _code(error: str) -> str:
    """A provider's error code, shown only if it looks like one (never reflect arbitrary input)."""
    return error if error.replace("_", "").isalnum() and len(error) <= 64 else "unknown error"
