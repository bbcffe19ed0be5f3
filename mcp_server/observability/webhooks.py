"""Events out: Standard Webhooks from an outbox table, so a delivery survives a restart and a receiver that is
down for a while.

The outbox is filled by the audit writer, in the transaction that writes the events (`AuditLog.on_write`):
one implementation of "an event happened", and nothing on the call path. `WebhookSender.run` delivers what is
due: each attempt has a total deadline, failures are retried with a doubling back-off, and every attempt
leaves a `webhook.delivery` row in the audit trail. The back-off is the endpoint's, not the row's: once a
receiver takes a delivery it is back, so its other waiting rows are due at once and their next failure starts
again from the first step. Replicas sharing a database claim a row before sending it.

Signing follows Standard Webhooks: headers `webhook-id` (the same on every attempt), `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the bytes of `whsec_<base64>`.
Bodies hold names and outcomes (the audit event's fields), never a token, secret or argument value.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

import anyio
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mcp_server._http import httpx2
from mcp_server.config import WebhookSettings
from mcp_server.observability.audit import AuditEvent, AuditLog
from mcp_server.vault.schema import webhook_outbox

__all__ = ["WebhookSender", "attach_outbox", "sign", "webhook_type"]

logger = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0
KEEP_DONE_SECONDS = 7 * 86400  # delivered and abandoned rows are kept this long, then purged
_BODY_FIELDS = ("user_id", "provider_id", "tool", "scopes", "outcome", "error_kind", "actor", "flow_ref", "trace_id")


def webhook_type(event: str) -> str | None:
    """The webhook an audit event becomes, if any."""
    if event in ("approval.granted", "approval.declined"):
        return "approval.decided"
    if event in (
        "connection.needs_reauth",
        "connection.revoked",
        "authorization.completed",
        "authorization.failed",
        "audit.dropped",
    ):
        return event
    return None


def _sends(kind: str | None, wanted: frozenset[str]) -> bool:
    # `audit.dropped` goes to every receiver whatever it chose: it says events may be missing, and how many
    return kind is not None and (kind in wanted or kind == "audit.dropped")


def sign(key: bytes, msg_id: str, timestamp: int, body: str) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _url_digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _body(kind: str, event: AuditEvent) -> str:
    fields = asdict(event)
    data = {name: fields[name] for name in _BODY_FIELDS if fields[name] is not None}
    if kind == "approval.decided":
        data["decision"] = event.event.removeprefix("approval.")
    if event.detail is not None:
        data["detail"] = event.detail  # our own words (see AuditEvent)
    at = datetime.datetime.fromtimestamp(event.at, datetime.UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": kind, "timestamp": at, "data": data}, separators=(",", ":"))


def attach_outbox(audit: AuditLog, settings: WebhookSettings) -> None:
    """Have the audit writer queue the configured webhooks with the events it writes (no-op without URLs)."""
    if not settings.urls:
        return
    wanted = frozenset(settings.events)
    digests = [_url_digest(url) for url in settings.urls]
    audit.reserved = lambda event: _sends(webhook_type(event), wanted)  # never crowded out by tool calls

    async def enqueue(conn: AsyncConnection, events: Sequence[AuditEvent]) -> None:
        rows = []
        now = time.time()
        for event in events:
            kind = webhook_type(event.event)
            if kind is None or not _sends(kind, wanted):
                continue
            msg_id, body = "msg_" + secrets.token_hex(12), _body(kind, event)
            rows += [
                {
                    "msg_id": msg_id,
                    "url_digest": d,
                    "event": kind,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for d in digests
            ]
        if rows:
            await conn.execute(insert(webhook_outbox), rows)

    audit.on_write = enqueue


class _HideEndpoints(logging.Filter):
    """The HTTP client logs every request's URL; a webhook URL may hold the receiver's secret: show its host."""

    def __init__(self, urls: set[str]) -> None:
        super().__init__()
        self.urls = urls

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 1 and str(args[1]) in self.urls:
            parts = urlsplit(str(args[1]))
            record.args = (args[0], f"{parts.scheme}://{parts.netloc}/(webhook)", *args[2:])
        return True


class WebhookSender:
    """Delivers due outbox rows; `run` it in the server's task group."""

    def __init__(
        self, engine: AsyncEngine, settings: WebhookSettings, audit: AuditLog, *, poll_seconds: float = 1.0
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._key = settings.signing_key()
        self._urls = {_url_digest(url): url for url in settings.urls}
        self._audit = audit
        self._poll = poll_seconds
        self._failing = False

    async def run(self) -> None:
        next_purge = 0.0
        hide = _HideEndpoints(set(self._urls.values()))
        logging.getLogger("httpx2").addFilter(hide)
        try:
            await self._run(next_purge)
        finally:
            logging.getLogger("httpx2").removeFilter(hide)

    async def _run(self, next_purge: float) -> None:
        async with httpx2.AsyncClient(follow_redirects=False) as http:
            while True:
                sent = 0
                try:
                    sent = await self.deliver_due(http)
                    if time.monotonic() >= next_purge:
                        await self.purge()
                        next_purge = time.monotonic() + 3600
                    self._failing = False
                except (SQLAlchemyError, OSError) as exc:
                    if not self._failing:
                        logger.warning("webhooks: cannot read the outbox now (%s); will retry", type(exc).__name__)
                        self._failing = True
                await anyio.sleep(0 if sent else self._poll)

    async def deliver_due(self, http: httpx2.AsyncClient, limit: int = 20) -> int:
        """Claim and deliver up to `limit` due rows, concurrently. Returns how many were attempted."""
        now = time.time()
        due = (
            select(webhook_outbox)
            .where(
                webhook_outbox.c.status == "pending",
                webhook_outbox.c.next_attempt_at <= now,
                or_(webhook_outbox.c.claimed_until.is_(None), webhook_outbox.c.claimed_until < now),
            )
            .order_by(webhook_outbox.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = [dict(row._mapping) for row in await conn.execute(due)]
        claimed = [row for row in rows if await self._claim(row["id"], now)]
        async with anyio.create_task_group() as tg:
            for row in claimed:
                tg.start_soon(self._deliver, http, row)
        return len(claimed)

    async def _claim(self, row_id: int, now: float) -> bool:
        """Take the row for this process (another replica may have taken it since it was read)."""
        claim = (
            update(webhook_outbox)
            .where(
                webhook_outbox.c.id == row_id,
                webhook_outbox.c.status == "pending",
                or_(webhook_outbox.c.claimed_until.is_(None), webhook_outbox.c.claimed_until < now),
            )
            .values(claimed_until=now + self._settings.timeout_seconds + 30)
        )
        async with self._engine.begin() as conn:
            return (await conn.execute(claim)).rowcount == 1

    async def _deliver(self, http: httpx2.AsyncClient, row: dict[str, Any]) -> None:
        """One attempt. Whatever goes wrong here stays here: the row's claim runs out and it is tried again."""
        try:
            await self._attempt(http, row)
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("webhook %s: cannot record the attempt now (%s)", row["msg_id"], type(exc).__name__)

    async def _attempt(self, http: httpx2.AsyncClient, row: dict[str, Any]) -> None:
        url = self._urls.get(row["url_digest"])
        attempt = row["attempts"] + 1
        if url is None:  # the endpoint was removed from the configuration
            await self._settle(row, "failed", attempt, "endpoint no longer configured")
            return
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": row["msg_id"],
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._key, row["msg_id"], timestamp, row["body"]),
        }
        error: str | None = None
        with anyio.move_on_after(self._settings.timeout_seconds) as deadline:
            try:
                response = await http.post(url, content=row["body"].encode(), headers=headers)
                if not 200 <= response.status_code < 300:
                    error = f"HTTP {response.status_code}"
            except httpx2.HTTPError as exc:
                error = type(exc).__name__
        if deadline.cancelled_caught:
            error = "no answer in time"
        if error is None:
            status = "delivered"
        elif time.time() - row["created_at"] >= self._settings.give_up_hours * 3600:
            status = "failed"
        else:
            status = "pending"
        await self._settle(row, status, attempt, error)
        host = urlsplit(url).netloc  # the path and query may hold the receiver's own secret
        self._audit.record(
            "webhook.delivery",
            actor="system",
            error_kind=error,
            outcome={"delivered": "ok", "pending": "retry", "failed": "gave_up"}[status],
            detail=f"{row['event']} {row['msg_id']} to {host}, attempt {attempt}",
        )
        if status == "failed":
            logger.warning("webhook %s to %s abandoned after %d attempts (%s)", row["msg_id"], host, attempt, error)

    async def _settle(self, row: dict[str, Any], status: str, attempt: int, error: str | None) -> None:
        now = time.time()
        failures = 0 if error is None else row["failures"] + 1
        backoff = min(self._settings.retry_seconds * 2 ** max(failures - 1, 0), MAX_BACKOFF)
        values = {
            "status": status,
            "attempts": attempt,
            "claimed_until": None,
            "last_error": error,
            "updated_at": now,
            "next_attempt_at": now + backoff,
            "failures": failures,
        }
        with anyio.CancelScope(shield=True):
            async with self._engine.begin() as conn:
                await conn.execute(update(webhook_outbox).where(webhook_outbox.c.id == row["id"]).values(**values))
            if error is None:  # the receiver is back: what waits for it is due now, from the first step again
                # (a transaction of its own: beside the row's update it would lock rows in another order than the
                # concurrent deliveries to the same receiver, and deadlock with them)
                async with self._engine.begin() as conn:
                    await conn.execute(
                        update(webhook_outbox)
                        .where(
                            webhook_outbox.c.url_digest == row["url_digest"],
                            webhook_outbox.c.status == "pending",
                            webhook_outbox.c.failures > 0,
                        )
                        .values(failures=0, next_attempt_at=now)
                    )

    async def purge(self, now: float | None = None) -> int:
        cutoff = (now or time.time()) - KEEP_DONE_SECONDS
        done = and_(webhook_outbox.c.status != "pending", webhook_outbox.c.updated_at < cutoff)
        async with self._engine.begin() as conn:
            return int((await conn.execute(delete(webhook_outbox).where(done))).rowcount or 0)
