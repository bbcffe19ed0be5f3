"""The front door's pages follow the rule of every page (web/pages.py), in Chromium against real processes: a
heading in the outcome's colour, the server's name, and one clear next step. Sign-in refused and declined,
client consent and its Deny, a link refused to someone else, home and Your connections."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from playwright.async_api import Browser, Page, Route

from tests.e2e.browser_steps import answer_consent, link_for, open_page
from tests.e2e.front_door_steps import REDIRECT_URI, connected, front_door_stack, pkce, register
from tests.support.browser import Screenshots, page_text

pytestmark = pytest.mark.anyio


async def follows_the_rule(page: Page, tone: str) -> str:
    """The page's text, once it is shown to have the server's name, a heading in `tone` and a next step."""
    assert await page.inner_text("header") == "authmcp"
    assert await page.get_attribute("main", "class") == tone, await page_text(page)
    assert (await page.inner_text("main h1")).strip()
    assert (await page.inner_text("#next")).strip(), await page_text(page)
    return await page_text(page)


async def test_front_door_pages_in_chromium(stack_factory: Any, chromium: Browser, screenshots: Screenshots) -> None:
    stack = front_door_stack(stack_factory)
    provider = stack.provider

    # a client asks: the person signs in, and the consent page asks (waiting for an answer)
    alice = await chromium.new_context()
    answered: list[str] = []

    async def at_client(route: Route) -> None:
        answered.append(route.request.url)
        await route.fulfill(status=200, content_type="text/html", body="<p>back at the client</p>")

    await alice.route(f"{REDIRECT_URI}*", at_client)
    client_id = register(stack)
    query = httpx2.QueryParams(
        response_type="code",
        client_id=client_id,
        redirect_uri=REDIRECT_URI,
        state="st-1",
        code_challenge=pkce()[1],
        code_challenge_method="S256",
    )
    page = await open_page(alice, f"{stack.base_url}/authorize?{query}")
    await answer_consent(page, "alice")
    consent = await follows_the_rule(page, "wait")
    assert "Test client" in consent and "Approve" in consent and "Deny" in consent
    await screenshots.take(page, "front-door-consent")
    async with page.expect_response(lambda r: r.url.startswith(REDIRECT_URI)):  # after `at_client` answered
        await page.click('button[value="deny"]')
    assert len(answered) == 1 and "error=access_denied" in answered[0]  # Deny: back to the client, refused

    # the signed-in person's pages
    page = await open_page(alice, f"{stack.base_url}/")
    assert "signed in as 'alice'" in await follows_the_rule(page, "ok")
    page = await open_page(alice, f"{stack.base_url}/connections")
    assert "Your connections" in await follows_the_rule(page, "ok")
    await screenshots.take(page, "front-door-connections")

    # a link made for alice, opened by bob signed in as himself: refused
    with httpx2.Client(timeout=15, trust_env=False, follow_redirects=False) as client_browser:
        access_token = connected(stack, client_browser)[1]["access_token"]
    link = await link_for(stack, access_token)
    bob = await chromium.new_context()
    page = await open_page(bob, f"{stack.base_url}/connections")
    await answer_consent(page, "bob")
    page = await open_page(bob, link)
    assert "Signed in as someone else" in await follows_the_rule(page, "fail")
    await screenshots.take(page, "front-door-someone-else")

    # the sign-in declined at the provider: its own colour, not an error
    page = await open_page(await chromium.new_context(), f"{stack.base_url}/connections")
    text = await answer_consent(page, "carol", allow=False)
    assert "Not signed in" in text and "declined" in await follows_the_rule(page, "declined")
    await screenshots.take(page, "front-door-sign-in-declined")

    # a sign-in that cannot be trusted: an error, and what to do
    provider.set_behavior(id_token="wrong_nonce")
    page = await open_page(await chromium.new_context(), f"{stack.base_url}/connections")
    await answer_consent(page, "carol")
    text = await follows_the_rule(page, "fail")
    assert "Not signed in" in text and "connect it to authmcp again" in text
    await screenshots.take(page, "front-door-sign-in-refused")
