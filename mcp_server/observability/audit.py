"""The audit trail: who authorized what, which tool used whose grant when, who revoked what.

`AuditLog.record` is called on the call path and never waits and never fails: it builds one `AuditEvent` and
appends it, with a reference to the call's arguments, to a bounded in-memory queue. Everything else happens in
the background task that writes the queue in batches: the arguments' digests and the rows are made there, a
chunk at a time with the event loop given back between chunks, so a batch of hundreds of events never holds the
loop that serves calls for more than a chunk's worth. When the queue is full an event is dropped and
counted; the count is logged and written to the trail itself (`audit.dropped`, which is also a webhook), so a
gap is never silent. The events webhooks carry (a person's or a provider's act, not a call each) have a reserve
as large again: a flood of tool calls while the database is slow cannot crowd them out of the outbox.

What an event may hold is fixed by `AuditEvent`'s fields: ids, names, outcomes, timings, a short flow
reference and a keyed digest of the arguments. Never a token, secret, code, state, full flow id or argument
value: callers pass names, not values, and `args_digest` is the only way arguments reach the trail.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import anyio
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mcp_server.observability import telemetry
from mcp_server.vault.outages import translated
from mcp_server.vault.schema import audit_events

__all__ = ["AuditEvent", "AuditLog", "AuditQuery", "Observer", "OnWrite", "flow_ref", "parse_since", "read_audit"]

logger = logging.getLogger(__name__)

FLOW_REF_LENGTH = 6  # characters of a flow id kept for matching log lines and audit rows; useless as a link


def flow_ref(flow_id: str) -> str:
    """A short, non-usable prefix of a flow id."""
    return flow_id[:FLOW_REF_LENGTH]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One row of the trail. Every field but `event` and `at` is optional; none may hold a value a user gave."""

    event: str  # e.g. "tool.call", "authorization.completed", "connection.revoked"
    at: float
    user_id: str | None = None
    tool: str | None = None  # the API name, "Gmail.ListEmails"
    provider_id: str | None = None  # or, for secret events, the secret's name
    scopes: str | None = None  # space-separated
    outcome: str | None = None  # ok | error | authorization_required | declined | ...
    error_kind: str | None = None  # an exception class or error code, never a message from outside
    duration_ms: float | None = None
    trace_id: str | None = None
    args_digest: str | None = None
    flow_ref: str | None = None
    actor: str | None = None  # user | admin | provider | system
    detail: str | None = None  # our own words


_COLUMNS = tuple(f.name for f in fields(AuditEvent))


_CHUNK = 64  # events made into rows and written at a time; the event loop runs other work between two chunks
_INSERT = insert(audit_events)


def _row(event: AuditEvent, digest: str | None) -> dict[str, Any]:
    # what `dataclasses.asdict` gives, at a tenth of its cost (it deep-copies every value)
    row = {name: getattr(event, name) for name in _COLUMNS}
    if digest is not None:
        row["args_digest"] = digest
    return row


Observer = Callable[[AuditEvent], None]  # told of every event as it is recorded; must be quick and not raise
OnWrite = Callable[[AsyncConnection, Sequence[AuditEvent]], Awaitable[None]]  # in the transaction writing a batch


