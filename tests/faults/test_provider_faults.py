"""A fault proxy in front of the provider's token endpoint, while authmcp refreshes a user's token.

Each fault: the call answers within the deadline with an error saying to try again (never a revocation, never
an internal error), the process keeps serving, what is stored is unchanged, and once the provider answers
properly the same grant works again. The `expires_in` variants are taken leniently and never burn the grant.
"""

from __future__ import annotations

import math
import time
from typing import Any

import anyio
import pytest

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, stored_tokens, texts
from tests.faults.conftest import DEADLINE, expire_tokens, proxied, rows
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.anyio

ANSWER_WITHIN = DEADLINE + 3  # the deadline, plus the call's own work on a loaded machine


async def connected(stack_factory: Any, proxy_factory: Any, **settings: Any) -> tuple[Stack, FaultProxy, Any]:
    stack, proxy = proxied(stack_factory, proxy_factory, **settings)
    process = stack.start_http()
    async with mcp_client(stack, "http") as client:
        link = (await client.call_tool("Demo_WhoAmI", {})).meta["url"]
        await authorize_in_browser(stack.provider, link, "alice")
        assert not (await client.call_tool("Demo_WhoAmI", {})).is_error
    return stack, proxy, process


async def call(client: Any) -> tuple[Any, float]:
    started = time.monotonic()
    with anyio.fail_after(ANSWER_WITHIN):
        result = await client.call_tool("Demo_WhoAmI", {})
    return result, time.monotonic() - started


async def test_a_failing_token_endpoint_answers_try_again_and_keeps_the_grant(
    stack_factory: Any, proxy_factory: Any
) -> None:
    stack, proxy, process = await connected(stack_factory, proxy_factory)
    async with mcp_client(stack, "http") as client:
        for fault in ("500", "html", "malformed", "empty", "huge", "slow"):
            before = await stored_tokens(stack, "local-user")
            forwarded = proxy.forwarded
            expire_tokens(stack)
            proxy.fault, proxy.delay = fault, DEADLINE + 1  # slow: nothing before the deadline is over

            result, _ = await call(client)
            assert result.is_error, (fault, texts(result))
            assert "Try again" in texts(result) and "/connect/" not in texts(result), fault
            assert process.poll() is None
            assert await stored_tokens(stack, "local-user") == before, fault
            assert rows(stack, "select status, lease_owner from connections") == [("active", None)], fault
            if fault == "huge":
                assert proxy.bytes_sent < 16 * 1024 * 1024  # the cap stopped reading: not 300 MB
            if fault == "slow":
                await anyio.sleep(1.5)  # the held request is dropped once the proxy sees authmcp gave up
                assert proxy.forwarded == forwarded  # never reached the provider

            proxy.fault = "pass"
            result, _ = await call(client)
            assert not result.is_error, (fault, texts(result))  # the same grant, refreshed once the provider answers
            assert await stored_tokens(stack, "local-user") != before

        # a trickled answer that ends within the deadline is used
        before = await stored_tokens(stack, "local-user")
        expire_tokens(stack)
        proxy.fault, proxy.delay = "trickle", DEADLINE / 3
        result, _ = await call(client)
        assert not result.is_error, texts(result)
        assert (await stored_tokens(stack, "local-user"))[1] != before[1]
        assert "Traceback" not in stack.output() and " ERROR " not in stack.output()

        # an answer trickled past the deadline is cut there, though per-read timeouts would never fire
        expire_tokens(stack)
        proxy.fault, proxy.delay = "trickle", 60.0
        result, took = await call(client)
        assert result.is_error and "Try again" in texts(result)
        assert took < ANSWER_WITHIN
        assert process.poll() is None
        # The provider rotated the refresh token and its answer never arrived: this grant is lost, the inherent
        # case. authmcp says so plainly (authorize again) and keeps serving.
        proxy.fault = "pass"
        result, _ = await call(client)
        assert result.is_error and "/connect/" in texts(result)
        assert rows(stack, "select status from connections") == [("needs_reauth",)]


EXPIRES_IN_VARIANTS: list[tuple[Any, float | None]] = [
    ("3600.0", 3600),
    (" 1800 ", 1800),
    (900.5, 900.5),
    ("NaN", None),
    (0, None),
    (-30, None),
    ("soon", None),
    (..., None),  # left out
    (1e15, 400 * 86400),  # absurd: bounded
]


async def test_expires_in_is_read_leniently_and_never_burns_the_grant(stack_factory: Any, proxy_factory: Any) -> None:
    stack, proxy, _ = await connected(stack_factory, proxy_factory)
    async with mcp_client(stack, "http") as client:
        for expires_in, lifetime in EXPIRES_IN_VARIANTS:
            expire_tokens(stack)
            proxy.fault, proxy.expires_in = "expires_in", expires_in
            result, _ = await call(client)
            assert not result.is_error, (expires_in, texts(result))
            [(expires_at, updated_at)] = rows(stack, "select expires_at, updated_at from connections")
            if lifetime is None:
                assert expires_at is None, expires_in  # unknown: used until the provider refuses it (401)
            else:
                assert math.isclose(expires_at - updated_at, lifetime, abs_tol=5), expires_in
            refreshes = stack.provider.stats()["token_requests"]["refresh_token"]
            result, _ = await call(client)
            assert not result.is_error
            assert stack.provider.stats()["token_requests"]["refresh_token"] == refreshes  # not on every call

        # the grant is alive: the last rotated refresh token still works
        proxy.fault = "pass"
        expire_tokens(stack)
        result, _ = await call(client)
        assert not result.is_error, texts(result)
        assert rows(stack, "select status from connections") == [("active",)]
