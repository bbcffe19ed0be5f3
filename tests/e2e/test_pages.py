"""Every page of a flow in a real browser (Chromium through Playwright), against real processes: authmcp with
`verification = "custom"`, the test provider, and an application's verifier. A screenshot of each page is
saved under the test's tmp dir (`screenshots/`)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from tests.e2e.browser_steps import (
    API_KEY,
    SAMPLE_TOOLKIT,
    answer_consent,
    call,
    expire,
    flow_id_of,
    link_for,
    open_page,
    text_at,
)
from tests.e2e.conftest import Stack
from tests.e2e.verifier import verifier_app
from tests.support.browser import Screenshots, page_text

pytestmark = pytest.mark.anyio

USERS = {f"tok-{name}": name for name in ("alice", "bob", "carol", "dave", "erin")}


async def test_every_page_of_a_flow_in_chromium(
    stack_factory: Any, chromium: Browser, screenshots: Screenshots
) -> None:
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS}, log_level="DEBUG", max_open_flows_per_user=2)
    async with verifier_app(stack.base_url, API_KEY) as app:
        stack.settings["api"] = {"keys": [API_KEY], "verification": "custom", "verifier_url": app.verify_url}
        stack.start_http("--toolkit", SAMPLE_TOOLKIT)
        alice, elsewhere = await chromium.new_context(), await chromium.new_context()
        await open_page(alice, app.login_url("alice"))  # alice is signed in to the application
        links: list[str] = []

        # the link sends alice's browser to the provider's sign-in and consent page
        links.append(link := await link_for(stack, "tok-alice"))
        page = await open_page(alice, link)
        assert "Sign in to the Demo provider" in await page_text(page)
        await screenshots.take(page, "01-provider-consent")

        # the same link in another browser: it says so, and does not break alice's attempt
        other = await open_page(elsewhere, link)
        text = await page_text(other)
        assert "Opened in another browser" in text and "only be finished there" in text
        await screenshots.take(other, "02-opened-in-another-browser")

        text = await answer_consent(page, "alice")
        assert "Connected to Demo provider" in text and "close this tab" in text
        await screenshots.take(page, "03-connected")
        result = await call(stack, "tok-alice")
        assert not result.is_error and result.structured_content["provider_profile"]["sub"] == "alice"

        # the completed link: "connected" in alice's browser, "already connected" elsewhere; its status page
        # tells nobody else anything
        assert "Connected to Demo provider" in await text_at(alice, link)
        other = await open_page(elsewhere, link)
        assert "Already connected" in await page_text(other)
        await screenshots.take(other, "04-already-connected")
        other = await open_page(elsewhere, f"{link}/done")
        text = await page_text(other)
        assert "Nothing to show here" in text and "Connected" not in text
        await screenshots.take(other, "05-status-elsewhere")

        # declined at the provider
        bob = await chromium.new_context()
        links.append(link := await link_for(stack, "tok-bob"))
        page = await open_page(bob, link)
        text = await answer_consent(page, "bob", allow=False)
        assert "Access declined" in text and "Nothing was stored" in text
        assert await page.get_attribute("main", "class") == "declined"  # its own colour: not success, not error
        await screenshots.take(page, "06-declined")

        # consented, but the application has not confirmed who carol is (she is not signed in to it)
        carol = await chromium.new_context()
        links.append(link := await link_for(stack, "tok-carol"))
        page = await open_page(carol, link)
        assert "Sign in to the app" in await answer_consent(page, "carol")
        page = await open_page(carol, f"{link}/done")
        text = await page_text(page)
        assert "Almost done" in text and "nothing is connected yet" in text
        await screenshots.take(page, "07-verification-pending")

        # the secret page: which account, which tool; the form submits from Chromium
        links.append(link := await link_for(stack, "tok-alice", "Sample_ReadSecret"))
        page = await open_page(alice, link)
        text = await page_text(page)
        assert "Enter your SAMPLE_KEY" in text and "Sample.ReadSecret" in text and "'alice'" in text
        await screenshots.take(page, "08-secret-form")
        await page.fill('input[name="value"]', "CANARY-TYPED-SECRET-41c7")
        async with page.expect_navigation():
            await page.click('button[type="submit"]')
        text = await page_text(page)
        assert "SAMPLE_KEY saved" in text and "CANARY-TYPED-SECRET-41c7" not in text
        await screenshots.take(page, "09-secret-saved")
        result = await call(stack, "tok-alice", "Sample_ReadSecret")
        assert not result.is_error and result.structured_content == {"result": len("CANARY-TYPED-SECRET-41c7")}

        # expired
        dave = await chromium.new_context()
        links.append(link := await link_for(stack, "tok-dave"))
        expire(stack, flow_id_of(link))
        page = await open_page(dave, link)
        text = await page_text(page)
        assert "Link expired" in text and "valid for 10 minutes" in text  # flow_ttl_seconds' default, as made
        await screenshots.take(page, "10-expired")

        # replaced: erin opened two links; a third one (max_open_flows_per_user = 2) replaces the oldest
        erin = await chromium.new_context()
        for _ in range(3):
            links.append(link := await link_for(stack, "tok-erin"))
            await open_page(erin, link)  # opened, so the next call makes a new link instead of reusing it
        page = await open_page(erin, links[-3])
        text = await page_text(page)
        assert "Link replaced" in text and "newest link" in text
        await screenshots.take(page, "11-replaced")

        # errors: an unknown link, a forged callback
        page = await open_page(dave, f"{stack.base_url}/connect/not-a-link")
        assert "Link not valid" in await page_text(page)
        await screenshots.take(page, "12-unknown-link")
        page = await open_page(dave, f"{stack.base_url}/oauth/callback?state=forged&code=x")
        text = await page_text(page)
        assert "Authorization failed" in text and "forged" not in text
        assert "Start again from your app" not in text and text.count("try the tool again") == 1  # advice once
        await screenshots.take(page, "13-callback-error")

    # every page has a title and says what happened and what to do next; nothing carries a whole flow id or
    # a confirmation into the log, at DEBUG
    assert len(screenshots.taken) == 13
    log = stack.output()
    assert "DEBUG" in log
    for secret in [*map(flow_id_of, links), *app.received, "CANARY-TYPED-SECRET-41c7"]:
        assert secret and secret not in log
