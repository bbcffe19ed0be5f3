"""Two `authmcp serve` processes on one SQLite database, refreshing the same grant at a provider that rotates
refresh tokens and revokes the whole grant when a used one comes back.

- a refresh answer trickled over most of the deadline: the other process's calls wait for it (the lease does not
  lapse under its holder) and none of them sends the refresh token again;
- the refresh storm with 4 s tokens: 50 concurrent calls across both processes make at most one refresh, since
  the leeway is a tenth of such a token's life, not a fixed minute.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from tests.e2e.clients import call_concurrently, mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, stored_tokens, texts
from tests.faults.conftest import DEADLINE, expire_tokens, proxied, rows

pytestmark = pytest.mark.anyio


async def two_connected(stack_factory: Any, proxy_factory: Any, **settings: Any) -> tuple[Stack, Stack, Any]:
    stack, proxy = proxied(stack_factory, proxy_factory, replicas=1, **settings)
    stack.start_http()
    replica = stack.replica(0)
    replica.start_http()
    async with mcp_client(stack, "http") as client:
        link = (await client.call_tool("Demo_WhoAmI", {})).meta["url"]
        await authorize_in_browser(stack.provider, link, "alice")
        assert not (await client.call_tool("Demo_WhoAmI", {})).is_error
    return stack, replica, proxy


async def test_two_processes_refresh_once_a_trickled_answer_and_a_storm_of_four_second_tokens(
    stack_factory: Any, proxy_factory: Any
) -> None:
    stack, replica, proxy = await two_connected(
        stack_factory, proxy_factory, provider_options={"rotate_refresh": True, "access_ttl": 4}
    )

    # ---- a refresh answer trickled over most of the deadline, while both processes call
    before = await stored_tokens(stack, "local-user")
    expire_tokens(stack)
    stack.provider.reset_stats()
    proxy.fault, proxy.delay = "trickle", DEADLINE * 0.6  # most of the deadline, one byte at a time
    with anyio.fail_after(2 * DEADLINE + 10):
        results = await call_concurrently([(stack, 5), (replica, 5)], "Demo_WhoAmI", {})
    assert not [r for r in results if r.is_error], [texts(r) for r in results if r.is_error][:1]
    assert stack.provider.stats()["token_requests"]["refresh_token"] == 1
    assert (await stored_tokens(stack, "local-user"))[1] != before[1]
    assert rows(stack, "select status, lease_owner from connections") == [("active", None)]
    proxy.fault = "pass"

    # ---- the refresh storm: 50 concurrent calls across both processes, 4 s tokens
    results = []
    async with mcp_client(stack, "http") as first, mcp_client(replica, "http") as second:
        # sessions open first: the calls below go out together, within one token's life
        await anyio.sleep(max(0.0, rows(stack, "select expires_at from connections")[0][0] - time.time() + 0.1))
        stack.provider.reset_stats()
        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            for client in (first, second):
                for _ in range(25):

                    async def one(client: Any = client) -> None:
                        results.append(await client.call_tool("Demo_WhoAmI", {}))

                    tg.start_soon(one)
        took = time.monotonic() - started
    assert len(results) == 50
    assert not [r for r in results if r.is_error], [texts(r) for r in results if r.is_error][:1]
    # at most one refresh per token life: one, unless this machine took longer than a token's 3.6 s for 50 calls
    assert stack.provider.stats()["token_requests"]["refresh_token"] <= 1 + int(took / 3.6)

    # the grant is alive: every refresh token was used once (a reused one would have revoked it)
    assert rows(stack, "select status from connections") == [("active",)]
