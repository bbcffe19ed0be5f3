"""An in-memory view that never makes a call wait on a re-read: stale-while-revalidate with single flight.

- A fresh entry is served as is. A stale one (older than `fresh_seconds`) is served too, while one background
  task re-reads it. Only a missing entry, or one past `max_stale_seconds`, is awaited, and concurrent callers
  for one key share that one load.
- Absent values are cached like any other (a user without a grant costs no read per call); whoever changes
  the data calls `put` or `forget`, here or on hearing another process's notice, so the windows can be long.
- Every `put`, `forget` and `clear` invalidates the loads in flight for its keys: a read that started before
  an invalidation may have seen the old data, so it is never stored, and whoever awaited it loads again.
- At most `max_entries` keys are kept; the least recently used goes first.
- `aclose` cancels the reads still running (each holds a database connection) before their database closes.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Final, Generic, Literal, TypeVar

__all__ = ["MISSING", "SwrCache", "Uncached"]

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

RETRY_SECONDS = 1.0  # after a failed background re-read, the stale entry is served this long before the next try


class _Missing(enum.Enum):
    MISSING = "MISSING"  # an enum member, so that `is MISSING` narrows a value's type


MISSING: Final = _Missing.MISSING  # `peek` found nothing servable: `await load(key)`


@dataclass(frozen=True)
class Uncached(Generic[V]):
    """A loader's answer to hand to the caller without storing it (e.g. a row that cannot be decrypted now)."""

    value: V


@dataclass
class _Entry(Generic[V]):
    value: V
    loaded_at: float  # monotonic
    revalidate_at: float  # monotonic: past it, a stale hit starts a background re-read


class _Flight(Generic[V]):
    __slots__ = ("background", "invalidated", "task")

    def __init__(self, background: bool) -> None:
        self.task: asyncio.Task[V | Uncached[V]]
        self.background = background
        self.invalidated = False  # set by put/forget/clear: the result may predate them; never store it


class SwrCache(Generic[K, V]):
    def __init__(
        self,
        load: Callable[[K], Awaitable[V | Uncached[V]]],
        *,
        fresh_seconds: float,
        max_stale_seconds: float,
        max_entries: int,
        name: str = "cache",
    ) -> None:
        self._load = load
        self.fresh_seconds = fresh_seconds
        self.max_stale_seconds = max(max_stale_seconds, fresh_seconds)
        self.max_entries = max_entries
        self.name = name
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._flights: dict[K, _Flight[V]] = {}
        self._running: set[asyncio.Task[V | Uncached[V]]] = set()  # every read not yet done, invalidated or not
        self.loads = 0  # loads started, foreground and background (for tests and benchmarks)

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: K) -> V | Literal[_Missing.MISSING]:
        """The servable value for `key` without awaiting, or MISSING. A stale hit starts one background re-read."""
        entry = self._entries.get(key)
        if entry is None:
            return MISSING
        now = time.monotonic()
        if now >= entry.revalidate_at:
            if now - entry.loaded_at >= self.max_stale_seconds:
                return MISSING
            if key not in self._flights:
                entry.revalidate_at = now + RETRY_SECONDS  # if this re-read fails, retry on a later hit
                self._start(key, background=True)
        self._entries.move_to_end(key)
        return entry.value

    async def get(self, key: K) -> V:
        value = self.peek(key)
        return await self.load(key) if value is MISSING else value

    async def load(self, key: K) -> V:
        """Read `key` now (joining a read already in flight that no invalidation has overtaken)."""
        while True:
            flight = self._flights.get(key) or self._start(key)
            try:
                # shielded: a caller that gives up does not cancel the read others share
                result = await asyncio.shield(flight.task)
            except Exception:
                if flight.invalidated:
                    continue
                raise
            if not flight.invalidated:
                return result.value if isinstance(result, Uncached) else result
            # invalidated while we waited: what it read may be older than the change, so read again

    def put(self, key: K, value: V) -> None:
        """Store what the caller knows to be current (it just wrote it), overtaking any read in flight."""
        self._invalidate_flight(key)
        self._store(key, value)

    def forget(self, key: K) -> None:
        """Drop `key`: the next caller reads it again."""
        self._invalidate_flight(key)
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop everything (notices may have been missed)."""
        for flight in self._flights.values():
            flight.invalidated = True
        self._flights.clear()
        self._entries.clear()

    async def aclose(self) -> None:
        """Cancel the reads in flight and wait for them to end; the cache is empty and stays usable."""
        self.clear()
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _invalidate_flight(self, key: K) -> None:
        flight = self._flights.pop(key, None)
        if flight is not None:
            flight.invalidated = True

    def _start(self, key: K, *, background: bool = False) -> _Flight[V]:
        self.loads += 1
        flight: _Flight[V] = _Flight(background)
        flight.task = asyncio.get_running_loop().create_task(self._run(key, flight), name=f"authmcp-{self.name}-load")
        self._flights[key] = flight
        self._running.add(flight.task)
        flight.task.add_done_callback(lambda task: self._settled(key, flight, task))
        return flight

    async def _run(self, key: K, flight: _Flight[V]) -> V | Uncached[V]:
        result = await self._load(key)
        if not flight.invalidated:
            del self._flights[key]
            if not isinstance(result, Uncached):
                self._store(key, result)
        return result

    def _settled(self, key: K, flight: _Flight[V], task: asyncio.Task[V | Uncached[V]]) -> None:
        self._running.discard(task)
        if self._flights.get(key) is flight:  # it failed or was cancelled: the next caller starts another
            del self._flights[key]
        if task.cancelled():
            return
        exc = task.exception()  # retrieved here, so never reported as "never retrieved"
        if exc is not None and flight.background:  # a caller that awaited it has the error itself
            logger.warning("re-reading a cached %s failed: %s; serving the one held", self.name, exc)

    def _store(self, key: K, value: V) -> None:
        now = time.monotonic()
        self._entries[key] = _Entry(value, now, now + self.fresh_seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
