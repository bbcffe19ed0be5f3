"""Two `authmcp serve` processes (replicas A and B) on one PostgreSQL database, as behind a load balancer.

- a flow started on A is completed by the provider's callback to B, and A's waiting call wakes (LISTEN/NOTIFY);
- a 2025-11-25 session on A gets its `notifications/elicitation/complete` when the callback lands on B;
- the refresh storm across both replicas makes exactly one upstream refresh;
- stateless Streamable HTTP: a 2026-07-28 InputRequiredResult from A, retried with its requestState on B;
- a revocation on B reaches A, which holds the connection in memory (its notice; A's own re-read is a minute away).
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client.session import ClientRequestContext
from mcp_types import (
    ElicitRequestParams,
    ElicitRequestURLParams,
    ElicitResult,
    InputRequiredResult,
)

from mcp_server.vault import generate_key
from tests.e2e.clients import CompletionNotices, call_concurrently, mcp_client, url_elicitation_required
from tests.e2e.conftest import Stack, authorize_in_browser, texts
from tests.support.postgres import postgres_url, run_pg  # noqa: F401 - a fixture
from tests.support.waiting import finish_once_waiting

pytestmark = pytest.mark.anyio

FLOW_WAIT = 10  # seconds a retried call waits for consent; waking by polling or timeout would show as ~10 s


def replicas(stack_factory: Any, database_url: str, **settings: Any) -> tuple[Stack, Stack]:
    stack: Stack = stack_factory(
        replicas=1,
        database_url=database_url,
        migrate_on_start=True,  # replicas on PostgreSQL create the schema only when told to
        encryption_keys=generate_key(),  # shared by configuration, as in production
        request_state_keys=generate_key(),
        flow_wait_seconds=FLOW_WAIT,
        **settings,
    )
    return stack, stack.replica(0)


def on_host(url: str, stack: Stack) -> str:
    """The same path on another replica's host (what a load balancer may do to the person's browser)."""
    path = url.split("/connect/", 1)[1]
    return f"{stack.base_url}/connect/{path}"


def assert_alice(result: Any) -> None:
    assert not result.is_error, texts(result)
    assert result.structured_content["provider_profile"]["sub"] == "alice"


async def test_flow_started_on_a_completed_by_a_callback_to_b_wakes_the_call_waiting_on_a(
    stack_factory: Any, postgres_url: str
) -> None:
    a, b = replicas(stack_factory, postgres_url, log_level="DEBUG", http_timeout_seconds=10)  # finish_once_waiting
    a.start_http()
    b.start_http()
    landed: list[str] = []
    answered = anyio.Event()

    async with anyio.create_task_group() as browser:

        async def accept_and_open(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
            assert isinstance(params, ElicitRequestURLParams)
            assert params.url.startswith(f"{a.base_url}/connect/")  # A handed out its own link

            async def person() -> None:  # once A's retried call waits; it must be woken by B's notice
                page = await authorize_in_browser(a.provider, on_host(params.url, b), "alice")
                assert page.status_code == 200, page.text
                landed.append(str(page.url))

            flow_id = params.url.rsplit("/", 1)[-1]
            browser.start_soon(finish_once_waiting, a.output, flow_id, person, answered)
            return ElicitResult(action="accept")

        async with mcp_client(a, "http", elicitation_callback=accept_and_open) as client:
            assert client.protocol_version == "2026-07-28"
            result = await client.call_tool("Demo_WhoAmI", {})
            answered.set()
    assert_alice(result)
    assert landed and landed[0].startswith(b.base_url)  # the callback was B's
    assert a.provider.stats()["token_requests"]["authorization_code"] == 1


async def test_legacy_session_on_a_gets_the_completion_notice_when_b_completes(
    stack_factory: Any, postgres_url: str
) -> None:
    a, b = replicas(stack_factory, postgres_url)
    a.start_http()
    b.start_http()
    notices = CompletionNotices()
    async with mcp_client(a, "http", **notices.client_options()) as client:
        elicitation = await url_elicitation_required(client)
        page = await authorize_in_browser(a.provider, on_host(elicitation.url, b), "alice")
        assert page.status_code == 200 and str(page.url).startswith(b.base_url)
        with anyio.fail_after(5):
            await notices.completed.wait()
        assert notices.ids == [elicitation.elicitation_id]
        assert_alice(await client.call_tool("Demo_WhoAmI", {}))


async def test_refresh_storm_across_two_replicas_refreshes_once(stack_factory: Any, postgres_url: str) -> None:
    a, b = replicas(stack_factory, postgres_url, provider_options={"rotate_refresh": True}, connection_cache_seconds=0)
    a.start_http()
    b.start_http()
    async with mcp_client(a, "http") as client:
        link = (await client.call_tool("Demo_WhoAmI", {})).meta["url"]
        await authorize_in_browser(a.provider, link, "alice")
        assert_alice(await client.call_tool("Demo_WhoAmI", {}))

    await run_pg(postgres_url, "UPDATE connections SET expires_at = $1", time.time() - 5)
    a.provider.reset_stats()
    results = await call_concurrently([(a, 25), (b, 25)], "Demo_WhoAmI", {})

    assert len(results) == 50
    assert not [r for r in results if r.is_error], [texts(r) for r in results if r.is_error][:1]
    assert a.provider.stats()["token_requests"]["refresh_token"] == 1


async def test_stateless_round_trip_lands_on_another_replica(stack_factory: Any, postgres_url: str) -> None:
    a, b = replicas(stack_factory, postgres_url)
    a.start_http("--stateless")
    b.start_http("--stateless")

    async def accept(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept")

    async with mcp_client(a, "http", elicitation_callback=accept) as on_a:
        first = await on_a.session.call_tool("Demo_WhoAmI", {}, allow_input_required=True)
    assert isinstance(first, InputRequiredResult) and first.request_state
    ((key, request),) = first.input_requests.items()
    assert isinstance(request.params, ElicitRequestURLParams)
    page = await authorize_in_browser(a.provider, request.params.url, "alice")  # the person consents (on A)
    assert page.status_code == 200

    async with mcp_client(b, "http", elicitation_callback=accept) as on_b:  # the retry reaches B
        result = await on_b.call_tool(
            "Demo_WhoAmI", {}, input_responses={key: ElicitResult(action="accept")}, request_state=first.request_state
        )
    assert_alice(result)


async def test_status_long_poll_on_a_wakes_when_the_callback_lands_on_b(
    stack_factory: Any, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arcadepy import AsyncArcade

    from tests.e2e.test_api import API_KEY, API_TOOLKIT, USERS

    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    a, b = replicas(
        stack_factory,
        postgres_url,
        api={"keys": [API_KEY], "verification": "none"},
        mcp_auth={"tokens": USERS},
        log_level="DEBUG",  # and the HTTP timeout: see finish_once_waiting
        http_timeout_seconds=10,
    )
    a.start_http("--toolkit", API_TOOLKIT)
    b.start_http("--toolkit", API_TOOLKIT)
    async with AsyncArcade(api_key=API_KEY, base_url=a.base_url, max_retries=0) as client:
        pending = await client.tools.authorize(tool_name="Gmail.ListEmails", user_id="alice@example.com")
        assert pending.id and pending.url and pending.url.startswith(a.base_url)
        answered = anyio.Event()
        statuses: list[str | None] = []

        async def long_poll() -> None:
            statuses.append((await client.auth.status(id=pending.id or "", wait=30)).status)
            answered.set()

        async def consent() -> None:  # once the long poll waits in A; B's notice must wake it, not the 30 s
            page = await authorize_in_browser(a.provider, on_host(pending.url or "", b), "alice")
            assert page.status_code == 200 and str(page.url).startswith(b.base_url)

        async with anyio.create_task_group() as tg:
            tg.start_soon(long_poll)
            await finish_once_waiting(a.output, pending.id, consent, answered)
    assert statuses == ["completed"]


async def test_a_revocation_on_b_reaches_a_holding_the_connection_in_memory(
    stack_factory: Any, postgres_url: str
) -> None:
    a, b = replicas(  # a view kept five minutes: only B's notice can make A see the revocation within the test
        stack_factory, postgres_url, api={"keys": ["k" * 32], "verification": "none"}, connection_cache_seconds=300
    )
    a.start_http()
    b.start_http()
    async with mcp_client(a, "http") as client:
        link = (await client.call_tool("Demo_WhoAmI", {})).meta["url"]
        await authorize_in_browser(a.provider, link, "alice")
        assert_alice(await client.call_tool("Demo_WhoAmI", {}))  # A holds the connection in memory now
        a.provider.set_behavior(revocation_endpoint="error_503")  # the token stays good at the provider
        async with httpx2.AsyncClient(base_url=b.base_url, headers={"Authorization": "Bearer " + "k" * 32}) as api:
            listed = (await api.get("/v1/admin/user_connections")).json()
            (connection,) = listed["items"]
            assert (await api.delete(f"/v1/admin/user_connections/{connection['id']}")).status_code == 204
        with anyio.fail_after(10):
            while not (after := await client.call_tool("Demo_WhoAmI", {})).is_error:
                await anyio.sleep(0.05)
    assert "/connect/" in texts(after)
