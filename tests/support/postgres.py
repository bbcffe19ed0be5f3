"""A fresh PostgreSQL database per test, from `AUTHMCP_TEST_POSTGRES_URL`.

- Unset: PostgreSQL tests skip ("set AUTHMCP_TEST_POSTGRES_URL to run the PostgreSQL tests").
- Set but unreachable: they FAIL, so CI (which sets it, see .ci/run) never passes without running them.

Each test gets its own database (`CREATE DATABASE authmcp_test_<random>` on the server of the URL), dropped at
teardown, so tests never see each other's rows. The variable is read at import: the autouse `clean_environ`
fixture removes AUTHMCP_* variables before each test.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import make_url

__all__ = ["POSTGRES_URL", "SKIP_REASON", "postgres_url", "run_pg", "sync"]

POSTGRES_URL = os.environ.get("AUTHMCP_TEST_POSTGRES_URL", "")
SKIP_REASON = "set AUTHMCP_TEST_POSTGRES_URL to run the PostgreSQL tests"

T = TypeVar("T")


def sync(fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine function to completion on a private loop in another thread (safe from any test)."""
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["value"] = asyncio.run(fn())  # type: ignore[arg-type]
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=main)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def run_pg(url: str, sql: str, *args: Any) -> list[Any]:
    """Run one statement on the database at `url` with asyncpg; returns the rows."""
    import asyncpg

    conn = await asyncpg.connect(_dsn(url), timeout=10)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def create_database() -> str:
    name = f"authmcp_test_{secrets.token_hex(6)}"
    sync(lambda: run_pg(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    sync(lambda: run_pg(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL (postgresql://...) of a new, empty database, dropped after the test."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_REASON)
    try:
        url = create_database()
    except Exception as exc:
        pytest.fail(
            f"AUTHMCP_TEST_POSTGRES_URL is set ({make_url(POSTGRES_URL).render_as_string()}) but PostgreSQL cannot "
            f"be used: {type(exc).__name__}: {exc}"
        )
    try:
        yield url
    finally:
        drop_database(url)
