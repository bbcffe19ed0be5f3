"""Every mistake a person's browser can make on authmcp's pages ends on a page with one heading, the server's
name and one next step, with a 4xx status: never a traceback, a bare error, or what was sent echoed back.
Plain HTTP with a browser's Accept for the whole table; Chromium for the pages a person lands on."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from playwright.async_api import Browser

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser

pytestmark = pytest.mark.anyio

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SECRET_LOOKING = "tok-never-echoed-" + "x" * 12

# (method, path with query, what the heading or sentence names)
MISTAKES = [
    ("GET", "/no/such/page", "not found"),
    ("GET", "/connect/no-such-flow-id", "link"),
    ("GET", "/connect/" + "z" * 400, "link"),
    ("GET", "/oauth/callback", ""),
    ("GET", f"/oauth/callback?code={SECRET_LOOKING}&state=forged-state", ""),
    ("GET", f"/oauth/callback?error=access_denied&state=forged-state&error_description={SECRET_LOOKING}", ""),
    ("GET", "/oauth/callback?code=%00%ff&state=%ff%fe%fd", ""),
    ("GET", "/oauth/callback?state=&code=", ""),
    ("GET", "/approve/no-such-approval", ""),
    ("GET", "/connections/demo/revoke", ""),
    ("POST", "/connect/no-such-flow-id", ""),
    ("DELETE", "/", ""),
    ("GET", "/oauth/callback?code=c&state=" + "s" * 6000, ""),
    ("GET", "/connect/no-such-flow-id?" + "q=a&" * 2000, "link"),
]


def assert_a_page(answer: httpx2.Response, words: str) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("text/html"), answer.headers["content-type"]
    html = answer.text
    assert html.count("<h1") == 1 and 'id="next"' in html and "authmcp" in html, html[:500]
    assert "Traceback" not in html and SECRET_LOOKING not in html and "forged-state" not in html
    assert words.lower() in html.lower()


@pytest.mark.parametrize("multi_user", [False, True], ids=["single-user", "multi-user"])
async def test_every_page_mistake_is_a_page_with_a_heading_and_a_next_step(
    stack_factory: Any, multi_user: bool
) -> None:
    options: dict[str, Any] = (
        {"mcp_auth": {"tokens": {"tok-alice-5a1f": "alice@example.com"}}, "api": {"verification": "none"}}
        if multi_user
        else {}
    )
    stack = stack_factory(**options)
    stack.start_http()
    failures = []
    async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False, headers=BROWSER) as browser:
        for method, path, words in MISTAKES:
            answer = await browser.request(method, path)
            try:
                assert_a_page(answer, words)
            except AssertionError as exc:
                failures.append(f"{method} {path[:60]}: {exc}")
    assert failures == [], "\n".join(failures)
    assert "Traceback" not in stack.output()


async def test_a_used_link_and_a_provider_refusal_in_chromium(stack: Stack, chromium: Browser) -> None:
    """What a person sees, in Chromium: a link opened again after it was used, a provider's refusal."""
    stack.start_http()
    async with mcp_client(stack, "http", mode="legacy") as client:
        first = await client.call_tool("Demo_WhoAmI", {})
    link = first.meta["url"]
    assert (await authorize_in_browser(stack.provider, link, "alice")).status_code == 200
    page = await chromium.new_page()
    # the used link, opened again (and in another browser than the one that used it): what became of it
    # (200) or that it belongs to that browser (409); a refusal from the provider that matches no flow: 4xx
    for url, statuses in (
        (link, (200, 409)),
        (f"{stack.base_url}/oauth/callback?error=access_denied&state=forged-state", range(400, 500)),
    ):
        answer = await page.goto(url)
        assert answer is not None and answer.status in statuses, (url, answer and answer.status)
        assert len(await page.query_selector_all("h1")) == 1 and await page.inner_text("#next")
        assert "authmcp" in await page.title()
        assert "Traceback" not in await page.content() and "forged-state" not in await page.content()
