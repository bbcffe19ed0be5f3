"""'A flow finished' and 'a connection changed' notices between the processes that share one database.

A blocked MCP call or a `/v1/auth/status` long-poll waits in the process it reached; the provider's callback
may land on another replica. The vault announces every finished flow in the transaction that finishes it;
each process hears the announcements of the others and wakes its own waiters. Likewise every other change of a
connection (a refresh, a revocation, "needs authorization again") is announced, so each process drops what it
cached of it (connection_cache.py) and can cache for long.

- `FlowNotices`: one process (an in-memory database). Nothing crosses process boundaries; the finishing process
  wakes its own waiters directly (see `FlowService.finish`).
- `LocalFlowNotices` (local_notices.py): the processes on one machine sharing one SQLite file, over loopback UDP.
- `PostgresFlowNotices`: `pg_notify` inside the finishing transaction (delivered on commit, never for a
  rollback) and a dedicated asyncpg connection that LISTENs. If that connection drops it reconnects with
  backoff and then tells subscribers that notices may have been missed, so they re-read what they wait on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_server.errors import AuthmcpError

__all__ = ["CHANGES_CHANNEL", "CHANNEL", "Change", "FlowNotices", "PostgresFlowNotices", "change_payload"]

logger = logging.getLogger(__name__)

CHANNEL = "authmcp_flow_finished"
CHANGES_CHANNEL = "authmcp_connection_changed"  # its own channel: older replicas never see an unknown payload
CHANGE_KINDS = ("connection", "secret")
MAX_CHANGE_PAYLOAD = 480  # fits a loopback datagram (local_notices.py) and a NOTIFY payload; longer: "anything"

Change = tuple[str, str, str]  # (kind, user id, provider id or secret name)
OnFinished = Callable[[str], Awaitable[None]]  # the flow id
OnChanged = Callable[[Change | None], None]  # None: anything may have changed
OnGap = Callable[[], Awaitable[None]]  # notices may have been lost: re-check


def change_payload(origin: str, change: Change) -> str:
    """The notice for `change`; one saying "anything may have changed" when its ids are too long to carry."""
    payload = json.dumps({"origin": origin, "change": list(change)})
    return payload if len(payload.encode()) <= MAX_CHANGE_PAYLOAD else json.dumps({"origin": origin, "change": None})


def parse_change(notice: Any) -> tuple[str, Change | None] | None:
    """(origin, change) from a decoded change notice, or None if it is not a well-formed one."""
    if not isinstance(notice, dict) or not isinstance(notice.get("origin"), str) or "change" not in notice:
        return None
    change = notice["change"]
    if change is None:
        return notice["origin"], None
    if (
        isinstance(change, list)
        and len(change) == 3
        and all(isinstance(part, str) for part in change)
        and change[0] in CHANGE_KINDS
    ):
        return notice["origin"], (change[0], change[1], change[2])
    return None


class FlowNotices:
    """Announcements of finished flows, for a single process: there is nobody else to tell."""

    def __init__(self) -> None:
        self.origin = secrets.token_hex(8)  # this process; its own announcements are not delivered back
        self._on_finished: list[OnFinished] = []
        self._on_changed: list[OnChanged] = []
        self._on_gap: list[OnGap] = []

    def subscribe(self, on_finished: OnFinished, on_gap: OnGap | None = None) -> None:
        """Call `on_finished(flow_id)` when another process finishes a flow."""
        self._on_finished.append(on_finished)
        if on_gap is not None:
            self._on_gap.append(on_gap)

    def subscribe_changes(self, on_changed: OnChanged, on_gap: OnGap | None = None) -> None:
        """Call `on_changed(change)` when another process changes a connection or a secret."""
        self._on_changed.append(on_changed)
        if on_gap is not None:
            self._on_gap.append(on_gap)

    async def announce(self, conn: AsyncConnection, flow_id: str) -> None:
        """Tell the other processes, from inside the transaction on `conn` that finishes the flow."""

    async def committed(self, flow_id: str) -> None:
        """Tell the other processes, once the transaction that finished the flow has committed."""

    async def announce_change(self, conn: AsyncConnection, change: Change) -> None:
        """Tell the other processes, from inside the transaction on `conn` that makes the change."""

    def change_committed(self, change: Change) -> None:
        """Tell the other processes, once the transaction that made the change has committed."""

    async def start(self) -> None:
        """Start hearing other processes (a no-op for one process)."""

    def forget_now(self) -> None:
        """The process is ending abruptly (a signal): undo at once what others would see of it."""

    async def aclose(self) -> None:
        """Stop hearing."""

    async def heard_finished(self, flow_id: str) -> None:
        """Another process finished this flow: run the handlers (called by the subclass that heard it)."""
        for handler in list(self._on_finished):
            try:
                await handler(flow_id)
            except AuthmcpError as exc:  # e.g. the database is briefly away: the waiter's own timeout still holds
                logger.warning("handling the finished flow %s… failed: %s", flow_id[:6], exc)
            except Exception:  # a short prefix only (as audit.flow_ref): a whole id in a log could finish the flow
                logger.exception("handling the finished flow %s… failed", flow_id[:6])

    def heard_change(self, change: Change | None) -> None:
        """Another process changed a connection or a secret (None: something, too long to say what)."""
        for handler in list(self._on_changed):
            try:
                handler(change)
            except Exception:
                logger.exception("handling a changed connection failed")

    async def _gap(self) -> None:
        for handler in list(self._on_gap):
            try:
                await handler()
            except Exception:
                logger.exception("re-checking waiting flows failed")


class PostgresFlowNotices(FlowNotices):
    """LISTEN/NOTIFY on one PostgreSQL channel, shared by every replica on the database."""

    def __init__(self, dsn: str, *, max_backoff: float = 10.0) -> None:
        super().__init__()
        self.dsn = dsn  # plain postgresql:// for asyncpg
        self.max_backoff = max_backoff
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connection: Any = None  # the LISTENing asyncpg connection, while there is one
        self._deliveries: set[asyncio.Task[None]] = set()

    async def announce(self, conn: AsyncConnection, flow_id: str) -> None:
        payload = json.dumps({"origin": self.origin, "flow": flow_id})
        await conn.execute(select(func.pg_notify(CHANNEL, payload)))

    async def announce_change(self, conn: AsyncConnection, change: Change) -> None:
        await conn.execute(select(func.pg_notify(CHANGES_CHANNEL, change_payload(self.origin, change))))

    async def start(self, *, wait: float = 5.0) -> None:
        """Start listening in the background; waits (up to `wait` s) for the first connection."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen_forever(), name="authmcp-listen")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), wait)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for delivery in list(self._deliveries):
            delivery.cancel()

    async def _listen_forever(self) -> None:
        import asyncpg  # the `postgres` extra

        delay = 0.2
        first = True
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self.dsn, timeout=10)
            except Exception as exc:  # whatever the reason, keep trying: waiters fall back to their timeouts
                logger.warning("cannot LISTEN for finished flows (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            try:
                connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._on_notify)
                await connection.add_listener(CHANGES_CHANNEL, self._on_change_notify)
                self.connection = connection
                self.listening.set()
                delay = 0.2
                if not first:
                    logger.info("listening for finished flows again")
                    self._spawn(self._gap())  # anything announced while we were away is re-read
                first = False
                while not lost.is_set():
                    # asyncpg notices a dead socket only when it uses it: check now and then
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), 5.0)
                    if not lost.is_set():
                        try:
                            await connection.execute("SELECT 1", timeout=5)
                        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                            lost.set()
                self.listening.clear()
                logger.warning("the LISTEN connection for finished flows was lost; reconnecting")
            except Exception as exc:
                self.listening.clear()
                logger.warning("LISTEN for finished flows failed (%s); reconnecting", exc)
            finally:
                self.connection = None
                with contextlib.suppress(Exception):
                    connection.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            notice = json.loads(payload)
            origin, flow_id = notice["origin"], notice["flow"]
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring a malformed notice on %s", CHANNEL)
            return
        if origin != self.origin:
            self._spawn(self.heard_finished(str(flow_id)))

    def _on_change_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            heard = parse_change(json.loads(payload))
        except ValueError:
            heard = None
        if heard is None:
            logger.warning("ignoring a malformed notice on %s", CHANGES_CHANNEL)
        elif heard[0] != self.origin:
            self.heard_change(heard[1])

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)