class AuditLog:
    """The writer: a bounded queue, drained in batches by `run` (start it in the server's task group)."""

    def __init__(
        self,
        engine: AsyncEngine | None,
        *,
        digest_key: bytes,
        queue_size: int = 10_000,
        batch_size: int = 500,
        flush_seconds: float = 0.5,
        retention_days: float = 90.0,
    ) -> None:
        self._engine = engine
        # the key's HMAC state, computed once and copied for each digest; the canonical form's encoder, made once
        self._keyed = hmac.new(digest_key, digestmod=hashlib.sha256)
        self._canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
        # an event, and the arguments whose digest it gets when written (hashed off the call path)
        self._queue: deque[tuple[AuditEvent, Mapping[str, Any] | None]] = deque()
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.retention_days = retention_days
        self.dropped = 0  # events dropped because the queue was full, since start
        self._dropped_reported = 0
        self._failing = False
        # one implementation of "an event happened": metrics observe events as they are recorded; the webhook
        # outbox is filled in the very transaction that writes them
        self.observers: list[Observer] = []
        self.on_write: OnWrite | None = None
        self.reserved: Callable[[str], bool] = lambda event: False  # events that may use the reserve

    @classmethod
    def disabled(cls) -> AuditLog:
        """A log that records nothing (for tools and tests that run without a server)."""
        return cls(None, digest_key=b"", queue_size=0)

    def record(self, event: str, *, arguments: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Queue one event. Never blocks, never raises; a full queue drops and counts.

        `arguments` (a tool call's) are kept only until the event is written, as their keyed digest.
        """
        if self._engine is None and not self.observers:
            return
        if telemetry.enabled() and fields.get("trace_id") is None:
            fields["trace_id"] = telemetry.trace_id()
        entry = AuditEvent(event=event, at=time.time(), **fields)
        for observe in self.observers:
            try:
                observe(entry)
            except Exception:  # an observer's bug must not fail the call that recorded the event
                logger.exception("audit observer failed on %s", event)
        if self._engine is None:
            return
        if len(self._queue) >= (2 * self.queue_size if self.reserved(event) else self.queue_size):
            self.dropped += 1
            return
        self._queue.append((entry, arguments))

    def args_digest(self, arguments: Mapping[str, Any]) -> str:
        """A keyed digest of a call's arguments: equal calls match, the values cannot be read back or guessed
        without the key."""
        keyed = self._keyed.copy()
        keyed.update(self._canonical.encode(arguments).encode())
        return keyed.hexdigest()[:32]

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def run(self) -> None:
        """Write queued events every `flush_seconds`, purge old ones hourly; runs until cancelled."""
        next_purge = 0.0
        delay = self.flush_seconds
        while True:
            await anyio.sleep(delay)
            try:
                await self.flush()
                if time.monotonic() >= next_purge:
                    await self.purge()
                    next_purge = time.monotonic() + 3600
                delay = self.flush_seconds
                if self._failing:
                    logger.info("audit trail: writing again")
                    self._failing = False
            except (SQLAlchemyError, OSError) as exc:  # locked, full, unreachable: keep the events, retry later
                if not self._failing:
                    logger.warning("audit trail: cannot write now (%s); will retry", type(exc).__name__)
                    self._failing = True
                delay = min(max(delay * 2, 1.0), 30.0)

    async def flush(self) -> int:
        """Write what is queued now, in batches. Returns how many events were written."""
        if self._engine is None:
            return 0
        written = 0
        self._note_drops()
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            try:
                async with self._engine.begin() as conn:
                    # a chunk's rows and digests are made, then written: the loop serves calls while the driver
                    # writes, and no stretch of this work holds it for more than a chunk
                    digest = self.args_digest
                    for start in range(0, len(batch), _CHUNK):
                        rows = [
                            _row(event, None if arguments is None else digest(arguments))
                            for event, arguments in batch[start : start + _CHUNK]
                        ]
                        await conn.execute(_INSERT, rows)
                    if self.on_write is not None:
                        await self.on_write(conn, [event for event, _ in batch])
            except BaseException:
                self._queue.extendleft(reversed(batch))  # not written: keep them, in order
                raise
            written += len(batch)
        return written

    def _note_drops(self) -> None:
        new = self.dropped - self._dropped_reported
        if new <= 0:
            return
        self._dropped_reported = self.dropped
        logger.warning("audit trail: queue full, %d event(s) dropped (%d since start)", new, self.dropped)
        # bypasses the bound on purpose: one row per flush says how many are missing
        dropped = AuditEvent(event="audit.dropped", at=time.time(), actor="system", outcome="dropped", detail=str(new))
        self._queue.appendleft((dropped, None))

    async def purge(self, now: float | None = None) -> int:
        """Delete events older than the retention period. Returns how many."""
        if self._engine is None:
            return 0
        cutoff = (now or time.time()) - self.retention_days * 86400
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(audit_events).where(audit_events.c.at < cutoff))
        return int(result.rowcount or 0)

    async def aclose(self) -> None:
        """Write what is left, within a few seconds; what cannot be written is said in the log."""
        with anyio.move_on_after(5, shield=True):
            try:
                await self.flush()
            except (SQLAlchemyError, OSError) as exc:
                logger.warning("audit trail: %d event(s) not written at shutdown (%s)", self.queued, type(exc).__name__)


@dataclass(frozen=True)
class AuditQuery:
    user_id: str | None = None
    tool: str | None = None  # either spelling: Gmail.ListEmails or Gmail_ListEmails
    provider_id: str | None = None
    since: float | None = None
    limit: int = 100
    offset: int = 0


@translated
async def read_audit(engine: AsyncEngine, query: AuditQuery) -> tuple[list[dict[str, Any]], int]:
    """A page of events, newest first, and how many match in all."""
    conditions = []
    if query.user_id is not None:
        conditions.append(audit_events.c.user_id == query.user_id)
    if query.tool is not None:
        conditions.append(audit_events.c.tool == query.tool.replace("_", ".", 1))
    if query.provider_id is not None:
        conditions.append(audit_events.c.provider_id == query.provider_id)
    if query.since is not None:
        conditions.append(audit_events.c.at >= query.since)
    columns: Sequence[Any] = [c for c in audit_events.c if c.name != "id"]
    page = (
        select(*columns)
        .where(*conditions)
        .order_by(audit_events.c.at.desc(), audit_events.c.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    )
    count = select(func.count()).select_from(audit_events).where(*conditions)
    async with engine.execution_options(authmcp_read_only=True).connect() as conn:
        rows = [dict(row._mapping) for row in await conn.execute(page)]
        total = int((await conn.execute(count)).scalar_one())
    return rows, total


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """`1h`, `30m`, `7d`, `2w` (that long ago), or an ISO 8601 date or time (`2026-11-01`, UTC unless it has
    a zone) -> Unix seconds.

    Raises:
        ValueError: Neither form; the message says what is accepted.
    """
    value = text.strip()
    match = re.fullmatch(r"(\d{1,6})\s*([smhdw])", value)
    if match:
        return (now if now is not None else time.time()) - int(match[1]) * _UNITS[match[2]]
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"since {text[:40]!r} is not understood: give a duration such as 30m, 1h, 7d, 2w, "
            f"or a date such as 2026-11-01 (or 2026-11-01T09:00:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
