"""The webhook outbox and sender on a real database (SQLite file and PostgreSQL), against in-test receivers."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook

from mcp_server._http import httpx2
from mcp_server.config import WebhookSettings
from mcp_server.observability.audit import AuditLog, AuditQuery, read_audit
from mcp_server.observability.webhooks import WebhookSender, attach_outbox
from mcp_server.vault import Vault, open_vault
from mcp_server.vault.schema import webhook_outbox
from tests.e2e.conftest import free_port
from tests.support.postgres import postgres_url  # noqa: F401 - a fixture
from tests.support.receiver import Receiver

pytestmark = pytest.mark.anyio

SECRET = "whsec_" + base64.b64encode(b"unit-test-webhook-signing-key-32").decode()


@pytest.fixture(params=["sqlite", "postgresql"])
async def vault(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Vault]:
    url = (
        f"sqlite:///{tmp_path / 'authmcp.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    v = await open_vault(str(url), env_keys=[], key_file=tmp_path / "keys")
    yield v
    await v.aclose()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started = [Receiver().start(), Receiver().start()]
    yield started
    for receiver in started:
        receiver.stop()


def settings(*urls: str, **options: Any) -> WebhookSettings:
    return WebhookSettings(urls=list(urls), secret=SECRET, **options)


def audit_with_outbox(vault: Vault, config: WebhookSettings) -> AuditLog:
    audit = AuditLog(vault.engine, digest_key=b"k" * 32)
    attach_outbox(audit, config)
    return audit


async def outbox(vault: Vault) -> list[dict[str, Any]]:
    async with vault.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(webhook_outbox).order_by(webhook_outbox.c.id))]


async def test_each_chosen_event_goes_once_to_every_url_signed(vault: Vault, receivers: list[Receiver]) -> None:
    config = settings(*(r.url for r in receivers))
    audit = audit_with_outbox(vault, config)
    audit.record("tool.call", user_id="alice", tool="Kit.Send", outcome="ok", arguments={"body": "canary-3f1"})
    audit.record("connection.revoked", user_id="alice", provider_id="demo", actor="user", outcome="ok")
    audit.record("approval.granted", user_id="alice", tool="Kit.Send", outcome="granted", arguments={"body": "x"})
    await audit.flush()
    sender = WebhookSender(vault.engine, config, audit)
    async with httpx2.AsyncClient() as http:
        assert await sender.deliver_due(http) == 4  # two events, two URLs
        assert await sender.deliver_due(http) == 0  # delivered rows are not sent again
    for receiver in receivers:
        payloads = [Webhook(SECRET).verify(r.body, r.headers) for r in receiver.bodies()]
        assert sorted(p["type"] for p in payloads) == ["approval.decided", "connection.revoked"]
        assert b"canary-3f1" not in b"".join(r.body for r in receiver.bodies())
    first, second = receivers[0].bodies(), receivers[1].bodies()
    assert {r.headers["webhook-id"] for r in first} == {r.headers["webhook-id"] for r in second}  # one message each
    assert {row["status"] for row in await outbox(vault)} == {"delivered"}
    await audit.flush()
    rows, _ = await read_audit(vault.engine, AuditQuery())
    assert sum(r["event"] == "webhook.delivery" and r["outcome"] == "ok" for r in rows) == 4


async def test_only_the_configured_events_are_queued(vault: Vault, receivers: list[Receiver]) -> None:
    audit = audit_with_outbox(vault, settings(receivers[0].url, events=["connection.revoked"]))
    audit.record("approval.declined", user_id="alice", tool="Kit.Send", outcome="declined")
    audit.record("connection.revoked", user_id="alice", provider_id="demo", actor="admin", outcome="ok")
    await audit.flush()
    assert [row["event"] for row in await outbox(vault)] == ["connection.revoked"]


async def test_a_full_queue_keeps_what_webhooks_carry_and_tells_every_receiver_how_many_it_dropped(
    vault: Vault, receivers: list[Receiver]
) -> None:
    config = settings(receivers[0].url, events=["connection.revoked"])  # audit.dropped is not chosen: it goes anyway
    audit = AuditLog(vault.engine, digest_key=b"k" * 32, queue_size=100)
    attach_outbox(audit, config)
    for _ in range(130):
        audit.record("tool.call", user_id="alice", tool="Kit.Send", outcome="ok")  # a flood fills the queue
    audit.record("connection.revoked", user_id="alice", provider_id="demo", actor="user", outcome="ok")
    audit.record("approval.declined", user_id="alice", tool="Kit.Send", outcome="declined")  # not a chosen webhook
    assert audit.dropped == 31 and audit.queued == 101  # 30 calls and the decline dropped, the revocation kept
    await audit.flush()
    sender = WebhookSender(vault.engine, config, audit)
    async with httpx2.AsyncClient() as http:
        assert await sender.deliver_due(http) == 2
    payloads = [Webhook(SECRET).verify(r.body, r.headers) for r in receivers[0].bodies()]
    by_type = {payload["type"]: payload["data"] for payload in payloads}
    assert by_type.keys() == {"audit.dropped", "connection.revoked"}
    assert by_type["audit.dropped"] == {"outcome": "dropped", "actor": "system", "detail": "31"}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


async def test_a_receiver_that_never_answers_is_cut_off_and_retried_later(vault: Vault, silent_port: int) -> None:
    config = settings(f"http://127.0.0.1:{silent_port}/hook", timeout_seconds=0.5, retry_seconds=60)
    audit = audit_with_outbox(vault, config)
    audit.record("connection.needs_reauth", user_id="alice", provider_id="demo", actor="provider")
    await audit.flush()
    sender = WebhookSender(vault.engine, config, audit)
    async with httpx2.AsyncClient() as http:
        with anyio.fail_after(10):  # the attempt's own deadline ends it, not this guard
            assert await sender.deliver_due(http) == 1
        assert await sender.deliver_due(http) == 0  # backing off: not due yet
    (row,) = await outbox(vault)
    assert row["status"] == "pending" and row["attempts"] == 1 and row["last_error"] == "no answer in time"
    assert row["next_attempt_at"] > row["updated_at"] and row["claimed_until"] is None
    await audit.flush()
    rows, _ = await read_audit(vault.engine, AuditQuery())
    attempt = next(r for r in rows if r["event"] == "webhook.delivery")
    assert attempt["outcome"] == "retry" and attempt["error_kind"] == "no answer in time"
    assert "connection.needs_reauth" in attempt["detail"] and "attempt 1" in attempt["detail"]


async def due_now(vault: Vault) -> None:
    """Time passes: every waiting row's back-off is over."""
    async with vault.engine.begin() as conn:
        await conn.execute(update(webhook_outbox).where(webhook_outbox.c.status == "pending").values(next_attempt_at=0))


