"""The connection side of authorization: is there a usable token for this user and provider, right now?

- `connection_for` answers on every tool call, from an in-memory view first (cache.py: no database round trip
  on the hot path, and no call waits on a re-read), refreshing a stale token single-flight (refresh.py). The
  view holds absent connections too, and drops an entry on every change made here or announced by another
  process (vault/events.py), so `cache_seconds` only bounds how often it is re-read.
- `user_secret` does the same for the secrets users typed in.
- `disconnect` makes a connection unusable at once and revokes it at the provider, retried by `maintain`.
- `maintain` runs beside the server (maintenance.py): expired and orphaned flows, revocation retries, leases of
  dead processes, and the "last used" times, written in batches off the call path.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path

from mcp_server.authorization.cache import MISSING, SwrCache, Uncached
from mcp_server.authorization.instances import new_instance_id
from mcp_server.authorization.maintenance import LastUsed, Maintenance
from mcp_server.authorization.refresh import LEASE_MARGIN_SECONDS, Refresher
from mcp_server.observability.audit import AuditLog
from mcp_server.observability.telemetry import traced
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.toolkit.tool import OAuth2
from mcp_server.vault import Connection, DecryptionError, Vault

__all__ = ["ConnectionService"]

logger = logging.getLogger(__name__)

CACHE_ENTRIES = 100_000  # (user, provider) pairs, and as many secrets, kept in memory; the least recently used go
MAX_STALE_FACTOR = 10  # an entry unused for this many cache periods is read again before it is served


class ConnectionService:
    def __init__(
        self,
        *,
        vault: Vault,
        providers: ProviderRegistry,
        http_timeout: float = 10.0,
        cache_seconds: float = 5.0,
        cache_entries: int = CACHE_ENTRIES,
        revocation_retry_seconds: float = 60.0,
        audit: AuditLog | None = None,
        instance_id: str | None = None,
        run_dir: Path | None = None,
    ) -> None:
        self.vault = vault
        self.audit = audit or AuditLog.disabled()
        self.providers = providers
        self.http_timeout = http_timeout
        self.cache_seconds = cache_seconds
        self.revocation_retry_seconds = revocation_retry_seconds
        self.instance_id = instance_id or new_instance_id()
        self.run_dir = run_dir  # where live processes keep their run files (see instances.py); None: not known
        bounds = {"fresh_seconds": cache_seconds, "max_stale_seconds": MAX_STALE_FACTOR * cache_seconds}
        self.cache: SwrCache[tuple[str, str], Connection | None] = SwrCache(
            self._read_connection, name="connection", max_entries=cache_entries, **bounds
        )
        self.secret_cache: SwrCache[tuple[str, str], str | None] = SwrCache(
            self._read_secret, name="user secret", max_entries=cache_entries, **bounds
        )
        # changes made by other processes on this database (refreshes, revocations): drop what was cached of them
        vault.notices.subscribe_changes(self._changed_elsewhere, self._missed_changes)
        self.refresher = Refresher(
            vault=vault,
            providers=providers,
            cache=self.cache,
            http_timeout=http_timeout,
            audit=self.audit,
            instance_id=self.instance_id,
            run_dir=run_dir,
        )
        self.last_used = LastUsed(vault)
        self.maintenance = Maintenance(
            vault=vault,
            providers=providers,
            last_used=self.last_used,
            http_timeout=http_timeout,
            revocation_retry_seconds=revocation_retry_seconds,
            exchange_bound=self.exchange_bound,
            instance_id=self.instance_id,
            run_dir=run_dir,
        )

    @property
    def exchange_bound(self) -> float:
        """How long a flow may stay in its code exchange (a token request and a userinfo request, each within
        the deadline, then one commit) before it is taken as orphaned by a process that died."""
        return 2 * self.http_timeout + 1.5 * LEASE_MARGIN_SECONDS

    def provider(self, provider_id: str) -> Provider:
        return self.providers.configured(provider_id)

    @traced("authmcp.connection.lookup")
    async def connection_for(self, user_id: str, requirement: OAuth2) -> Connection | None:
        """The user's usable connection for `requirement`, refreshed if stale; None means "authorize first".

        Raises:
            ProviderUnavailable: A needed refresh could not reach the provider (an outage, not a revocation).
            OAuthError: The provider refused the refresh for a reason other than `invalid_grant`.
        """
        key = (user_id, requirement.id)
        connection = self.cache.peek(key)
        if connection is MISSING:
            connection = await self.cache.load(key)
        if connection is None or connection.status != "active" or not connection.covers(requirement.scopes):
            return None
        if connection.is_stale(time.time()):
            return await self.refresh(user_id, requirement.id)
        self.last_used.record(key)  # written by `maintain`: a call never waits on bookkeeping
        return connection

    async def _read_connection(self, key: tuple[str, str]) -> Connection | Uncached[Connection | None] | None:
        try:
            return await self.vault.get_connection(*key)
        except DecryptionError as exc:  # not kept: a key restored later makes it readable again
            logger.error("connection of user %r to %s cannot be decrypted (%s); asking for authorization", *key, exc)
            return Uncached(None)

    async def _read_secret(self, key: tuple[str, str]) -> str | Uncached[str | None] | None:
        try:
            return await self.vault.get_user_secret(*key)
        except DecryptionError as exc:
            logger.error("secret %s of user %r cannot be decrypted (%s); asking for it again", key[1], key[0], exc)
            return Uncached(None)

    def remember(self, connection: Connection) -> None:
        """Cache a connection this process just stored, so the next call needs no database read."""
        self.cache.put((connection.user_id, connection.provider_id), connection)

    def forget(self, user_id: str, provider_id: str) -> None:
        """Drop what this process cached for the pair, so the next call reads the database."""
        self.cache.forget((user_id, provider_id))

    def forget_secret(self, user_id: str, name: str) -> None:
        self.secret_cache.forget((user_id, name))

    async def aclose(self) -> None:
        """End the cache's reads in flight: each holds a database connection, which must go back before the
        vault closes."""
        await self.cache.aclose()
        await self.secret_cache.aclose()

    def _changed_elsewhere(self, change: tuple[str, str, str] | None) -> None:
        if change is None:  # a notice too long to carry its ids: anything may have changed
            self.cache.clear()
            self.secret_cache.clear()
        elif change[0] == "connection":
            self.forget(change[1], change[2])
        else:
            self.forget_secret(change[1], change[2])

    async def _missed_changes(self) -> None:
        """Notices may have been lost (the LISTEN connection dropped): whatever is cached may be outdated."""
        self.cache.clear()
        self.secret_cache.clear()

    async def refresh(self, user_id: str, provider_id: str, *, rejected: Connection | None = None) -> Connection | None:
        """`Refresher.refresh`: the user's token renewed, one refresh at a time per (user, provider)."""
        return await self.refresher.refresh(user_id, provider_id, rejected=rejected)

    async def user_secret(self, user_id: str, name: str) -> str | None:
        """The value the user gave for a secret, from the in-memory view or the vault."""
        return await self.secret_cache.get((user_id, name))

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
            await self.maintenance.retry_revocations()
        return removed

    async def maintain(self) -> None:
        """`Maintenance.maintain`: run forever beside the server."""
        await self.maintenance.maintain()

    async def flush_touches(self) -> None:
        """Write the "last used" times recorded since the last flush (`LastUsed.flush`)."""
        await self.last_used.flush()
