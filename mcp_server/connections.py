"""The connection side of authorization: is there a usable token for this user and provider, right now?

- `connection_for` answers on every tool call, from an in-memory view first (no database round trip on the hot
  path), refreshing a stale token single-flight: one refresh at a time per (user, provider) in this process
  (a lock) and across processes sharing the database (a lease on the row).
- `user_secret` does the same for the secrets users typed in.
- `disconnect` makes a connection unusable at once and revokes it at the provider, retried by `maintain`.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

import anyio

from mcp_server.telemetry import traced
from mcp_server.audit import AuditLog
from mcp_server.declare import OAuth2
from mcp_server.errors import AuthmcpError, OAuthError, ProviderNotConfigured, ProviderUnavailable
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.providers import oauth2
from mcp_server.vault import Connection, DecryptionError, Vault

__all__ = ["ConnectionService", "configured_provider"]

logger = logging.getLogger(__name__)

STALE_LEEWAY_SECONDS = 60.0  # a token this close to expiry is refreshed before use
TOUCH_INTERVAL_SECONDS = 60.0  # how often a connection's "last used" time is written


def configured_provider(providers: ProviderRegistry, provider_id: str) -> Provider:
    """The provider with this id, ready to authorize.

    Raises:
        ProviderNotConfigured: Unknown here, or its OAuth app settings are missing.
    """
    provider = providers.get(provider_id)
    if provider is None:  # the catalog refuses such tools at load time
        raise ProviderNotConfigured(f"Provider {provider_id!r} is not known to this server.")
    if provider.missing_settings():
        raise ProviderNotConfigured(provider.how_to_configure())
    return provider


@dataclass
class _Cached:
    connection: Connection
    valid_until: float  # monotonic time after which the database is asked again


class ConnectionService:
    def __init__(
        self,
        *,
        vault: Vault,
        providers: ProviderRegistry,
        http_timeout: float = 10.0,
        cache_seconds: float = 5.0,
        revocation_retry_seconds: float = 60.0,
        audit: AuditLog | None = None,
    ) -> None:
        self.vault = vault
        self.audit = audit or AuditLog.disabled()
        self.providers = providers
        self.http_timeout = http_timeout
        self.cache_seconds = cache_seconds
        self.revocation_retry_seconds = revocation_retry_seconds
        self._cache: dict[tuple[str, str], _Cached] = {}
        self._refresh_locks: dict[tuple[str, str], anyio.Lock] = {}
        self._last_touch: dict[tuple[str, str], float] = {}
        self._secret_cache: dict[tuple[str, str], tuple[str, float]] = {}
        self._lease_owner = secrets.token_hex(16)  # this process, as a refresh lease holder

    def provider(self, provider_id: str) -> Provider:
        return configured_provider(self.providers, provider_id)

    @traced("authmcp.connection.lookup")
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

    def remember(self, connection: Connection) -> None:
        """Cache a connection this process just stored, so the next call needs no database read."""
        self._remember(connection, (connection.user_id, connection.provider_id))

    def forget(self, user_id: str, provider_id: str) -> None:
        """Drop what this process cached for the pair, so the next call reads the database."""
        self._cache.pop((user_id, provider_id), None)

    def forget_secret(self, user_id: str, name: str) -> None:
        self._secret_cache.pop((user_id, name), None)

    @traced("authmcp.connection.refresh")
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
            self.audit.record(
                "connection.needs_reauth", user_id=user_id, provider_id=provider_id, actor="provider",
                outcome="invalid_grant",
            )
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
        self.audit.record("connection.refreshed", user_id=user_id, provider_id=provider_id, actor="system", outcome="ok")
        self._remember(refreshed, key)
        return refreshed

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

    @traced("authmcp.connection.disconnect")
    async def disconnect(self, user_id: str, provider_id: str, *, by: str = "user") -> bool:
        """Disconnect the user from a provider: unusable here at once, then revoked at the provider.

        The connection is removed and its token queued in one transaction; the revocation is tried now and,
        if the provider is down, again later by `retry_revocations`. Returns whether there was a connection.
        """
        removed = await self.vault.disconnect(user_id, provider_id, secrets.token_hex(12))
        self.forget(user_id, provider_id)
        if removed:
            logger.info("user %r disconnected from %s", user_id, provider_id)
            self.audit.record("connection.revoked", user_id=user_id, provider_id=provider_id, actor=by, outcome="ok")
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
