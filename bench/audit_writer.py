"""What the audit trail costs the event loop that serves calls: on the call path, and while a batch is written.

The real `AuditLog` on a real SQLite file (a vault's, its schema in place), with `tool.call` events as the gate
records them (names, outcome, duration, the call's arguments for their digest):

  record   CPU of the event loop's thread per `record` call (what a call pays), over `--events` calls
  flush    CPU of the event loop's thread per event while `flush` writes them (`--events` at a time, in the
           writer's batches): the digests, the rows and the statement; the driver's own thread is not counted
  longest  the longest stretch of the event loop's thread's CPU between two turns of a task that only yields,
           while a flush runs: how long a call that is ready to run can be kept waiting by the writer

CPU is `time.thread_time` of the loop's thread, so time the machine spends elsewhere does not count; each figure
is the median of `--rounds` rounds. The writer's batches and chunks are its defaults.

    .venv/bin/python bench/audit_writer.py [--events 500] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcp_server.observability.audit import AuditLog
from mcp_server.vault import Keyring, Vault, generate_key


def record(log: AuditLog, events: int) -> float:
    """Record `events` tool calls; the loop thread's CPU per call, in µs."""
    started = time.thread_time()
    for n in range(events):
        log.record(
            "tool.call",
            user_id=f"user-{n % 50}",
            tool="Kit.Echo",
            provider_id="demo",
            scopes="read write",
            outcome="ok",
            duration_ms=0.25,
            arguments={"text": "hello", "n": n},
            actor="user",
        )
    return (time.thread_time() - started) / events * 1e6


async def longest_stretch_during_flush(log: AuditLog) -> float:
    """The longest stretch of loop-thread CPU between two turns of a yielding task while `flush` runs, in ms."""
    longest, done = 0.0, False

    async def ticker() -> None:
        nonlocal longest
        last = time.thread_time()
        while not done:
            await anyio.sleep(0)
            now = time.thread_time()
            longest, last = max(longest, now - last), now

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        await anyio.sleep(0)
        await log.flush()
        done = True
    return longest * 1000


async def main(events: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="authmcp-audit-writer-") as tmp:
        engine = Vault.create_engine(f"sqlite:///{Path(tmp, 'authmcp.db')}")
        vault = await Vault.open(engine, Keyring([generate_key()]))
        try:
            log = AuditLog(vault.engine, digest_key=b"k" * 32)
            record(log, events)
            await log.flush()  # warm-up: the statement compiled, the pool's connection open
            recorded, flushed, longest = [], [], []
            for _ in range(rounds):
                recorded.append(record(log, events))
                started = time.thread_time()
                written = await log.flush()
                flushed.append((time.thread_time() - started) / written * 1e6)
                record(log, events)
                longest.append(await longest_stretch_during_flush(log))
        finally:
            await vault.aclose()
    print(
        f"authmcp {version('authmcp')}, SQLAlchemy {version('sqlalchemy')}, Python {sys.version.split()[0]}; "
        f"{events} tool.call events a round, median of {rounds} rounds; CPU of the event loop's thread"
    )
    print(f"{'record, µs per event':<44}{statistics.median(recorded):>8.1f}")
    print(f"{'flush, µs per event':<44}{statistics.median(flushed):>8.1f}")
    print(f"{'longest stretch holding the loop, ms':<44}{statistics.median(longest):>8.2f}")


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=_at_least_one, default=500, help="events recorded and flushed a round")
    parser.add_argument("--rounds", type=_at_least_one, default=15, help="rounds; figures are medians")
    options = parser.parse_args()
    anyio.run(main, options.events, options.rounds)
