"""What runs beside the server for the connection side: the maintenance passes (expired and orphaned flows,
revocation retries, leases of dead processes, the front door's grants ended more than GRANT_RETENTION ago) and
the "last used" times, written in batches off the call path. Nothing it meets stops it: every error is logged and
retried with a back-off."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import anyio

from mcp_server.authorization.instances import dead_instances, forget_instance
from mcp_server.errors import AuthmcpError, OAuthError, ProviderUnavailable
from mcp_server.providers import ProviderRegistry, oauth2
from mcp_server.vault import Vault
from mcp_server.vault.front_door import GRANT_RETENTION, FrontDoorStore

__all__ = ["LastUsed", "Maintenance", "log_background_failure"]

logger = logging.getLogger(__name__)

TOUCH_INTERVAL_SECONDS = 60.0  # "last used" is kept to the minute, not recorded on every call
TOUCH_FLUSH_SECONDS = 5.0  # how often the recorded "last used" times are written, in one transaction
MAX_PENDING_TOUCHES = 10_000  # while the database is away, at most this many are kept for later
MAX_BACKOFF_SECONDS = 60.0


class LastUsed:
    """When each connection was last used: recorded in memory on a call, written by `flush`."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        # a pair's last touch is dropped once older than the touch interval (by `flush`), when it no longer
        # decides anything
        self._last_touch: dict[tuple[str, str], float] = {}
        self._touches: dict[tuple[str, str], float] = {}  # "last used" times not yet written

    @property
    def tracked(self) -> int:
        """The (user, provider) pairs whose last touch is remembered now."""
        return len(self._last_touch)

    def record(self, key: tuple[str, str]) -> None:
        """A call used the pair's connection (kept to the minute: a call never waits on bookkeeping)."""
        now = time.monotonic()
        if now - self._last_touch.get(key, -TOUCH_INTERVAL_SECONDS) >= TOUCH_INTERVAL_SECONDS:
            self._last_touch[key] = now
            self._touches[key] = time.time()

    async def flush(self) -> None:
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

    async def keep_flushing(self) -> None:
        while True:
            await anyio.sleep(TOUCH_FLUSH_SECONDS)
            await self.flush()


class Maintenance:
    """The connection side's background work (`maintain`) and the revocation queue's worker."""

    def __init__(
        self,
        *,
        vault: Vault,
        providers: ProviderRegistry,
        last_used: LastUsed,
        http_timeout: float,
        revocation_retry_seconds: float,
        exchange_bound: float,
        instance_id: str,
        run_dir: Path | None,
    ) -> None:
        self.vault = vault
        self.providers = providers
        self.last_used = last_used
        self.http_timeout = http_timeout
        self.revocation_retry_seconds = revocation_retry_seconds
        self.exchange_bound = exchange_bound
        self.instance_id = instance_id
        self.run_dir = run_dir
        self.front_door = FrontDoorStore(vault)  # its tables exist (empty) without [front_door] too

    async def maintain(self) -> None:
        """Run forever beside the server: the maintenance passes and the "last used" writer. Every error is
        logged and retried with a back-off; none ends the process (only a failure at start-up does)."""
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self.last_used.keep_flushing)
                await self._keep_maintaining()
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                await self.last_used.flush()

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
        """One pass: release what dead processes held, fail expired and orphaned flows, retry revocations, delete
        the front door's grants that ended more than GRANT_RETENTION ago."""
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
        purged = await self.front_door.purge_grants(time.time() - GRANT_RETENTION)
        if purged:
            logger.info("%d ended front door grant(s) deleted", purged)

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
