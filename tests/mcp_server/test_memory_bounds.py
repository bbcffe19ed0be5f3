"""What the server keeps per session, per flow and per user goes when its owner does.

The app is served by uvicorn on a real socket; the MCP SDK's own client opens and closes real sessions over
Streamable HTTP, each presenting a static token of its own user. The maps are read where they live (they
have no other window), after a full garbage collection: a closed session's objects are then gone.
"""

from __future__ import annotations

import contextlib
import gc
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.session import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp_types import URL_ELICITATION_REQUIRED, ElicitRequestParams, ElicitResult

from mcp_server.authorization import maintenance
from mcp_server.serving.listeners import QuietServer
from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.serving.shared_pages import bind
from mcp_server.serving.web_app import create_http_app
from tests.support import sample_toolkit

pytestmark = pytest.mark.anyio

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens on the discard port: a refresh fails at once
DEMO_PROVIDER = {
    "authorize_url": f"{UNREACHABLE}/authorize",
    "token_url": f"{UNREACHABLE}/token",
    "client_id": "authmcp-test",
    "client_secret": "test-secret",
    "scopes": ["openid"],
}
USERS = 40
TOKENS = {f"static-{secrets.token_hex(12)}": f"user-{i}" for i in range(USERS)}


@pytest.fixture
async def served(make_settings: Any) -> AsyncIterator[tuple[str, Runtime]]:
    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(
        providers={"demo": DEMO_PROVIDER},
        mcp_auth={"tokens": TOKENS},
        http_timeout_seconds=2,
        flow_wait_seconds=0.2,
        api={"verification": "none"},
    )
    try:
        async with open_runtime(settings, public_url=url, toolkits=[sample_toolkit.__name__]) as runtime:
            server = QuietServer.for_app(create_http_app(runtime), "WARNING")
            async with anyio.create_task_group() as tg:
                tg.start_soon(lambda: server.serve(sockets=[sock]))
                while not server.started:
                    await anyio.sleep(0.01)
                try:
                    yield url, runtime
                finally:
                    server.should_exit = True
    finally:
        sock.close()


@contextlib.asynccontextmanager
async def session(url: str, token: str, mode: str) -> AsyncIterator[Client]:
    async def accept(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept")  # the user "opened the link" but never finishes the flow

    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=15, trust_env=False) as http:
        transport = streamable_http_client(f"{url}/mcp", http_client=http)
        async with Client(transport, mode=mode, elicitation_callback=accept) as client:  # type: ignore[arg-type]
            yield client


def held(runtime: Runtime) -> dict[str, int]:
    """Sizes of what the server keeps per flow and per user, once closed sessions are collected."""
    gc.collect()
    flows, conns = runtime.service.flows, runtime.service.connections
    return {
        "completion notices": sum(len(kept) for kept in flows._on_complete.values()),
        "flows with notices": len(flows._on_complete),
        "waiters": len(flows._waiters),
        "refresh locks": conns.refresher.refreshes_under_way,
        "last touches": conns.last_used.tracked,
    }


async def test_closed_2025_sessions_leave_no_completion_notices_behind(served: tuple[str, Runtime]) -> None:
    url, runtime = served
    baseline = held(runtime)
    for token in TOKENS:  # each session's call starts an authorization: a completion notice is registered
        async with session(url, token, "legacy") as client:
            with pytest.raises(MCPError) as info:
                await client.call_tool("Sample_ShowToken", {})
            assert info.value.code == URL_ELICITATION_REQUIRED
            assert held(runtime)["completion notices"] == baseline["completion notices"] + 1  # held while open
    assert held(runtime) == baseline


async def test_an_open_session_still_gets_the_notice_and_an_expired_flow_drops_it(served: tuple[str, Runtime]) -> None:
    url, runtime = served
    token, user = next(iter(TOKENS.items()))
    async with session(url, token, "legacy") as client:
        with pytest.raises(MCPError):
            await client.call_tool("Sample_ShowToken", {})
        (flow_id,) = runtime.service.flows._on_complete
        flow = await runtime.vault.get_flow(flow_id)
        assert flow is not None and flow.user_id == user
        runtime.service.flows.drop_expired_notices(flow.expires_at - 1)
        assert held(runtime)["completion notices"] == 1  # not expired yet: kept
        runtime.service.flows.drop_expired_notices(flow.expires_at)
        assert held(runtime)["completion notices"] == 0


async def test_a_2026_retry_that_times_out_leaves_no_waiter(served: tuple[str, Runtime]) -> None:
    url, runtime = served
    for token in list(TOKENS)[:10]:  # the retry waits flow_wait_seconds for consent that never comes
        async with session(url, token, "auto") as client:
            assert client.protocol_version == "2026-07-28"
            result = await client.call_tool("Sample_ShowToken", {})
            assert result.is_error and "not complete yet" in "".join(getattr(b, "text", "") for b in result.content)
    assert held(runtime)["waiters"] == 0


async def test_many_users_refreshing_and_touching_leave_no_per_user_entries(
    served: tuple[str, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, runtime = served
    monkeypatch.setattr(maintenance, "TOUCH_INTERVAL_SECONDS", 0.2)
    for i, user in enumerate(TOKENS.values()):
        stale = i % 2 == 0  # half need a refresh (the provider is unreachable), half are fresh and get touched
        await runtime.vault.save_connection(
            user,
            "demo",
            access_token=f"token-{i}",
            refresh_token="refresh-1",
            token_type="Bearer",
            expires_at=time.time() + (-10 if stale else 3600),
            scopes=("openid", "profile"),
            user_info={"sub": user},
        )
        runtime.service.connections.forget(user, "demo")
    for token in TOKENS:
        async with session(url, token, "legacy") as client:
            await client.call_tool("Sample_ShowToken", {})  # an error result for the stale half
    assert held(runtime)["refresh locks"] == 0
    assert held(runtime)["last touches"] == USERS // 2
    await anyio.sleep(0.25)  # past the (shortened) touch interval: the entries no longer decide anything
    await runtime.service.connections.flush_touches()
    assert held(runtime)["last touches"] == 0
