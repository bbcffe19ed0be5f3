"""`kill -9` of a real `authmcp serve` at chosen points, then a restart on the same data directory.

- mid-refresh: the lease the dead process held is released at once (its run file's lock is free), so the first
  call after the restart refreshes without waiting it out; the held request never reached the provider, so the
  refresh token is used once and the grant lives.
- mid-callback: the flow left in its exchange is failed past its bound with a reason that the status endpoint, a
  waiting long-poll, the page and a retried callback all show; the user's next attempt connects.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import anyio
import httpx2
import pytest

from tests.e2e.conftest import Stack, authorize_in_browser, stored_tokens
from tests.faults.conftest import (
    API_KEY,
    DEADLINE,
    api_client,
    database,
    execute,
    expire_tokens,
    kill_during,
    proxied,
    rows,
)
from tests.support.waiting import logged_waiting

pytestmark = pytest.mark.anyio

ANSWER_WITHIN = DEADLINE + 3


def serve(stack_factory: Any, proxy_factory: Any) -> tuple[Stack, Any]:
    stack, proxy = proxied(stack_factory, proxy_factory, api={"keys": [API_KEY], "verification": "none"})
    return stack, proxy


async def connect_alice(stack: Stack, http: httpx2.AsyncClient) -> None:
    answer = (await execute(http)).json()
    await authorize_in_browser(stack.provider, answer["output"]["authorization"]["url"], "alice")
    assert (await execute(http)).json()["success"]


async def test_killed_mid_refresh_the_restarted_server_takes_over_at_once(
    stack_factory: Any, proxy_factory: Any
) -> None:
    stack, proxy = serve(stack_factory, proxy_factory)
    doomed = stack.start_http()
    async with api_client(stack) as http:
        await connect_alice(stack, http)
    before = await stored_tokens(stack, "alice")
    expire_tokens(stack)
    stack.provider.reset_stats()
    proxy.fault, proxy.delay = "slow", 30.0  # the refresh request waits at the proxy; the process dies meanwhile

    async def refreshing_call() -> None:
        async with api_client(stack) as http:
            await execute(http)

    await kill_during(doomed, refreshing_call, lambda: proxy.requests >= 2)  # the refresh request at the proxy
    [(lease_owner,)] = rows(stack, "select lease_owner from connections")
    assert lease_owner is not None  # the dead process held the lease, for 2 x deadline + margin

    proxy.fault = "pass"
    stack.start_http()
    async with api_client(stack) as http:
        with anyio.fail_after(ANSWER_WITHIN):  # well within the dead process's lease: it was not waited out
            answer = (await execute(http)).json()
    assert answer["success"], answer
    assert stack.provider.stats()["token_requests"]["refresh_token"] == 1  # the held request never got there
    assert (await stored_tokens(stack, "alice"))[1] != before[1]
    assert rows(stack, "select status, lease_owner from connections") == [("active", None)]


async def test_killed_mid_callback_the_flow_fails_with_a_reason_everyone_sees(
    stack_factory: Any, proxy_factory: Any
) -> None:
    stack, proxy = serve(stack_factory, proxy_factory)
    doomed = stack.start_http()
    async with api_client(stack) as http:
        authorization = (await execute(http)).json()["output"]["authorization"]
    flow_id = authorization["id"]
    proxy.fault, proxy.delay = "slow", 30.0  # the code exchange waits at the proxy; the process dies meanwhile

    async with httpx2.AsyncClient(timeout=30, trust_env=False) as browser:
        callback = await stack.provider.aconsent(browser, authorization["url"], "alice")
        await kill_during(doomed, lambda: browser.get(callback), lambda: proxy.requests >= 1)  # the code exchange
        cookies = browser.cookies  # the flow is bound to this browser: only it is told what happened
    assert rows(stack, "select status from flows where id = ?", flow_id) == [("exchanging",)]

    proxy.fault = "pass"
    stack.settings["log_level"] = "DEBUG"  # its "waiting for flow" line
    stack.start_http()
    async with api_client(stack) as http:
        async with anyio.create_task_group() as tg:
            waited: list[Any] = []

            async def long_poll() -> None:
                waited.append((await http.get("/v1/auth/status", params={"id": flow_id, "wait": 50})).json())

            tg.start_soon(long_poll)
            await logged_waiting(stack.output, flow_id)
            # the exchange bound (2 x deadline + margin) passes: as if the process had died that long ago
            with sqlite3.connect(database(stack), timeout=30) as db:
                db.execute("update flows set claimed_at = ? where id = ?", (time.time() - 3600, flow_id))
            with anyio.fail_after(20):  # woken well before its 50 s
                while not waited:
                    await anyio.sleep(0.1)
        assert waited[0]["status"] == "failed"
        assert "authmcp stopped while completing this authorization" in waited[0]["error"]
        status = (await http.get("/v1/auth/status", params={"id": flow_id})).json()
        assert status["status"] == "failed" and status["error"] == waited[0]["error"]

        async with httpx2.AsyncClient(timeout=30, trust_env=False, cookies=cookies) as browser:
            done = await browser.get(f"{stack.base_url}/connect/{flow_id}/done")
            assert done.status_code == 400 and "authmcp stopped while completing" in done.text
            retried = await browser.get(callback)
            assert retried.status_code == 400 and "authmcp stopped while completing" in retried.text
        assert rows(stack, "select count(*) from connections") == [(0,)]

        # the user's next attempt connects
        again = (await execute(http)).json()["output"]["authorization"]
        assert again["id"] != flow_id
        await authorize_in_browser(stack.provider, again["url"], "alice")
        assert (await execute(http)).json()["success"]
    assert "Traceback" not in stack.output()
