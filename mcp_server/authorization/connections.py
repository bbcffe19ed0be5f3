"""The connection side of authorization: is there a usable token for this user and provider, right now?

- `connection_for` answers on every tool call, from an in-memory view first (connection_cache.py: no database
  round trip on the hot path, and no call waits on a re-read), refreshing a stale token single-flight: one
  refresh at a time per (user, provider) in this process (a lock) and across processes sharing the database (a
  lease on the row). The view holds absent connections too, and drops an entry on every change made here or
  announced by another process (vault/events.py), so `cache_seconds` only bounds how often it is re-read.
- `user_secret` does the same for the secrets users typed in.
- `disconnect` makes a connection unusable at once and revokes it at the provider, retried by `maintain`.
- `maintain` runs beside the server: expired and orphaned flows, revocation retries, leases of dead processes,
  and the "last used" times, written in batches off the call path. Nothing it meets stops it.

The refresh lease cannot lapse while its holder works: every provider request ends by its deadline
(`http_timeout`), the lease lasts twice that plus a margin, and the answer is stored only while the lease is
still the holder's (a fence). It names its holder (`instances.py`), so a holder known to be gone (its process
ended, even by `kill -9`) is taken over at once instead of waited out.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path

import anyio

from mcp_server.authorization.cache import MISSING, SwrCache, Uncached
from mcp_server.authorization.instances import dead_instances, forget_instance, is_gone, new_instance_id
from mcp_server.errors import AuthmcpError, OAuthError, ProviderNotConfigured, ProviderUnavailable, StorageUnavailable
from mcp_server.observability.audit import AuditLog
from mcp_server.observability.telemetry import traced
from mcp_server.providers import Provider, ProviderRegistry, oauth2
from mcp_server.providers.oauth2 import TokenSet
from mcp_server.toolkit.tool import OAuth2
from mcp_server.vault import Connection, DecryptionError, Vault

__all__ = ["ConnectionService", "configured_provider"]

logger = logging.getLogger(__name__)

TOUCH_INTERVAL_SECONDS = 60.0  # "last used" is kept to the minute, not recorded on every call
TOUCH_FLUSH_SECONDS = 5.0  # how often the recorded "last used" times are written, in one transaction
MAX_PENDING_TOUCHES = 10_000  # while the database is away, at most this many are kept for later
LEASE_MARGIN_SECONDS = 10.0  # a refresh lease outlasts its holder's provider request by this, and by one more
MAX_BACKOFF_SECONDS = 60.0
CACHE_ENTRIES = 100_000  # (user, provider) pairs, and as many secrets, kept in memory; the least recently used go
MAX_STALE_FACTOR = 10  # an entry unused for this many cache periods is read again before it is served


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
        # a pair's lock lives while a task holds or waits on it (with how many do); a pair's last touch is
        # dropped once older than the touch interval (by `flush_touches`), when it no longer decides anything
        self._refresh_locks: dict[tuple[str, str], tuple[anyio.Lock, int]] = {}
        self._last_touch: dict[tuple[str, str], float] = {}
        self._touches: dict[tuple[str, str], float] = {}  # "last used" times not yet written
        # this process as a refresh lease holder: "<instance id>:<this service>"
        self._lease_owner = f"{self.instance_id}:{secrets.token_hex(4)}"

    @property
    def lease_seconds(self) -> float:
        """How long a refresh lease lasts: the provider request's deadline, then time to store its answer."""
        return 2 * self.http_timeout + LEASE_MARGIN_SECONDS

    @property
    def exchange_bound(self) -> float:
        """How long a flow may stay in its code exchange (a token request and a userinfo request, each within
        the deadline, then one commit) before it is taken as orphaned by a process that died."""
        return 2 * self.http_timeout + 1.5 * LEASE_MARGIN_SECONDS

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
        connection = self.cache.peek(key)
        if connection is MISSING:
            connection = await self.cache.load(key)
        if connection is None or connection.status != "active" or not connection.covers(requirement.scopes):
            return None
        if connection.is_stale(time.time()):
            return await self.refresh(user_id, requirement.id)
        now = time.monotonic()
        if now - self._last_touch.get(key, -TOUCH_INTERVAL_SECONDS) >= TOUCH_INTERVAL_SECONDS:
            self._last_touch[key] = now
            self._touches[key] = time.time()  # written by `maintain`: a call never waits on bookkeeping
        return connection

    async def _load(self, key: tuple[str, str]) -> Connection | None:
        """The connection as stored now (shared with a read of it already under way), kept in the view."""
        return await self.cache.load(key)

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
        current = await self._load(key)  # re-read once locked: another task may have refreshed already
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
            latest = await self._load(key)
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
        provider = self.provider(provider_id)
        try:
            tokens = await oauth2.refresh(provider, refresh_token=current.refresh_token, timeout=self.http_timeout)
        except OAuthError as exc:
            if exc.error != "invalid_grant":
                await self._release(*key)
                raise
            # The only terminal answer (RFC 6749 §5.2): the grant was revoked or expired at the provider.
            logger.info("refresh for user %r at %s: invalid_grant; authorization needed", user_id, provider_id)
            await self.vault.set_connection_status(user_id, provider_id, "needs_reauth")
            self.forget(user_id, provider_id)
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
            return await self._load(key)
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
            await self.retry_revocations()
        return removed

    async def maintain(self) -> None:
        """Run forever beside the server: the maintenance passes and the "last used" writer. Every error is
        logged and retried with a back-off; none ends the process (only a failure at start-up does)."""
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._keep_touches)
                await self._keep_maintaining()
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                await self.flush_touches()

    async def _keep_maintaining(self) -> None:
        failures = 0
        while True:
            try:
                await self.maintenance_pass()
                failures, delay = 0, self.revocation_retry_seconds
            except Exception as exc:
                failures += 1
                delay = min(2.0**failures, self.revocation_retry_seconds, MAX_BACKOFF_SECONDS)
                log_background_failure("maintenance", exc, delay)
            await anyio.sleep(delay)

    async def maintenance_pass(self) -> None:
        """One pass: release what dead processes held, fail expired and orphaned flows, retry revocations."""
        await self.clear_dead_instances()
        expired = await self.vault.expire_flows()
        if expired:
            logger.info("%d authorization flow(s) expired", expired)
        orphaned = await self.vault.fail_orphaned_flows(self.exchange_bound)
        if orphaned:
            logger.warning(
                "%d authorization flow(s) were left mid-exchange by a process that stopped; failed", orphaned
            )
        await self.retry_revocations()

    async def clear_dead_instances(self) -> None:
        """Release the refresh leases of processes on this data directory that ended without releasing them
        (a crash, `kill -9`): the first call after a restart never waits one out."""
        if self.run_dir is None:
            return
        for instance in dead_instances(self.run_dir):
            if instance == self.instance_id:
                continue
            cleared = await self.vault.clear_leases_of(instance)
            if cleared:
                logger.warning("released %d refresh lease(s) left by %s, a process that ended", cleared, instance)
            forget_instance(self.run_dir, instance)

    async def _keep_touches(self) -> None:
        while True:
            await anyio.sleep(TOUCH_FLUSH_SECONDS)
            await self.flush_touches()

    async def flush_touches(self) -> None:
        """Write the "last used" times recorded since the last flush, in one transaction; best effort."""
        now = time.monotonic()
        for key in [k for k, at in self._last_touch.items() if now - at >= TOUCH_INTERVAL_SECONDS]:
            del self._last_touch[key]  # as good as absent: the next call records a touch either way
        if not self._touches:
            return
        batch, self._touches = self._touches, {}
        try:
            await self.vault.touch_connections(batch)
        except Exception as exc:  # bookkeeping: keep them for the next flush, never fail anything for it
            for key, when in batch.items():
                self._touches[key] = max(when, self._touches.get(key, when))
            while len(self._touches) > MAX_PENDING_TOUCHES:
                self._touches.pop(next(iter(self._touches)))
            log_background_failure("recording when connections were last used", exc, TOUCH_FLUSH_SECONDS)

    async def retry_revocations(self) -> int:
        """Revoke the queued tokens whose time has come. Returns how many are still queued after this pass."""
        for pending in await self.vault.due_revocations():
            provider = self.providers.get(pending.provider_id)
            revoked = False
            try:
                if provider is not None and not provider.missing_settings():
                    revoked = await oauth2.revoke(
                        provider,
                        token=pending.token,
                        token_type_hint=pending.token_type_hint,
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
                    logger.warning(
                        "%s offers no revocation endpoint: the token is forgotten here only", pending.provider_id
                    )
            await self.vault.finish_revocation(pending.id)
        return await self.vault.count_revocations()


def log_background_failure(what: str, exc: Exception, retry_in: float) -> None:
    if isinstance(exc, AuthmcpError):  # expected: the database or a key is away for now; no traceback
        logger.warning("%s failed: %s; retrying in %.0f s", what, exc, retry_in)
    else:
        logger.error("%s failed unexpectedly; retrying in %.0f s", what, retry_in, exc_info=exc)
