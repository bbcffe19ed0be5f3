"""The fault suite: real `authmcp serve` processes and the test provider, with faults put between them (a proxy
in front of the token endpoint, `kill -9`, a database lock held by another process) and short deadlines."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.e2e.conftest import Stack, stack, stack_factory  # noqa: F401 - fixtures
from tests.support import sqlite_lock
from tests.support.faultproxy import FaultProxy

DEADLINE = 2.0  # http_timeout_seconds in this suite: every provider request ends within it


@pytest.fixture
def proxy_factory() -> Iterator[Any]:
    proxies: list[FaultProxy] = []

    def make(upstream: str) -> FaultProxy:
        proxies.append(FaultProxy(upstream))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.close()


def proxied(stack_factory: Any, proxy_factory: Any, **settings: Any) -> tuple[Stack, FaultProxy]:
    """A stack whose provider's token endpoint is reached through a fault proxy."""
    settings.setdefault("http_timeout_seconds", DEADLINE)
    settings.setdefault("connection_cache_seconds", 0)  # every call reads the database, so edits there count
    stack: Stack = stack_factory(**settings)
    proxy: FaultProxy = proxy_factory(stack.provider.token_endpoint)
    stack.settings["providers"]["demo"]["token_url"] = proxy.url
    return stack, proxy


def database(stack: Stack) -> Path:
    return Path(stack.settings["data_dir"]) / "authmcp.db"


def rows(stack: Stack, query: str, *args: Any) -> list[Any]:
    with sqlite3.connect(database(stack), timeout=30) as db:
        return db.execute(query, args).fetchall()


def expire_tokens(stack: Stack) -> None:
    """Make every stored access token stale, as if its time had run out (the provider's stays valid)."""
    with sqlite3.connect(database(stack), timeout=30) as db:
        db.execute("update connections set expires_at = ?", (time.time() - 5,))


API_KEY = "ak-faults-5e1c"


def api_client(stack: Stack, timeout: float = 30) -> Any:
    import httpx2

    return httpx2.AsyncClient(
        base_url=stack.base_url, headers={"Authorization": API_KEY}, timeout=timeout, trust_env=False
    )


async def execute(http: Any, user: str = "alice") -> Any:
    """`POST /v1/tools/execute` of the whoami tool for `user`: the response."""
    return await http.post("/v1/tools/execute", json={"tool_name": "Demo.WhoAmI", "user_id": user})


async def wait_until(condition: Any, timeout: float = 15, what: str = "the condition") -> None:

    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.02)


async def kill_during(process: Any, request: Any, reached: Any, settle: float = 0.0) -> None:
    """Start `request()` (a coroutine function; the server dying under it is expected), wait until `reached()`,
    then `kill -9` the process: a crash at a chosen point."""
    import signal

    import httpx2

    async def send() -> None:
        try:
            await request()
        except httpx2.HTTPError:
            pass  # the server died under it

    async with anyio.create_task_group() as tg:
        tg.start_soon(send)
        await wait_until(reached, timeout=20)
        await anyio.sleep(settle)
        process.send_signal(signal.SIGKILL)
        process.wait(10)


@contextlib.asynccontextmanager
async def write_lock_held(stack: Stack) -> AsyncIterator[None]:
    """Another process holds the stack's write lock inside the block (tests/support/sqlite_lock.py: it waits for the
    lock as long as the server may hold it, so the block starts only once it is really held). The wait happens in a
    thread, so the test's own tasks go on meanwhile."""
    held = sqlite_lock.write_lock_held(database(stack))
    await anyio.to_thread.run_sync(held.__enter__)
    try:
        yield
    finally:
        held.__exit__(None, None, None)
