"""The audit writer on a real SQLite file: batching, a full queue, a locked database, retention, reading back."""

from __future__ import annotations

import datetime
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_server.observability.audit import AuditLog, AuditQuery, parse_since, read_audit
from mcp_server.vault import Keyring, Vault, generate_key
from tests.support.sqlite_lock import write_lock_held

pytestmark = pytest.mark.anyio


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = Vault.create_engine(f"sqlite:///{tmp_path / 'authmcp.db'}")
    vault = await Vault.open(engine, Keyring([generate_key()]))
    yield vault.engine
    await vault.aclose()


def audit_log(engine: AsyncEngine, **options: object) -> AuditLog:
    return AuditLog(engine, digest_key=b"k" * 32, **options)  # type: ignore[arg-type]


async def test_events_are_written_in_order_and_read_back_newest_first(engine: AsyncEngine) -> None:
    log = audit_log(engine, batch_size=2)
    for n in range(5):
        log.record("tool.call", user_id="alice", tool=f"Kit.Tool{n}", outcome="ok", arguments={"n": n})
    log.record("connection.revoked", user_id="bob", provider_id="demo", actor="admin")
    assert await log.flush() == 6 and log.queued == 0
    rows, total = await read_audit(engine, AuditQuery(user_id="alice", limit=3))
    assert total == 5 and [r["tool"] for r in rows] == ["Kit.Tool4", "Kit.Tool3", "Kit.Tool2"]
    assert all(r["args_digest"] and len(r["args_digest"]) == 32 for r in rows)
    by_tool, _ = await read_audit(engine, AuditQuery(tool="Kit_Tool1"))  # the MCP spelling finds it too
    assert [r["tool"] for r in by_tool] == ["Kit.Tool1"]
    by_provider, _ = await read_audit(engine, AuditQuery(provider_id="demo"))
    assert [(r["event"], r["actor"]) for r in by_provider] == [("connection.revoked", "admin")]


async def test_equal_arguments_match_without_their_values_being_stored(engine: AsyncEngine, tmp_path: Path) -> None:
    log = audit_log(engine)
    canary = "canary-argument-value-7f3a"
    log.record("tool.call", tool="Kit.Send", arguments={"to": "x@example.com", "body": canary})
    log.record("tool.call", tool="Kit.Send", arguments={"body": canary, "to": "x@example.com"})
    log.record("tool.call", tool="Kit.Send", arguments={"to": "x@example.com", "body": "other"})
    await log.flush()
    rows, _ = await read_audit(engine, AuditQuery())
    digests = [r["args_digest"] for r in reversed(rows)]
    assert digests[0] == digests[1] != digests[2]
    other_key = AuditLog(engine, digest_key=b"z" * 32)
    assert other_key.args_digest({"to": "x@example.com", "body": canary}) != digests[0]  # keyed, not a bare hash
    for path in tmp_path.glob("authmcp.db*"):
        assert canary.encode() not in path.read_bytes()


async def test_a_full_queue_drops_counts_and_says_so_in_the_trail(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    log = audit_log(engine, queue_size=100)
    for _ in range(130):
        log.record("tool.call", user_id="alice", outcome="ok")  # never blocks, never raises
    assert log.queued == 100 and log.dropped == 30
    await log.flush()
    rows, total = await read_audit(engine, AuditQuery(limit=100))
    assert total == 101
    dropped = [r for r in rows if r["event"] == "audit.dropped"]
    assert len(dropped) == 1 and dropped[0]["detail"] == "30"
    assert "30 event(s) dropped" in caplog.text


async def test_a_database_locked_by_another_process_keeps_the_events_for_later(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    with write_lock_held(tmp_path / "authmcp.db"):
        log = audit_log(engine)
        log.record("tool.call", user_id="alice", tool="Kit.A")
        log.record("tool.call", user_id="alice", tool="Kit.B")
        with pytest.raises(Exception, match="locked"):
            await log.flush()
        assert log.queued == 2  # nothing lost
    assert await log.flush() == 2
    rows, _ = await read_audit(engine, AuditQuery())
    assert [r["tool"] for r in rows] == ["Kit.B", "Kit.A"]


async def test_retention_purges_only_old_events(engine: AsyncEngine) -> None:
    log = audit_log(engine, retention_days=90)
    log.record("tool.call", tool="Kit.Recent")
    await log.flush()
    assert await log.purge(now=time.time() + 89 * 86400) == 0
    assert await log.purge(now=time.time() + 91 * 86400) == 1
    assert (await read_audit(engine, AuditQuery()))[1] == 0


async def test_a_disabled_log_records_nothing() -> None:
    log = AuditLog.disabled()
    log.record("tool.call", tool="Kit.A")
    assert log.queued == 0 and await log.flush() == 0


@pytest.mark.parametrize(
    ("text", "seconds_ago"), [("30m", 1800), ("1h", 3600), ("7d", 7 * 86400), ("2w", 14 * 86400), ("45s", 45)]
)
def test_since_takes_a_duration(text: str, seconds_ago: int) -> None:
    assert parse_since(text, now=1_000_000.0) == 1_000_000.0 - seconds_ago


def test_since_takes_a_date_in_utc_unless_zoned() -> None:
    assert parse_since("2026-11-01") == datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC).timestamp()
    assert (
        parse_since("2026-11-01T09:00:00+01:00") == datetime.datetime(2026, 11, 1, 8, tzinfo=datetime.UTC).timestamp()
    )


@pytest.mark.parametrize("text", ["yesterday", "1y", "-1h", "2026-13-01", ""])
def test_since_refuses_anything_else_saying_what_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match="give a duration such as 30m"):
        parse_since(text)


async def test_observers_see_every_event_and_a_failing_one_breaks_nothing(engine: AsyncEngine) -> None:
    log = audit_log(engine)
    seen: list[str] = []

    def broken(event: object) -> None:
        raise RuntimeError("observer bug")

    log.observers += [broken, lambda event: seen.append(event.event)]  # type: ignore[attr-defined]
    log.record("tool.call", tool="Kit.Tool", outcome="ok")
    log.record("connection.revoked", provider_id="demo")
    assert seen == ["tool.call", "connection.revoked"]
    assert await log.flush() == 2
