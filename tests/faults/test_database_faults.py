"""The database under pressure: a burst of first calls from 100 users on SQLite, then a write lock held from
another process (a `sqlite3` shell in `BEGIN IMMEDIATE`) for longer than SQLite's busy timeout.

Every call answers: a result, an authorization link, or (while a write is impossible) a clear error to retry:
MCP a tool error, `/v1` a 503 in Arcade's error shape. Calls that need no write (a connected user's) go on
working, since "last used" is written in the background. The process keeps serving, logs no traceback, and
recovers by itself once the lock is gone.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_server.vault import open_vault
from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, texts
from tests.faults.conftest import API_KEY, api_client, database, rows, wait_until, write_lock_held

pytestmark = pytest.mark.anyio

SAMPLE = str(REPO / "tests" / "support" / "sample_toolkit.py")
USERS = 100


async def connect_users(stack: Stack, n: int) -> None:
    """n users with a connection each (the tool used here reads its token without calling the provider)."""
    data_dir = Path(stack.settings["data_dir"])
    vault = await open_vault(f"sqlite:///{database(stack)}", env_keys=[], key_file=data_dir / "keys")
    try:
        for i in range(n):
            await vault.save_connection(
                f"user-{i}",
                "demo",
                access_token=f"token-{i}",
                refresh_token=f"refresh-{i}",
                token_type="Bearer",
                expires_at=time.time() + 3600,
                scopes=["openid", "profile"],
                user_info={"sub": f"user-{i}"},
            )
    finally:
        await vault.aclose()


async def show_token(http: Any, user: str) -> Any:
    return await http.post("/v1/tools/execute", json={"tool_name": "Sample.ShowToken", "user_id": user})


async def test_a_burst_and_a_held_write_lock_never_fail_a_call_for_good(stack_factory: Any) -> None:
    stack: Stack = stack_factory(api={"keys": [API_KEY], "verification": "none"}, revocation_retry_seconds=1)
    process = stack.start_http("--toolkit", SAMPLE)
    await connect_users(stack, USERS)

    # ---- a burst: 100 connected users' calls and 100 new users' first calls, at once
    answers: list[Any] = []
    async with api_client(stack, timeout=60) as http:
        async with anyio.create_task_group() as tg:
            for i in range(USERS):

                async def connected(i: int = i) -> None:
                    answers.append(("connected", await show_token(http, f"user-{i}")))

                async def first(i: int = i) -> None:
                    answers.append(("first", await show_token(http, f"new-{i}")))

                tg.start_soon(connected)
                tg.start_soon(first)
    assert len(answers) == 2 * USERS
    for kind, answer in answers:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if kind == "connected":
            assert body["success"], body
        else:
            assert body["output"]["authorization"]["url"], body
    # "last used" was written afterwards, in the background, for every one of them
    await wait_until(
        lambda: rows(stack, "select count(*) from connections where last_used_at is not null") == [(USERS,)],
        timeout=20,
    )

    # ---- a write lock held by another process, longer than the busy timeout
    async with write_lock_held(stack):
        during: dict[str, Any] = {}
        async with api_client(stack, timeout=60) as http, mcp_client(stack, "http") as client:

            async def mcp_first_call() -> None:
                during["mcp"] = await client.call_tool("Sample_ShowToken", {})

            async def authorize() -> None:
                during["authorize"] = await http.post(
                    "/v1/tools/authorize", json={"tool_name": "Sample.ShowToken", "user_id": "late-1"}
                )

            async def execute_first() -> None:
                during["execute"] = await show_token(http, "late-2")

            async def execute_connected() -> None:
                during["connected"] = await show_token(http, "user-7")

            async with anyio.create_task_group() as tg:
                for job in (mcp_first_call, authorize, execute_first, execute_connected):
                    tg.start_soon(job)
            await anyio.sleep(2)  # the maintenance loop (every second here) meets the lock too
            assert process.poll() is None
            assert (await http.get("/healthz")).status_code == 200

            mcp = during["mcp"]
            assert mcp.is_error and "try the call again" in texts(mcp)
            for name in ("authorize", "execute"):
                answer = during[name]
                assert answer.status_code == 503, answer.text
                assert answer.json()["name"] == "storage_unavailable"
                assert "retry" in answer.json()["message"] and "Traceback" not in answer.text
                assert answer.headers["retry-after"]
            assert during["connected"].json()["success"]  # no write on its path: unaffected

    # ---- recovered by itself
    async with api_client(stack) as http, mcp_client(stack, "http") as client:
        assert (
            await http.post("/v1/tools/authorize", json={"tool_name": "Sample.ShowToken", "user_id": "late-1"})
        ).status_code == 200
        assert (await show_token(http, "late-2")).json()["output"]["authorization"]["url"]
        result = await client.call_tool("Sample_ShowToken", {})
        assert result.is_error and "/connect/" in texts(result)
    assert process.poll() is None
    output = stack.output()
    assert "Traceback" not in output and " ERROR " not in output
    assert "database is busy" in output  # said once per failed request, as a warning
