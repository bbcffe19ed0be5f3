"""Waiting until a call is asleep on a flow, so that finishing the flow then tests the wake-up.

A test that finishes a flow a moment after starting a waiter proves little: if the waiter had not yet read the
flow, it finds it finished on that first read and returns, wake-up or none. `parked` waits until the flow
service says the waiter is past that read (`FlowService.waiting`). A waiter that is never woken re-reads the
flow only every `exchange_bound / 4` seconds (8.75 s with the default 10 s HTTP timeout), so a waiter back
within `WAKE_DEADLINE` of the flow finishing was woken.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import IO, TypeVar

import anyio

from mcp_server.authorization.flows import FlowService
from mcp_server.observability.audit import flow_ref
from mcp_server.vault import Flow

T = TypeVar("T")
W = TypeVar("W")

WAKE_DEADLINE = 5.0  # seconds; under a waiter's first re-read of its flow, far over a wake-up


async def parked(flows: FlowService, flow_id: str, count: int = 1) -> None:
    """Return once `count` calls here wait on the flow, each asleep until it finishes."""
    with anyio.fail_after(10):
        while flows.waiting(flow_id) < count:
            await anyio.sleep(0.01)


async def woken(flows: FlowService, flow_id: str, finish: Callable[[], Awaitable[T]]) -> tuple[Flow | None, T]:
    """Park a waiter on the flow, then `finish()` it: the flow as the waiter got it, and what `finish` returned.
    Fails unless the waiter is back within `WAKE_DEADLINE` of `finish` starting."""
    return await woken_by(flows, flow_id, lambda: flows.wait(flow_id, timeout=30), finish)


async def woken_by(
    flows: FlowService, flow_id: str, waiter: Callable[[], Awaitable[W]], finish: Callable[[], Awaitable[T]]
) -> tuple[W, T]:
    """`woken` for any `waiter` that waits on the flow here (a long poll, a blocked tool call): what it and
    `finish` returned."""
    got: list[W] = []
    back = anyio.Event()

    async def wait() -> None:
        got.append(await waiter())
        back.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await parked(flows, flow_id)
        with anyio.fail_after(WAKE_DEADLINE):
            finished = await finish()
            await back.wait()
    return got[0], finished


# ---------------------------------------------------------------- other processes: their DEBUG log line


def waiting_line(flow_id: str) -> str:
    """What authmcp logs at DEBUG once a call is asleep on the flow (`FlowService._wait`)."""
    return f"waiting for flow {flow_ref(flow_id)}"


def log_text(log: IO[str]) -> str:
    """What a process wrote so far to `log` (its stderr), read without moving the offset it writes at."""
    log.flush()
    return os.pread(log.fileno(), 1 << 24, 0).decode(errors="replace")


async def logged_waiting(log: Callable[[], str], flow_id: str, waits: int = 1) -> None:
    """Return once `log()` (a process's output, at DEBUG) shows `waits` calls asleep on the flow."""
    with anyio.fail_after(10):
        while log().count(waiting_line(flow_id)) < waits:
            await anyio.sleep(0.02)


async def finish_once_waiting(
    log: Callable[[], str],
    flow_id: str,
    finish: Callable[[], Awaitable[object]],
    answered: anyio.Event,
    *,
    waits: int = 1,
) -> None:
    """Once `log()` shows a call asleep on the flow (the `waits`-th time the flow is waited on), `finish()` the
    flow; fails unless `answered` (set by the test when that call returns) is set within `WAKE_DEADLINE`. The
    process must log at DEBUG, and its HTTP timeout be at least the default 10 s (the waiter's own re-read of
    the flow comes after `WAKE_DEADLINE` then)."""
    await logged_waiting(log, flow_id, waits)
    with anyio.fail_after(WAKE_DEADLINE):
        await finish()
        await answered.wait()
