"""The `/v1` API against real processes (`authmcp serve` and the test provider), driven by the official
`arcadepy` client exactly as Arcade's documentation uses it, with the person's consent driven over HTTP."""

from __future__ import annotations

import queue
import textwrap
import threading
from typing import Any

import anyio
import httpx2
import pytest
from arcadepy import AsyncArcade, AuthenticationError, BadRequestError, NotFoundError

from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, free_port, texts
from tests.e2e.verifier import verifier_app
from tests.support.waiting import finish_once_waiting, waiting_line

API_KEY = "ak-e2e-4b8d2a61"
API_TOOLKIT = str(REPO / "tests" / "support" / "api_toolkit.py")
USERS = {"tok-alice-3c1e": "alice@example.com", "tok-bob-8a2f": "bob@example.com"}

# The snippet, word for word (Arcade's documented quick start); only the environment points it at authmcp.
ARCADE_SNIPPET = textwrap.dedent("""
    from arcadepy import Arcade
    client = Arcade()  # ARCADE_API_KEY, ARCADE_BASE_URL
    auth_response = client.tools.authorize(tool_name="Gmail.ListEmails", user_id=USER_ID)
    if auth_response.status != "completed":
        print(f"Click this link to authorize: {auth_response.url}")
    client.auth.wait_for_completion(auth_response)
    emails_response = client.tools.execute(tool_name="Gmail.ListEmails", user_id=USER_ID)
    print(emails_response.output.value)
""")


def serve(
    stack_factory: Any, monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any] | None = None, **api: Any
) -> Stack:
    # verification off unless a test turns it on: these tests are about the API; test_consent is about verification
    stack: Stack = stack_factory(
        api={"keys": [API_KEY], "verification": "none", **api}, mcp_auth={"tokens": USERS}, **(settings or {})
    )
    stack.start_http("--toolkit", API_TOOLKIT)
    monkeypatch.setenv("ARCADE_BASE_URL", stack.base_url)
    monkeypatch.setenv("ARCADE_API_KEY", API_KEY)
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    return stack


def emails_of(username: str, n: int = 5) -> list[dict[str, str]]:
    return [
        {"id": f"{username}-{i}", "to": f"{username}@example.test", "subject": f"Message {i} for {username}"}
        for i in range(n)
    ]


# ---------------------------------------------------------------- Arcade's documented code, unchanged


