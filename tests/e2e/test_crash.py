"""Security case 14: the process dies between the provider's token response and the commit."""

from __future__ import annotations

import signal
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, stored_tokens

pytestmark = pytest.mark.anyio

WIDER = str(REPO / "tests" / "support" / "wider_toolkit.py")


def rows(stack: Stack, query: str, *args: Any) -> list[Any]:
    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        return db.execute(query, args).fetchall()


async def test_killed_mid_exchange_leaves_no_partial_rows_and_the_old_connection_works(stack_factory: Any) -> None:
    stack: Stack = stack_factory(http_timeout_seconds=20)
    first = stack.start_http("--toolkit", WIDER)
    async with mcp_client(stack, "http") as client:
        await authorize_in_browser(stack.provider, (await client.call_tool("Demo_WhoAmI", {})).meta["url"], "alice")
        wider = await client.call_tool("Wider_Granted", {})  # needs email too: a new flow for the union
    old = await stored_tokens(stack, "local-user")
    first.terminate()
    first.wait(10)

    # Between the token response and the commit authmcp asks the provider who the user is: make that hang,
    # so the process can be killed exactly there.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections into the backlog and never answers
    stack.settings["providers"]["demo"]["userinfo_url"] = f"http://127.0.0.1:{silent.getsockname()[1]}/userinfo"
    doomed = stack.start_http("--toolkit", WIDER)
    stack.provider.reset_stats()
    async with httpx2.AsyncClient(timeout=30) as browser:
        callback = await stack.provider.aconsent(browser, wider.meta["url"], "alice")
        async with anyio.create_task_group() as tg:

            async def land() -> None:
                try:
                    await browser.get(callback)
                except httpx2.HTTPError:
                    pass  # the server died under it

            tg.start_soon(land)
            with anyio.fail_after(15):
                while stack.provider.stats()["token_requests"]["authorization_code"] < 1:
                    await anyio.sleep(0.05)
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
    silent.close()

    assert rows(stack, "select scopes from connections") == [("openid profile",)]  # nothing partial
    assert await stored_tokens(stack, "local-user") == old
    assert rows(stack, "select status from flows where scopes like '%email%'") == [("exchanging",)]

    # Back up (with the provider's userinfo working again): the old connection still serves, the half-done
    # flow fails once its time is up, and the tool that needed more asks again.
    stack.settings["providers"]["demo"]["userinfo_url"] = stack.provider.userinfo_endpoint
    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        db.execute("update flows set expires_at = ? where status = 'exchanging'", (time.time() - 1,))
    stack.start_http("--toolkit", WIDER)
    async with mcp_client(stack, "http") as client:
        assert not (await client.call_tool("Demo_WhoAmI", {})).is_error
        again = await client.call_tool("Wider_Granted", {})
    assert again.is_error and again.meta["flow_id"] != wider.meta["flow_id"]
    with anyio.fail_after(10):
        while rows(stack, "select status from flows where id = ?", wider.meta["flow_id"]) != [("failed",)]:
            await anyio.sleep(0.1)
