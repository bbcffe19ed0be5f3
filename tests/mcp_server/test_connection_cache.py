"""The in-memory view of connections (connection_cache.py): never a wait on a re-read, one read per key in flight,
absent entries kept, and no read that started before a change ever stored after it.

The races are made deterministic with loads that block on an event, never with timing.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from mcp_server.authorization.cache import MISSING, SwrCache, Uncached

pytestmark = pytest.mark.anyio


class Source:
    """What the cache reads: a value per key, a count of reads, and a gate that holds reads once they have read."""

    def __init__(self, **values: str | None) -> None:
        self.values: dict[str, str | None] = dict(values)
        self.reads: list[str] = []
        self.gate: asyncio.Event | None = None
        self.read_done = asyncio.Event()  # set whenever a read has its value and waits at the gate
        self.fail: Exception | None = None

    async def load(self, key: str) -> str | None:
        self.reads.append(key)
        value = self.values.get(key)  # read now: a change after this point is not in what it returns
        self.read_done.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return value

    def hold(self) -> asyncio.Event:
        self.gate = asyncio.Event()
        self.read_done.clear()
        return self.gate


def cache(
    source: Source, *, fresh: float = 300.0, stale: float = 3000.0, entries: int = 100
) -> SwrCache[str, str | None]:
    return SwrCache(source.load, fresh_seconds=fresh, max_stale_seconds=stale, max_entries=entries, name="thing")


async def test_a_stale_entry_is_served_while_one_background_read_runs() -> None:
    source = Source(alice="v1")
    view = cache(source, fresh=0.0)  # every entry is stale at once, and servable for long
    assert await view.get("alice") == "v1"
    source.values["alice"] = "v2"
    gate = source.hold()
    served = [view.peek("alice") for _ in range(50)]  # 50 calls meanwhile: none waits
    assert served == ["v1"] * 50
    await source.read_done.wait()
    assert source.reads == ["alice", "alice"]  # the first load, then ONE re-read for all 50 stale hits
    gate.set()
    await asyncio.sleep(0)
    while view.peek("alice") == "v1":  # the re-read lands (stale hits keep starting at most one more)
        await asyncio.sleep(0)
    assert view.peek("alice") == "v2"


async def test_concurrent_misses_share_one_read() -> None:
    source = Source(alice="v1")
    view = cache(source)
    gate = source.hold()
    callers = [asyncio.ensure_future(view.get("alice")) for _ in range(100)]
    await source.read_done.wait()
    gate.set()
    assert await asyncio.gather(*callers) == ["v1"] * 100
    assert source.reads == ["alice"] and view.loads == 1


async def test_an_absent_value_is_kept_until_it_is_forgotten() -> None:
    source = Source()
    view = cache(source)
    for _ in range(10):
        assert await view.get("bob") is None
    assert source.reads == ["bob"]  # one read for ten calls of a user without a grant
    source.values["bob"] = "granted"
    view.forget("bob")  # what a finished flow does, here or on hearing another process
    assert await view.get("bob") == "granted"


async def test_a_read_that_started_before_forget_never_stores_its_result() -> None:
    source = Source()  # nothing granted yet
    view = cache(source)
    gate = source.hold()
    caller = asyncio.ensure_future(view.get("bob"))
    await source.read_done.wait()  # the read has seen "no connection" ...
    source.values["bob"] = "granted"  # ... then the flow completes and says so
    view.forget("bob")
    source.gate = None
    gate.set()
    assert await caller == "granted"  # the caller that awaited the overtaken read reads again
    assert view.peek("bob") == "granted" and source.reads == ["bob", "bob"]


async def test_a_background_read_that_started_before_put_never_overwrites_it() -> None:
    source = Source(bob=None)
    view = cache(source, fresh=0.0)
    assert await view.get("bob") is None
    gate = source.hold()
    assert view.peek("bob") is None  # stale hit: a background re-read starts, sees "absent", waits
    await source.read_done.wait()
    view.put("bob", "granted")  # this process just stored the connection
    gate.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert view._entries["bob"].value == "granted"  # the overtaken read was dropped
    assert view.peek("bob") == "granted"


async def test_a_read_that_started_before_clear_never_stores_its_result() -> None:
    source = Source(alice="old")
    view = cache(source)
    gate = source.hold()
    caller = asyncio.ensure_future(view.get("alice"))
    await source.read_done.wait()
    source.values["alice"] = "new"
    view.clear()  # notices were missed
    source.gate = None
    gate.set()
    assert await caller == "new"


async def test_the_view_is_bounded_and_drops_the_least_recently_used() -> None:
    source = Source(**{f"u{i}": f"v{i}" for i in range(10)})
    view = cache(source, entries=3)
    for i in range(3):
        await view.get(f"u{i}")
    assert view.peek("u0") == "v0"  # used again: u1 is now the oldest
    await view.get("u3")
    assert len(view) == 3
    assert view.peek("u1") is MISSING and view.peek("u0") == "v0"


async def test_an_entry_unused_past_its_staleness_bound_is_read_before_it_is_served() -> None:
    source = Source(alice="v1")
    view = cache(source, fresh=0.0, stale=0.0)
    await view.get("alice")
    assert view.peek("alice") is MISSING
    source.values["alice"] = "v2"
    assert await view.get("alice") == "v2"


async def test_a_failed_background_read_keeps_serving_the_entry(caplog: pytest.LogCaptureFixture) -> None:
    source = Source(alice="v1")
    view = cache(source, fresh=0.0)
    await view.get("alice")
    source.fail = RuntimeError("database is away")
    gate = source.hold()
    assert view.peek("alice") == "v1"
    await source.read_done.wait()
    with caplog.at_level(logging.WARNING, logger="mcp_server.authorization.cache"):
        gate.set()
        for _ in range(5):
            await asyncio.sleep(0)
    assert "re-reading a cached thing failed: database is away" in caplog.text
    assert view.peek("alice") == "v1"  # still served; the next stale hit retries after a pause
    assert len(source.reads) == 2


async def test_a_failed_read_raises_to_its_callers_and_the_next_call_reads_again() -> None:
    source = Source(alice="v1")
    source.fail = RuntimeError("database is away")
    view = cache(source)
    with pytest.raises(RuntimeError):
        await view.get("alice")
    source.fail = None
    assert await view.get("alice") == "v1"


async def test_a_caller_that_gives_up_does_not_cancel_the_read_others_share() -> None:
    source = Source(alice="v1")
    view = cache(source)
    gate = source.hold()
    quitter = asyncio.ensure_future(view.get("alice"))
    stayer = asyncio.ensure_future(view.get("alice"))
    await source.read_done.wait()
    quitter.cancel()
    gate.set()
    assert await stayer == "v1"
    assert quitter.cancelled() and source.reads == ["alice"]


async def test_an_uncached_answer_reaches_the_caller_and_is_not_kept() -> None:
    reads: list[str] = []

    async def load(key: str) -> str | Uncached[None] | None:
        reads.append(key)
        return Uncached(None)  # e.g. a row this process cannot decrypt now

    view: SwrCache[str, str | None] = SwrCache(load, fresh_seconds=60, max_stale_seconds=600, max_entries=10)
    assert await view.get("alice") is None
    assert await view.get("alice") is None
    assert reads == ["alice", "alice"]


async def test_closing_ends_every_read_in_flight_even_one_a_clear_let_go() -> None:
    source = Source(alice="v1", bob="v2")
    view = cache(source, fresh=0.0)
    assert await view.get("alice") == "v1"
    ended: list[str] = []
    real_load = source.load

    async def load(key: str) -> str | None:
        try:
            return await real_load(key)
        except asyncio.CancelledError:
            ended.append(key)  # a database read let go of its connection here
            raise

    view._load = load  # type: ignore[method-assign]
    source.hold()  # reads block until cancelled
    assert view.peek("alice") == "v1"  # a background re-read starts ...
    await source.read_done.wait()
    view.clear()  # ... and a missed-notices clear forgets it: no longer anyone's flight, still running
    source.read_done.clear()
    waiter = asyncio.ensure_future(view.get("bob"))
    await source.read_done.wait()  # bob's read runs too
    await view.aclose()
    assert sorted(ended) == ["alice", "bob"]
    with pytest.raises(asyncio.CancelledError):
        await waiter  # the caller waiting on a read is told it ended, not left hanging
    source.gate = None
    assert await view.get("bob") == "v2"  # still usable afterwards