def test_arcades_documented_snippet_runs_unchanged(stack_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = serve(stack_factory, monkeypatch)
    printed: list[str] = []
    links: queue.Queue[str] = queue.Queue()
    failures: list[BaseException] = []

    def captured_print(*values: Any) -> None:
        line = " ".join(str(v) for v in values)
        printed.append(line)
        if line.startswith("Click this link to authorize: "):
            links.put(line.removeprefix("Click this link to authorize: "))

    def application() -> None:  # the app's backend: the snippet, blocking in wait_for_completion
        try:
            exec(ARCADE_SNIPPET, {"USER_ID": "alice@example.com", "print": captured_print})
        except BaseException as exc:
            failures.append(exc)

    app = threading.Thread(target=application, daemon=True)
    app.start()
    link = links.get(timeout=30)
    with httpx2.Client(timeout=15, trust_env=False) as browser:  # the person, meanwhile
        page = browser.get(stack.provider.consent(browser, link, "alice"), follow_redirects=True)
    assert page.status_code == 200 and "Connected to Demo provider" in page.text
    app.join(timeout=30)
    assert not app.is_alive() and not failures, failures

    assert printed == [f"Click this link to authorize: {link}", str(emails_of("alice"))]
    assert link.startswith(f"{stack.base_url}/connect/")


@pytest.mark.anyio
async def test_the_async_client_authorizes_waits_and_executes(
    stack_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = serve(stack_factory, monkeypatch)
    async with AsyncArcade() as client:
        assert (await client.health.check()).healthy
        auth_response = await client.tools.authorize(tool_name="Gmail_ListEmails", user_id="bob@example.com")
        assert auth_response.status == "pending" and auth_response.url
        async with anyio.create_task_group() as tg:
            tg.start_soon(authorize_in_browser, stack.provider, auth_response.url, "bob")
            completed = await client.auth.wait_for_completion(auth_response)
        assert completed.status == "completed" and completed.context is None  # no token handed out

        result = await client.tools.execute(
            tool_name="Gmail.ListEmails", user_id="bob@example.com", input={"n_emails": 2}
        )
        assert result.success and result.output is not None and result.output.value == emails_of("bob", 2)
        definition = await client.tools.get("Gmail.ListEmails", user_id="bob@example.com")
        assert definition.requirements is not None and definition.requirements.met is True
        names = [tool.qualified_name async for tool in client.tools.list(toolkit="Gmail", limit=2)]
        assert sorted(names) == ["Gmail.Fail", "Gmail.ListEmails", "Gmail.RelayStatus", "Gmail.SendEmail"]
        again = await client.auth.start("bob@example.com", "demo", scopes=["profile"])
        assert again.status == "completed"


@pytest.mark.anyio
async def test_refusals_reach_the_official_client_as_its_own_error_classes(
    stack_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = serve(stack_factory, monkeypatch)
    async with AsyncArcade(api_key="wrong-key", max_retries=0) as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.tools.list()
    async with AsyncArcade(max_retries=0) as client:
        with pytest.raises(NotFoundError):
            await client.tools.get("Gmail.Nope")
        with pytest.raises(NotFoundError):
            await client.auth.status(id="no-such-flow")
        with pytest.raises(BadRequestError) as bad:
            await client.tools.authorize(tool_name="Gmail.ListEmails")  # no user_id: with an API key it is required
        assert isinstance(bad.value.body, dict) and bad.value.body["name"] == "invalid_request"
        failed = await client.tools.execute(
            tool_name="Gmail.Fail", user_id="alice@example.com", input={"kind": "rate_limit", "retry_after": 3}
        )
        assert failed.output is not None and failed.output.error is not None
        assert (failed.output.error.kind, failed.output.error.retry_after_ms) == ("UPSTREAM_RUNTIME_RATE_LIMIT", 3000)
    async with httpx2.AsyncClient(base_url=stack.base_url, timeout=10, trust_env=False) as http:
        raw = await http.post("/v1/tools/execute", content=b"{not json", headers={"Authorization": API_KEY})
    assert raw.status_code == 400 and raw.json()["name"] == "invalid_json"


# ---------------------------------------------------------------- the long-poll


@pytest.mark.anyio
async def test_status_long_poll_wakes_on_the_callback_and_times_out_at_wait(
    stack_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = serve(stack_factory, monkeypatch, {"log_level": "DEBUG", "http_timeout_seconds": 10})  # see below
    async with AsyncArcade() as client:
        pending = await client.tools.authorize(tool_name="Gmail.ListEmails", user_id="alice@example.com")
        assert pending.id and pending.url

        timed_out = await client.auth.status(id=pending.id, wait=1)
        assert timed_out.status == "pending" and waiting_line(pending.id) in stack.output()  # it waited, then answered

        async with httpx2.AsyncClient(timeout=15, trust_env=False) as browser:
            callback = await stack.provider.aconsent(browser, pending.url, "alice")
            answered = anyio.Event()
            statuses: list[str | None] = []

            async def long_poll() -> None:
                statuses.append((await client.auth.status(id=pending.id or "", wait=30)).status)
                answered.set()

            async def land() -> None:  # once the poll waits again; it must be woken by the callback, not at 30 s
                assert (await browser.get(callback)).status_code == 303

            async with anyio.create_task_group() as tg:
                tg.start_soon(long_poll)
                await finish_once_waiting(stack.output, pending.id, land, answered, waits=2)  # the first: above
        assert statuses == ["completed"]


# ---------------------------------------------------------------- user verification with a custom verifier


@pytest.mark.anyio
async def test_custom_verifier_binds_the_connection_only_for_the_matching_user(
    stack_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    stack = serve(stack_factory, monkeypatch, verification="custom", verifier_url=f"http://127.0.0.1:{port}/verify")
    async with verifier_app(stack.base_url, API_KEY, port) as app, AsyncArcade() as client:
        async with httpx2.AsyncClient(timeout=15, trust_env=False) as browser:
            # match: alice opens her own link while signed in to the app as alice
            await browser.get(app.login_url("alice@example.com"))
            mine = await client.tools.authorize(tool_name="Gmail.ListEmails", user_id="alice@example.com")
            assert mine.url
            page = await browser.get(await stack.provider.aconsent(browser, mine.url, "alice"), follow_redirects=True)
            assert page.status_code == 200 and "Connected to Demo provider" in page.text
            assert (await client.auth.status(id=mine.id or "")).status == "completed"
            done = await client.tools.execute(tool_name="Gmail.ListEmails", user_id="alice@example.com")
            assert done.output is not None and done.output.value == emails_of("alice")

            # mismatch: carol's link is opened by someone signed in to the app as mallory
            theirs = await client.tools.authorize(tool_name="Gmail.ListEmails", user_id="carol@example.com")
            assert theirs.url
            await browser.get(app.login_url("mallory@example.com"))
            page = await browser.get(
                await stack.provider.aconsent(browser, theirs.url, "mallory"), follow_redirects=True
            )
            assert page.status_code == 403
            assert (await client.auth.status(id=theirs.id or "")).status == "failed"
            for user in ("carol@example.com", "mallory@example.com"):
                definition = await client.tools.get("Gmail.ListEmails", user_id=user)
                assert definition.requirements is not None and definition.requirements.met is False
    assert [body["name"] for body in app.refusals] == ["user_mismatch"]


# ---------------------------------------------------------------- one connection for both front doors


@pytest.mark.anyio
async def test_a_connection_made_through_the_api_serves_the_mcp_tools_and_back(
    stack_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = serve(stack_factory, monkeypatch)
    async with AsyncArcade() as client:
        # through the API first: alice's MCP calls use that connection
        auth_response = await client.tools.authorize(tool_name="Gmail.ListEmails", user_id="alice@example.com")
        assert auth_response.url
        await authorize_in_browser(stack.provider, auth_response.url, "alice")
        async with mcp_client(stack, "http", token="tok-alice-3c1e") as alice:
            result = await alice.call_tool("Demo_WhoAmI", {})
        assert not result.is_error, texts(result)
        assert result.structured_content is not None
        assert result.structured_content["user_id"] == "alice@example.com"
        assert result.structured_content["provider_profile"]["sub"] == "alice"

        # through MCP first: bob's API calls use that connection
        async with mcp_client(stack, "http", token="tok-bob-8a2f") as bob:
            first = await bob.call_tool("Demo_WhoAmI", {})
            assert first.is_error and first.meta is not None
            await authorize_in_browser(stack.provider, first.meta["url"], "bob")
        executed = await client.tools.execute(tool_name="Demo.WhoAmI", user_id="bob@example.com")
        assert executed.success and executed.output is not None
        assert executed.output.value["provider_profile"]["sub"] == "bob"  # type: ignore[index]
        emails = await client.tools.execute(
            tool_name="Gmail.ListEmails", user_id="bob@example.com", input={"n_emails": 1}
        )
        assert emails.output is not None and emails.output.value == emails_of("bob", 1)
    assert stack.provider.stats()["token_requests"]["authorization_code"] == 2
