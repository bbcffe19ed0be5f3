"""The local user's pages in a real browser: `/`, Your connections, and Revoke, against a real authmcp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.async_api import Browser

from mcp_server.vault import open_vault
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser
from tests.e2e.test_shared_pages import pages_answer, start_stdio, stop, until
from tests.support.browser import Screenshots

pytestmark = pytest.mark.anyio


async def connect(stack: Stack, username: str) -> None:
    async with mcp_client(stack, "http", mode="legacy") as client:
        first = await client.call_tool("Demo_WhoAmI", {})
        page = await authorize_in_browser(stack.provider, first.meta["url"], username)
        assert page.status_code == 200


async def stored_providers(stack: Stack, user: str) -> list[str]:
    data_dir = Path(stack.settings["data_dir"])
    vault = await open_vault(f"sqlite:///{data_dir / 'authmcp.db'}", env_keys=[], key_file=data_dir / "keys")
    try:
        rows, _ = await vault.list_connections(user)
    finally:
        await vault.aclose()
    return [row["provider_id"] for row in rows]


async def test_home_connections_and_revoke_in_chromium(
    stack: Stack, chromium: Browser, screenshots: Screenshots
) -> None:
    stack.start_http()
    await connect(stack, "alice")
    assert await stored_providers(stack, "local-user") == ["demo"]
    async with mcp_client(stack, "http", mode="legacy") as client:  # a call made with the connection
        assert not (await client.call_tool("Demo_WhoAmI", {})).is_error
    page = await chromium.new_page()

    await page.goto(f"{stack.base_url}/")
    body = await page.inner_text("body")
    assert "authmcp is running" in body and "local user 'local-user'" in body
    assert await page.title() == "authmcp is running"  # the server's name once, not "authmcp · authmcp"
    assert await page.inner_text("#mcp-url") == f"{stack.base_url}/mcp"  # what to connect a client to
    assert f"claude mcp add --transport http authmcp {stack.base_url}/mcp" in body
    assert await page.inner_text("#next")  # one clear next step
    await screenshots.take(page, "20-home")

    await page.click("text=Your connections")
    assert page.url == f"{stack.base_url}/connections"
    cells = [await cell.inner_text() for cell in await page.query_selector_all("tbody tr td")]
    provider, account, scopes, since, used, status = cells[:6]
    assert (provider, account, scopes, status) == ("Demo provider", "alice@example.test", "openid profile", "active")
    assert since.endswith("UTC") and used.endswith("UTC")  # used just now, not "never"
    await screenshots.take(page, "21-connections")

    async with page.expect_navigation():
        await page.click("button:has-text('Revoke')")  # a real form post: the CSRF cookie and field
    assert page.url == f"{stack.base_url}/connections?revoked=demo"
    body = await page.inner_text("body")
    assert "Revoked Demo provider" in body and "You have not connected any account yet" in body
    await screenshots.take(page, "22-revoked")
    assert await stored_providers(stack, "local-user") == []
    assert stack.provider.stats()["revocations"] >= 1  # revoked at the provider, as the CLI does


async def test_revoke_without_the_forms_csrf_token_is_refused(stack: Stack) -> None:
    stack.start_http()
    await connect(stack, "alice")
    async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as browser:
        await browser.get("/connections")  # sets the CSRF cookie
        forged = await browser.post("/connections/demo/revoke", data={"csrf": "guessed"})
        missing = await browser.post("/connections/demo/revoke", data={})
    async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as other_site:
        no_cookie = await other_site.post("/connections/demo/revoke", data={"csrf": "anything"})
    assert forged.status_code == missing.status_code == no_cookie.status_code == 403
    assert await stored_providers(stack, "local-user") == ["demo"]


async def test_in_multi_user_mode_the_pages_are_not_served(stack_factory: Any) -> None:
    stack = stack_factory(mcp_auth={"tokens": {"tok-alice-5a1f": "alice@example.com"}}, api={"verification": "none"})
    stack.start_http()
    async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as browser:
        assert (await browser.get("/")).status_code == 404
        assert (await browser.get("/connections")).status_code == 404
        assert (await browser.post("/connections/demo/revoke", data={})).status_code in (404, 405)


async def test_an_unknown_path_is_a_page_for_a_browser_and_json_for_a_program(
    stack_factory: Any, chromium: Browser, screenshots: Screenshots
) -> None:
    """In single-user mode the page links home; in multi-user mode (no home page) it says to go back to the app.
    A program gets JSON, and the `/v1` API keeps its own answer."""
    single = stack_factory()
    single.start_http()
    multi = stack_factory(mcp_auth={"tokens": {"tok-alice-5a1f": "alice@example.com"}}, api={"verification": "none"})
    multi.start_http()
    page = await chromium.new_page()
    for stack, next_step in ((single, "go to the home page"), (multi, "Go back to your app")):
        answer = await page.goto(f"{stack.base_url}/no/such/page")
        assert answer is not None and answer.status == 404
        assert await page.inner_text("h1") == "Page not found"
        assert next_step in await page.inner_text("#next")
        if stack is single:
            await screenshots.take(page, "23-not-found")
        async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as program:
            plain = await program.get("/no/such/page")
            api = await program.get("/v1/no/such/endpoint")
        assert plain.status_code == 404 and plain.json()["name"] == "not_found"
        assert api.status_code == 404 and "/v1 API" in api.json()["message"]
    await page.goto(f"{single.base_url}/no/such/page")
    async with page.expect_navigation():
        await page.click('main a[href="/"]')
    assert await page.title() == "authmcp is running"


async def test_the_pages_fit_a_phones_screen(stack: Stack, chromium: Browser) -> None:
    """On a 360 px wide phone no page is wider than the screen (the connections table scrolls inside its box)."""
    stack.start_http()
    await connect(stack, "alice")
    context = await chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = await context.new_page()
        for path in ("/", "/connections", "/no/such/page"):
            await page.goto(f"{stack.base_url}{path}")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
            assert await page.inner_text("header") == "authmcp"  # the server's name on every page
    finally:
        await context.close()


async def test_beside_stdio_the_home_page_says_how_to_add_authmcp_to_a_client(stack: Stack, tmp_path: Path) -> None:
    """The pages of a stdio authmcp have no MCP URL to show: the home page names `authmcp install` instead."""
    with open(tmp_path / "stdio.log", "w") as log:
        holder = start_stdio(stack, log)
        try:
            await until(lambda: pages_answer(stack), "the stdio process serves the pages")
            async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as browser:
                home = await browser.get("/", headers={"Accept": "text/html"})
        finally:
            stop(holder)
    assert home.status_code == 200 and "speaks MCP over stdio" in home.text
    assert ".venv/bin/authmcp install claude-desktop\n" in home.text and 'id="mcp-url"' not in home.text
