"""The whole path, in real processes: MCP client -> authmcp -> "authorization required" -> the person consents
at the test provider -> callback -> the tool runs with the user's token and returns who they are there.

Every transport (stdio, Streamable HTTP, SSE) in both protocol eras, for clients with and without URL
elicitation."""

from __future__ import annotations

import tempfile
from functools import partial
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult

from tests.e2e.clients import CompletionNotices, mcp_client, url_elicitation_required
from tests.e2e.conftest import Stack, authorize_in_browser, texts
from tests.support.waiting import finish_once_waiting, log_text

pytestmark = pytest.mark.anyio

TRANSPORTS = ["stdio", "http", "sse"]
MODES = [pytest.param("auto", id="2026-07-28"), pytest.param("legacy", id="2025-11-25")]


def serve(stack: Stack, transport: str) -> None:
    if transport != "stdio":
        stack.start_http()


def assert_profile(result: Any, user_id: str, username: str) -> None:
    assert not result.is_error, texts(result)
    assert result.structured_content["user_id"] == user_id
    profile = result.structured_content["provider_profile"]
    assert profile["sub"] == username and profile["email"] == f"{username}@example.test"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_client_without_elicitation_gets_a_link_then_succeeds(stack: Stack, transport: str, mode: str) -> None:
    serve(stack, transport)
    async with mcp_client(stack, transport, mode=mode) as client:
        expected = "2026-07-28" if mode == "auto" else "2025-11-25"
        assert client.protocol_version == expected
        first = await client.call_tool("Demo_WhoAmI", {})
        assert first.is_error and first.structured_content is None
        url = first.meta["url"]
        assert url.startswith(f"{stack.base_url}/connect/") and url in texts(first)

        page = await authorize_in_browser(stack.provider, url, "alice")
        assert page.status_code == 200 and "Connected to Demo provider" in page.text
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"

        assert_profile(await client.call_tool("Demo_WhoAmI", {}), "local-user", "alice")
        assert_profile(await client.call_tool("Demo_WhoAmI", {}), "local-user", "alice")
    assert stack.provider.stats()["token_requests"]["authorization_code"] == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_modern_client_with_url_elicitation_finishes_in_one_call(stack: Stack, transport: str) -> None:
    serve(stack, transport)
    shown: list[str] = []

    async def open_in_browser(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        assert isinstance(params, ElicitRequestURLParams)
        shown.append(params.url)
        page = await authorize_in_browser(stack.provider, params.url, "alice")
        assert page.status_code == 200
        return ElicitResult(action="accept")

    async with mcp_client(stack, transport, elicitation_callback=open_in_browser) as client:
        assert client.protocol_version == "2026-07-28"
        assert_profile(await client.call_tool("Demo_WhoAmI", {}), "local-user", "alice")
    assert len(shown) == 1 and "/connect/" in shown[0]


async def test_modern_retry_waits_for_a_consent_still_in_progress(stack_factory: Any) -> None:
    """The client accepts at once (as a real one does when it opens the browser); the retry blocks until
    the callback lands, then runs the tool: the same call returns the answer."""
    stack = stack_factory(log_level="DEBUG", http_timeout_seconds=10)  # see finish_once_waiting
    answered = anyio.Event()
    with tempfile.TemporaryFile("w+") as log:
        async with anyio.create_task_group() as browser:

            async def accept_and_open(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
                assert isinstance(params, ElicitRequestURLParams)
                # the person consents once the gate waits for the flow, and the call must be woken by it
                consent = partial(authorize_in_browser, stack.provider, params.url, "alice")
                flow_id = params.url.rsplit("/", 1)[-1]
                browser.start_soon(finish_once_waiting, partial(log_text, log), flow_id, consent, answered)
                return ElicitResult(action="accept")

            async with mcp_client(stack, "stdio", elicitation_callback=accept_and_open, errlog=log) as client:
                result = await client.call_tool("Demo_WhoAmI", {})
                answered.set()
                assert_profile(result, "local-user", "alice")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_legacy_client_with_url_elicitation_gets_32042_and_a_completion_notice(
    stack: Stack, transport: str
) -> None:
    serve(stack, transport)
    notices = CompletionNotices()
    async with mcp_client(stack, transport, **notices.client_options()) as client:
        elicitation = await url_elicitation_required(client)
        page = await authorize_in_browser(stack.provider, elicitation.url, "alice")
        assert page.status_code == 200
        with anyio.fail_after(10):
            await notices.completed.wait()
        assert notices.ids == [elicitation.elicitation_id]
        assert_profile(await client.call_tool("Demo_WhoAmI", {}), "local-user", "alice")


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_two_users_on_one_server_never_see_each_others_connection(stack_factory: Any, transport: str) -> None:
    stack = stack_factory(
        mcp_auth={"tokens": {"tok-alice-5a1f": "alice@example.com", "tok-bob-77c2": "bob@example.com"}},
        api={"verification": "none"},
    )
    stack.start_http()
    async with mcp_client(stack, transport, token="tok-alice-5a1f") as alice:
        first = await alice.call_tool("Demo_WhoAmI", {})
        await authorize_in_browser(stack.provider, first.meta["url"], "alice")
        assert_profile(await alice.call_tool("Demo_WhoAmI", {}), "alice@example.com", "alice")

    # bob, even naming alice in a header and an argument, has no connection of his own yet
    async with mcp_client(stack, transport, token="tok-bob-77c2", headers={"X-User-Id": "alice@example.com"}) as bob:
        result = await bob.call_tool("Demo_WhoAmI", {"user_id": "alice@example.com"})
        assert result.is_error and result.meta["url"] != first.meta["url"]
        await authorize_in_browser(stack.provider, result.meta["url"], "bob")
        assert_profile(await bob.call_tool("Demo_WhoAmI", {}), "bob@example.com", "bob")

    async with mcp_client(stack, transport, token="tok-alice-5a1f") as alice:
        assert_profile(await alice.call_tool("Demo_WhoAmI", {}), "alice@example.com", "alice")