async def test_a_receiver_back_up_resets_the_back_off_of_what_waits_for_it(vault: Vault) -> None:
    port = free_port()  # nothing listens there yet: the receiver is down
    config = settings(f"http://127.0.0.1:{port}/hook", retry_seconds=60)
    audit = audit_with_outbox(vault, config)
    for user in ("alice", "bob"):
        audit.record("connection.revoked", user_id=user, provider_id="demo", actor="user", outcome="ok")
    await audit.flush()
    sender = WebhookSender(vault.engine, config, audit)

    async def backoffs() -> list[float]:
        return [r["next_attempt_at"] - r["updated_at"] for r in await outbox(vault) if r["status"] == "pending"]

    async with httpx2.AsyncClient() as http:
        for step in (60, 120, 240):  # down: each failure doubles the wait
            await due_now(vault)
            assert await sender.deliver_due(http) == 2
            assert await backoffs() == [step, step]

        receiver = Receiver(port).start()  # up: a new event goes out at once, and what waited is due again
        try:
            audit.record("connection.revoked", user_id="carol", provider_id="demo", actor="user", outcome="ok")
            await audit.flush()
            assert await sender.deliver_due(http) == 1  # carol's: alice's and bob's still wait 240 s
            rows = await outbox(vault)
            assert [(r["status"], r["failures"]) for r in rows] == [("pending", 0), ("pending", 0), ("delivered", 0)]
            assert [r["next_attempt_at"] for r in rows[:2]] == [rows[2]["updated_at"]] * 2  # due since then
        finally:
            receiver.stop()

        # down again before those two went out: their next failure waits the first step, not the fourth
        assert await sender.deliver_due(http) == 2
        assert await backoffs() == [60, 60]
        assert [r["attempts"] for r in await outbox(vault)] == [4, 4, 1]  # attempts still count them all

        receiver = Receiver(port).start()
        try:
            await due_now(vault)
            assert await sender.deliver_due(http) == 2
        finally:
            receiver.stop()
    users = [json.loads(r.body)["data"]["user_id"] for r in receiver.bodies()]
    assert sorted(users) == ["alice", "bob"]  # each once, after the second outage
    assert {row["status"] for row in await outbox(vault)} == {"delivered"}


async def test_two_processes_deliver_a_row_once(vault: Vault, receivers: list[Receiver]) -> None:
    config = settings(receivers[0].url)
    audit = audit_with_outbox(vault, config)
    for n in range(5):
        audit.record("authorization.completed", user_id=f"user{n}", provider_id="demo", outcome="ok")
    await audit.flush()
    senders = [WebhookSender(vault.engine, config, audit), WebhookSender(vault.engine, config, audit)]
    attempted: list[int] = []
    async with httpx2.AsyncClient() as http:

        async def deliver(sender: WebhookSender) -> None:
            attempted.append(await sender.deliver_due(http))

        async with anyio.create_task_group() as tg:
            for sender in senders:
                tg.start_soon(deliver, sender)
    assert sum(attempted) == 5
    users = sorted(json.loads(r.body)["data"]["user_id"] for r in receivers[0].bodies())
    assert users == [f"user{n}" for n in range(5)]


def test_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="signing secret"):
        WebhookSettings(urls=["https://example.com/hook"])
    with pytest.raises(ValueError, match="whsec_"):
        WebhookSettings(urls=["https://example.com/hook"], secret="whsec_dG9vc2hvcnQ=")
    with pytest.raises(ValueError, match="absolute http"):
        WebhookSettings(urls=["example.com/hook"], secret=SECRET)
    with pytest.raises(ValueError, match="unknown webhook event"):
        WebhookSettings(urls=["https://example.com/hook"], secret=SECRET, events=["tool.call"])
