"""Security case 9: many concurrent calls with an expired token, from two processes on one database, against a
provider that rotates refresh tokens and revokes the whole grant when a used one comes back."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.clients import call_concurrently, mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser

pytestmark = pytest.mark.anyio


async def test_fifty_concurrent_calls_from_two_processes_refresh_exactly_once(stack_factory: Any) -> None:
    stack: Stack = stack_factory(
        provider_options={"rotate_refresh": True},
        replicas=1,
        connection_cache_seconds=0,  # every call asks the database, as a cold replica would
    )
    first = stack.start_http()
    async with mcp_client(stack, "http") as client:
        link = (await client.call_tool("Demo_WhoAmI", {})).meta["url"]
        await authorize_in_browser(stack.provider, link, "alice")
        assert not (await client.call_tool("Demo_WhoAmI", {})).is_error

    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        db.execute("update connections set expires_at = ?", (time.time() - 5,))
    stack.provider.reset_stats()

    replica = stack.replica(0)
    replica.start_http()
    results = await call_concurrently([(stack, 25), (replica, 25)], "Demo_WhoAmI", {})

    assert len(results) == 50
    assert not [r for r in results if r.is_error], [r.content for r in results if r.is_error][:1]
    assert stack.provider.stats()["token_requests"]["refresh_token"] == 1
    assert first.poll() is None
