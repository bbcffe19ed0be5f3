"""Refreshing a user's token single-flight: one refresh at a time per (user, provider), across this process's
tasks (a lock) and across processes sharing the database (a lease on the row).

The lease cannot lapse while its holder works: every provider request ends by its deadline (`http_timeout`),
the lease lasts twice that plus a margin, and the answer is stored only while the lease is still the holder's (a
fence). It names its holder (`instances.py`), so a holder known to be gone (its process ended, even by `kill -9`)
is taken over at once instead of waited out.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path

import anyio

from mcp_server.authorization.cache import SwrCache
from mcp_server.authorization.instances import is_gone
from mcp_server.errors import OAuthError, ProviderUnavailable, StorageUnavailable
from mcp_server.observability.audit import AuditLog
from mcp_server.observability.telemetry import traced
from mcp_server.providers import ProviderRegistry, oauth2
from mcp_server.providers.oauth2 import TokenSet
from mcp_server.vault import Connection, Vault

__all__ = ["LEASE_MARGIN_SECONDS", "Refresher"]

logger = logging.getLogger(__name__)

LEASE_MARGIN_SECONDS = 10.0  # a refresh lease outlasts its holder's provider request by this, and by one more


class Refresher:
    """The refresh of `ConnectionService`: what it stores, it also puts in the connection view (`cache`)."""

    def __init__(
        self,
        *,
        vault: Vault,
        providers: ProviderRegistry,
        cache: SwrCache[tuple[str, str], Connection | None],
        http_timeout: float,
        audit: AuditLog,
        instance_id: str,
        run_dir: Path | None,
    ) -> None:
        self.vault = vault
        self.providers = providers
        self.cache = cache
        self.http_timeout = http_timeout
        self.audit = audit
        self.run_dir = run_dir
        # a pair's lock lives while a task holds or waits on it (with how many do)
        self._refresh_locks: dict[tuple[str, str], tuple[anyio.Lock, int]] = {}
        # this process as a refresh lease holder: "<instance id>:<this service>"
        self._lease_owner = f"{instance_id}:{secrets.token_hex(4)}"

    @property
    def lease_seconds(self) -> float:
        """How long a refresh lease lasts: the provider request's deadline, then time to store its answer."""
        return 2 * self.http_timeout + LEASE_MARGIN_SECONDS

    @property
    def refreshes_under_way(self) -> int:
        """The (user, provider) pairs a task refreshes or waits to refresh now."""
        return len(self._refresh_locks)

    @traced("authmcp.connection.refresh")
    async def refresh(self, user_id: str, provider_id: str, *, rejected: Connection | None = None) -> Connection | None:
        """Refresh the user's token, one refresh at a time per (user, provider): across this process's tasks
        (a lock) and across processes sharing the database (a lease on the row; see `Vault.acquire_refresh_lease`).

        Without `rejected`, refreshes only if the stored token is stale. With `rejected` (a connection whose
        token the provider's API refused), refreshes unless another task already replaced that token.
        Returns None when the grant is gone (`invalid_grant`, or no refresh token): authorization is needed.
        """
        key = (user_id, provider_id)
        lock, users = self._refresh_locks.get(key) or (anyio.Lock(), 0)
        self._refresh_locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await self._refresh_locked(key, rejected)
        finally:
            lock, users = self._refresh_locks[key]
            if users == 1:
                del self._refresh_locks[key]  # no one holds or waits on it: the next refresh makes a new one
            else:
                self._refresh_locks[key] = (lock, users - 1)

    async def _refresh_locked(self, key: tuple[str, str], rejected: Connection | None) -> Connection | None:
        user_id, provider_id = key
        current = await self.cache.load(key)  # re-read once locked: another task may have refreshed already
        if current is None or current.status != "active":
            return None
        if rejected is None and not current.is_stale(time.time()):
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
        """Take the refresh lease for `current`; if another process holds it, wait for its result instead (at
        most one provider request's time), or take it over at once if that process is known to be gone.

        Returns `current` once leased, else the connection as the other process left it.

        Raises:
            ProviderUnavailable: The other process's refresh is still not done: try again shortly.
        """
        key = (current.user_id, current.provider_id)
        give_up = time.monotonic() + self.http_timeout + LEASE_MARGIN_SECONDS
        delay = 0.02
        while not await self.vault.acquire_refresh_lease(
            *key, owner=self._lease_owner, version=current.version, seconds=self.lease_seconds
        ):
            holder = await self.vault.refresh_lease_holder(*key)
            if holder is not None and is_gone(self.run_dir, holder.split(":", 1)[0]):
                if await self.vault.acquire_refresh_lease(
                    *key,
                    owner=self._lease_owner,
                    version=current.version,
                    seconds=self.lease_seconds,
                    from_holder=holder,
                ):
                    logger.warning(
                        "took over the refresh lease of user %r at %s from %s, a process that ended mid-refresh",
                        *key,
                        holder.split(":", 1)[0],
                    )
                    return current
            if time.monotonic() > give_up:
                raise ProviderUnavailable("another renewal of this authorization is still under way")
            await anyio.sleep(delay)  # only while another process holds the lease: at most one refresh's time
            delay = min(delay * 2, 0.2)
            latest = await self.cache.load(key)
            if latest is None or latest.status != "active":
                return None
            if latest.version != current.version:
                return latest
        return current

    async def _release(self, user_id: str, provider_id: str) -> None:
        """Give the lease back after a failed refresh, best effort (if the database is away, it expires)."""
        with anyio.CancelScope(shield=True):
            try:
                await self.vault.release_refresh_lease(user_id, provider_id, owner=self._lease_owner)
            except StorageUnavailable as exc:
                logger.warning("could not release the refresh lease of user %r at %s (%s)", user_id, provider_id, exc)

    async def _refresh_leased(self, current: Connection) -> Connection | None:
        user_id, provider_id = key = (current.user_id, current.provider_id)
        assert current.refresh_token is not None
        provider = self.providers.configured(provider_id)
        try:
            tokens = await oauth2.refresh(provider, refresh_token=current.refresh_token, timeout=self.http_timeout)
        except OAuthError as exc:
            if exc.error != "invalid_grant":
                await self._release(*key)
                raise
            # The only terminal answer (RFC 6749 §5.2): the grant was revoked or expired at the provider.
            logger.info("refresh for user %r at %s: invalid_grant; authorization needed", user_id, provider_id)
            await self.vault.set_connection_status(user_id, provider_id, "needs_reauth")
            self.cache.forget(key)
            self.audit.record(
                "connection.needs_reauth",
                user_id=user_id,
                provider_id=provider_id,
                actor="provider",
                outcome="invalid_grant",
            )
            return None
        except BaseException:
            await self._release(*key)
            raise
        refreshed = await self._store_refreshed(current, tokens)
        if refreshed is None:  # fenced out: the lease was taken over, so what is stored is newer than this answer
            logger.error("the refresh lease of user %r at %s was lost before its answer was stored", *key)
            return await self.cache.load(key)
        logger.info("refreshed the token of user %r at %s", user_id, provider_id)
        self.audit.record(
            "connection.refreshed", user_id=user_id, provider_id=provider_id, actor="system", outcome="ok"
        )
        self.cache.put(key, refreshed)
        return refreshed

    async def _store_refreshed(self, current: Connection, tokens: TokenSet) -> Connection | None:
        """Store a refresh's answer under the lease. The provider may have rotated the refresh token already,
        so a database that is briefly away is waited for, as long as the lease lasts."""
        give_up = time.monotonic() + self.http_timeout + LEASE_MARGIN_SECONDS / 2  # within the lease
        while True:
            try:
                return await self.vault.save_refreshed(
                    current.user_id,
                    current.provider_id,
                    owner=self._lease_owner,
                    access_token=tokens.access_token,
                    # RFC 6749 §6: a response without a refresh token leaves the old one valid
                    refresh_token=tokens.refresh_token or current.refresh_token,
                    token_type=tokens.token_type,
                    expires_at=tokens.expires_at,
                    scopes=tokens.scopes if tokens.scopes else current.scopes,
                    token_extras={**current.token_extras, **tokens.extras},
                )
            except StorageUnavailable as exc:
                if time.monotonic() > give_up:
                    logger.error(
                        "could not store the refreshed token of user %r at %s (%s); if %s rotates refresh tokens, "
                        "the user must authorize again",
                        current.user_id,
                        current.provider_id,
                        exc,
                        current.provider_id,
                    )
                    raise
                await anyio.sleep(0.5)
