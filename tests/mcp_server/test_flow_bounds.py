"""Bounds on what one user can make authmcp keep: open flows per user, scopes per flow, finished flows kept."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_server.authorization.errors import FlowRefused
from mcp_server.authorization.flows import MAX_FLOW_SCOPE_CHARS, MAX_FLOW_SCOPES
from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.toolkit.tool import OAuth2
from mcp_server.vault.flow_store import REPLACED
from tests.support import sample_toolkit
from tests.support.waiting import woken

pytestmark = pytest.mark.anyio

PUBLIC_URL = "http://127.0.0.1:8000"


@pytest.fixture
async def runtime(make_settings: Any) -> AsyncIterator[Runtime]:
    settings = make_settings(
        providers={
            "demo": {
                "authorize_url": "https://a.example/x",
                "token_url": "https://a.example/t",
                "client_id": "c",
                "client_secret": "s",
            }
        },
        max_open_flows_per_user=3,
        flow_retention_days=7,
        revocation_retry_seconds=3600,
    )
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[sample_toolkit.__name__]) as rt:
        yield rt


async def opened_flow(rt: Runtime, user: str, scope: str = "profile") -> str:
    """A flow whose link a browser has opened (so the next start makes a new one)."""
    flow = await rt.service.flows.start_flow(user, OAuth2(id="demo", scopes=[scope]))
    assert await rt.service.flows.open_in_browser(flow.id, {}) is not None
    return flow.id


async def test_past_the_cap_the_oldest_open_flow_is_replaced(runtime: Runtime) -> None:
    first = [await opened_flow(runtime, "alice") for _ in range(3)]
    bobs = await opened_flow(runtime, "bob")
    # the fourth: the oldest makes room, its waiter wakes
    waited, newest = await woken(runtime.service.flows, first[0], lambda: opened_flow(runtime, "alice"))
    assert waited is not None and waited.status == "failed" and waited.error == REPLACED
    statuses = [(await runtime.service.flows.flow_status(i)).status for i in [*first, newest, bobs]]  # type: ignore[union-attr]
    assert statuses == ["failed", "pending", "pending", "pending", "pending"]  # bob's flows are his own


async def test_a_flow_asks_for_a_bounded_number_and_length_of_scopes(runtime: Runtime) -> None:
    with pytest.raises(FlowRefused, match="at most"):
        await runtime.service.flows.start_flow(
            "alice", OAuth2(id="demo", scopes=[f"s{i}" for i in range(MAX_FLOW_SCOPES + 1)])
        )
    long = [f"{i}" + "x" * 250 for i in range(MAX_FLOW_SCOPE_CHARS // 250 + 1)]
    with pytest.raises(FlowRefused):
        await runtime.service.flows.start_flow("alice", OAuth2(id="demo", scopes=long))
    await runtime.service.flows.start_flow("alice", OAuth2(id="demo", scopes=long[:10]))  # within bounds


async def test_finished_flows_are_deleted_after_the_retention_period_by_the_maintenance_loop(runtime: Runtime) -> None:
    old_done, recent_done, expired_long_ago, pending = [await opened_flow(runtime, user) for user in "abcd"]
    eight_days_ago = time.time() - 8 * 86400
    with sqlite3.connect(Path(runtime.settings.data_dir) / "authmcp.db") as db:
        db.execute("update flows set status = 'completed', completed_at = ? where id = ?", (eight_days_ago, old_done))
        db.execute("update flows set status = 'completed', completed_at = ? where id = ?", (time.time(), recent_done))
        db.execute("update flows set expires_at = ? where id = ?", (eight_days_ago, expired_long_ago))
    async with anyio.create_task_group() as tg:
        tg.start_soon(runtime.service.maintain)
        with anyio.fail_after(10):
            while await runtime.service.flows.flow_status(old_done) is not None:
                await anyio.sleep(0.05)
        tg.cancel_scope.cancel()
    assert await runtime.service.flows.flow_status(expired_long_ago) is None
    assert await runtime.service.flows.flow_status(recent_done) is not None
    assert await runtime.service.flows.flow_status(pending) is not None
