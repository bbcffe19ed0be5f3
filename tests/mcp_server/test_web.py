"""The browser's pages, in process over ASGI: the secret page, and what every page must send."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from mcp import Client

from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.serving.web_app import create_web_app
from mcp_server.toolkit.tool import OAuth2
from tests.support import sample_toolkit

pytestmark = pytest.mark.anyio

PUBLIC_URL = "http://127.0.0.1:8000"


@pytest.fixture
async def runtime(make_settings: Any) -> AsyncIterator[Runtime]:
    settings = make_settings(
        providers={
            "demo": {
                "authorize_url": "https://a.example/x",
                "token_url": "https://a.example/t",
                "client_id": "authmcp-test",
                "client_secret": "not-a-secret",
            }
        }
    )
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[sample_toolkit.__name__]) as rt:
        yield rt


@pytest.fixture
async def browser(runtime: Runtime) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=create_web_app(runtime))
    async with httpx2.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


async def secret_link(runtime: Runtime) -> str:
    async with Client(runtime.mcp) as client:
        result = await client.call_tool("Sample_ReadSecret", {})
    return str(result.meta["url"]).removeprefix(PUBLIC_URL)  # type: ignore[index]


def csrf_of(form: httpx2.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert match, "the secret form carries a CSRF token"
    return match.group(1)


async def open_form(browser: httpx2.AsyncClient, link: str) -> str:
    """Open the secret page as a person would; returns its CSRF token (the browser keeps the flow's cookie)."""
    form = await browser.get(link)
    assert form.status_code == 200, form.text
    return csrf_of(form)


async def test_user_types_a_secret_and_the_tool_gets_it(runtime: Runtime, browser: httpx2.AsyncClient) -> None:
    link = await secret_link(runtime)
    form = await browser.get(link)
    assert form.status_code == 200 and 'type="password"' in form.text and "SAMPLE_KEY" in form.text
    assert (
        form.headers["cache-control"] == "no-store" and "form-action 'self'" in form.headers["content-security-policy"]
    )
    assert "Sample.ReadSecret" in form.text and "&#x27;alice&#x27;" in form.text  # which tool, which account
    csrf = csrf_of(form)

    empty = await browser.post(link, data={"value": "   ", "csrf": csrf})
    assert empty.status_code == 400 and "cannot be empty" in empty.text

    forged = await browser.post(link, data={"value": "x", "csrf": "0" * 32})
    assert forged.status_code == 403 and await runtime.service.connections.user_secret("alice", "SAMPLE_KEY") is None

    saved = await browser.post(link, data={"value": "CANARY-SECRET-6b1d", "csrf": csrf})
    assert saved.status_code == 303
    done = await browser.get(saved.headers["location"])
    assert done.status_code == 200 and "SAMPLE_KEY saved" in done.text and "CANARY-SECRET-6b1d" not in done.text

    again = await browser.post(link, data={"value": "another", "csrf": csrf})
    assert again.status_code == 410  # the link works once

    async with Client(runtime.mcp) as client:
        result = await client.call_tool("Sample_ReadSecret", {})
    assert result.structured_content == {"result": len("CANARY-SECRET-6b1d")}
    data_dir = Path(runtime.settings.data_dir)
    assert b"CANARY-SECRET-6b1d" not in b"".join(p.read_bytes() for p in data_dir.glob("authmcp.db*"))


async def test_secret_is_per_user(runtime: Runtime, browser: httpx2.AsyncClient) -> None:
    link = await secret_link(runtime)
    await browser.post(link, data={"value": "alice-value", "csrf": await open_form(browser, link)})
    assert await runtime.service.connections.user_secret("alice", "SAMPLE_KEY") == "alice-value"
    assert await runtime.service.connections.user_secret("bob", "SAMPLE_KEY") is None


async def test_a_post_from_another_origin_is_refused(runtime: Runtime, browser: httpx2.AsyncClient) -> None:
    link = await secret_link(runtime)
    csrf = await open_form(browser, link)
    forged = await browser.post(link, data={"value": "x", "csrf": csrf}, headers={"Origin": "https://evil.test"})
    assert forged.status_code == 403
    assert await runtime.service.connections.user_secret("alice", "SAMPLE_KEY") is None


async def test_unknown_links_and_wrong_methods_get_plain_pages(browser: httpx2.AsyncClient) -> None:
    unknown = await browser.get("/connect/nope")
    assert unknown.status_code == 404 and "<script" not in unknown.text
    huge = await browser.get("/connect/" + "x" * 500)
    assert huge.status_code == 404 and "x" * 100 not in huge.text
    assert (await browser.post("/connect/nope", data={"value": "x"})).status_code == 404
    reflected = await browser.get("/oauth/callback", params={"state": "<script>alert(1)</script>", "code": "c"})
    assert reflected.status_code == 400 and "<script>" not in reflected.text


@pytest.mark.parametrize(
    ("error", "title"),
    [
        pytest.param("access_denied", "Access declined", id="the-person-said-no"),
        # the provider's own code, shown in the message, must not pick the page: it did not say the person said no
        pytest.param("declined", "Authorization failed", id="a-providers-code"),
    ],
)
async def test_the_callback_page_is_chosen_by_what_happened_not_by_words(
    runtime: Runtime, browser: httpx2.AsyncClient, error: str, title: str
) -> None:
    flow = await runtime.service.flows.start_flow("alice", OAuth2(id="demo"))
    to_provider = await browser.get(f"/connect/{flow.id}")  # binds this browser, then off to the provider
    assert to_provider.status_code in (302, 303, 307), to_provider.text
    state = parse_qs(urlsplit(to_provider.headers["location"]).query)["state"][0]
    answer = await browser.get("/oauth/callback", params={"state": state, "error": error})
    assert answer.status_code == 400 and f"<title>{title}" in answer.text, answer.text
