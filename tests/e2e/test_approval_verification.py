"""An approval on our page with user verification, in Chromium against real processes: authmcp, the test provider
(also the OpenID issuer for `verification = "idp"`) and an application's verifier (`custom`).

The adversary is whoever holds the approval link without being the user the call acts for, typically the agent
that made the call: it can open URLs and post forms, and it must never get its own destructive call approved.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from arcadepy import AsyncArcade, BadRequestError
from playwright.async_api import Browser, Page

from tests.conftest import REPO
from tests.e2e.browser_steps import API_KEY, answer_consent, flow_id_of, idp_stack, open_page, text_at
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, texts
from tests.e2e.verifier import verifier_app
from tests.support.browser import page_text

pytestmark = pytest.mark.anyio

API_TOOLKIT = str(REPO / "tests" / "support" / "api_toolkit.py")
USERS = {"tok-alice-7f2e": "alice", "tok-mallory-91cd": "mallory"}
ALICE = "tok-alice-7f2e"
APPROVAL = {"policy": "listed", "tools": ["Gmail.SendEmail"]}
SEND = {"recipient": "bob@example.com", "subject": "Quarterly numbers", "body": "CANARY-BODY-5d0a"}


async def send(stack: Stack, token: str) -> Any:
    async with mcp_client(stack, "http", token=token) as client:  # no elicitation callback: the page is asked
        return await client.call_tool("Gmail_SendEmail", SEND)


async def approval_link(stack: Stack, token: str) -> str:
    result = await send(stack, token)
    assert result.is_error and "Approval required" in texts(result), texts(result)
    return str((result.meta or {})["url"])


async def press(page: Page, button: str) -> str:
    async with page.expect_navigation():
        await page.click(f"button:has-text('{button}')")
    return await page_text(page)


def audit_rows(stack: Stack, event: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        return db.execute(
            "select outcome, detail, flow_ref, user_id, tool from audit_events where event = ? order by id", (event,)
        ).fetchall()


async def wait_for_audit(stack: Stack, event: str, count: int) -> list[tuple[Any, ...]]:
    with anyio.fail_after(20):  # the trail is written in the background
        while len(found := audit_rows(stack, event)) < count:
            await anyio.sleep(0.1)
    return found


# ---------------------------------------------------------------- verification = "custom"


async def test_custom_an_approval_counts_only_once_the_verifier_confirms_the_calls_user(
    stack_factory: Any, chromium: Browser
) -> None:
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS}, approval=APPROVAL)
    async with (
        verifier_app(stack.base_url, API_KEY) as app,
        AsyncArcade(api_key=API_KEY, base_url=stack.base_url) as arcade,
    ):
        stack.settings["api"] = {"keys": [API_KEY], "verification": "custom", "verifier_url": app.verify_url}
        stack.start_http("--toolkit", API_TOOLKIT)
        link = await approval_link(stack, ALICE)
        alice, other = await chromium.new_context(), await chromium.new_context()

        # alice approves on the page, but her app does not know her yet: the yes is held, the tool does not run
        page = await open_page(alice, link)
        assert "confirm you are alice" in await page_text(page)
        assert "Sign in to the app" in await press(page, "Approve this call")
        assert len(app.received) == 1 and app.received[0] != flow_id_of(link)
        held = await send(stack, ALICE)
        assert held.is_error and "Approval required" in texts(held)

        # another browser with the link sees nothing and decides nothing
        assert "Opened in another browser" in await text_at(other, link)

        # a forged confirmation, or the link's own id, confirms nothing
        for forged in (flow_id_of(link), "forged-" + app.received[0][7:], link):
            with pytest.raises(BadRequestError):
                await arcade.auth.confirm_user(flow_id=forged, user_id="alice")

        # alice signs in to her app and comes back to the verifier: now it counts, and the call runs once
        await open_page(alice, app.login_url("alice"))
        assert "Approved" in await text_at(alice, f"{app.verify_url}?flow_id={app.received[0]}")
        ran = await send(stack, ALICE)
        assert not ran.is_error and "bob@example.com" in texts(ran)
        again = await send(stack, ALICE)
        assert again.is_error and "Approval required" in texts(again)  # a yes is for one call

        # replaying the confirmation after the call ran approves nothing more
        with pytest.raises(BadRequestError):
            await arcade.auth.confirm_user(flow_id=app.received[0], user_id="alice")
        assert (await send(stack, ALICE)).is_error
    granted = await wait_for_audit(stack, "approval.granted", 1)
    assert granted == [("granted", "on a page, verified (custom)", granted[0][2], "alice", "Gmail.SendEmail")]
    assert app.received[0] not in stack.output() and flow_id_of(link) not in stack.output()


async def test_custom_the_links_creator_confirming_as_another_user_is_refused(
    stack_factory: Any, chromium: Browser
) -> None:
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS}, approval=APPROVAL)
    async with verifier_app(stack.base_url, API_KEY) as app:
        stack.settings["api"] = {"keys": [API_KEY], "verification": "custom", "verifier_url": app.verify_url}
        stack.start_http("--toolkit", API_TOOLKIT)
        link = await approval_link(stack, ALICE)  # the agent acting for alice made it...

        # ...and opens it in its own browser, where it is signed in to the app as mallory, and approves
        agent = await chromium.new_context()
        await open_page(agent, app.login_url("mallory"))
        page = await open_page(agent, link)
        assert "Not confirmed" in await press(page, "Approve this call")
        [refusal] = app.refusals
        assert refusal["name"] == "user_mismatch" and "approval is not granted" in refusal["message"]

        # the approval failed: the tool does not run, the page says so, and alice's next call is asked afresh
        result = await send(stack, ALICE)
        assert result.is_error and "Approval required" in texts(result)
        assert str((result.meta or {})["url"]) != link
        said = await text_at(agent, link)
        assert "Not approved" in said and "not the user this call acts for" in said
        async with AsyncArcade(api_key=API_KEY, base_url=stack.base_url) as arcade:  # nor can alice confirm it now
            with pytest.raises(BadRequestError, match="approval is not waiting for verification"):
                await arcade.auth.confirm_user(flow_id=app.received[0], user_id="alice")
    declined = await wait_for_audit(stack, "approval.declined", 1)
    assert [(outcome, detail) for outcome, detail, *_ in declined] == [
        ("failed", "the verified user is not the user this call acts for")
    ]
    assert audit_rows(stack, "approval.granted") == []
    for value in ("CANARY-BODY-5d0a", app.received[0]):
        assert value not in stack.output()


async def test_custom_a_decline_is_taken_from_the_links_browser_without_verification(
    stack_factory: Any, chromium: Browser
) -> None:
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS}, approval=APPROVAL)
    async with verifier_app(stack.base_url, API_KEY) as app:
        stack.settings["api"] = {"keys": [API_KEY], "verification": "custom", "verifier_url": app.verify_url}
        stack.start_http("--toolkit", API_TOOLKIT)
        link = await approval_link(stack, ALICE)
        page = await open_page(await chromium.new_context(), link)
        assert "Declined" in await press(page, "Decline")
        assert app.received == []  # nobody was sent to verify
        assert "declined Gmail.SendEmail" in texts(await send(stack, ALICE))  # told once, then asked again
        assert "Approval required" in texts(await send(stack, ALICE))
    assert [row[0] for row in await wait_for_audit(stack, "approval.declined", 1)] == ["declined"]


# ---------------------------------------------------------------- verification = "idp"


async def test_idp_an_approval_counts_only_when_the_calls_own_user_signs_in(
    stack_factory: Any, chromium: Browser
) -> None:
    stack = idp_stack(stack_factory, "--toolkit", API_TOOLKIT, approval=APPROVAL)
    alice = stack.provider.mint_jwt(sub="alice", aud=f"{stack.base_url}/mcp")

    # someone else signs in after approving: refused, the tool does not run
    link = await approval_link(stack, alice)
    page = await open_page(await chromium.new_context(), link)
    assert "Sign in to the Demo provider" in await press(page, "Approve this call")
    refused = await answer_consent(page, "mallory")
    assert refused.startswith("Not approved") and "someone other than the user this call acts for" in refused
    result = await send(stack, alice)
    assert result.is_error and "Approval required" in texts(result)

    # alice signs in after approving her own: the call runs, once
    link = str((result.meta or {})["url"])
    page = await open_page(await chromium.new_context(), link)
    await press(page, "Approve this call")
    assert "Approved" in await answer_consent(page, "alice")
    ran = await send(stack, alice)
    assert not ran.is_error and "bob@example.com" in texts(ran)
    assert "Approval required" in texts(await send(stack, alice))

    declined = await wait_for_audit(stack, "approval.declined", 1)
    assert declined[0][:2] == ("failed", "the verified user is not the user this call acts for")
    assert [row[1] for row in await wait_for_audit(stack, "approval.granted", 1)] == ["on a page, verified (idp)"]
    assert flow_id_of(link) not in stack.output()


async def test_custom_an_agent_relaying_its_verifier_link_to_the_user_gets_nothing_approved(
    stack_factory: Any, chromium: Browser
) -> None:
    """The agent presses Approve itself and passes the verifier URL it lands on to alice, who is signed in to the
    app and confirms without ever seeing the call: her browser is not the one that approved, so nothing runs."""
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS}, approval=APPROVAL)
    async with verifier_app(stack.base_url, API_KEY) as app:
        stack.settings["api"] = {"keys": [API_KEY], "verification": "custom", "verifier_url": app.verify_url}
        stack.start_http("--toolkit", API_TOOLKIT)
        link = await approval_link(stack, ALICE)
        agent, alice = await chromium.new_context(), await chromium.new_context()
        page = await open_page(agent, link)
        assert "Sign in to the app" in await press(page, "Approve this call")
        relayed = page.url

        await open_page(alice, app.login_url("alice"))
        said = await text_at(alice, relayed)
        assert "Not approved" in said and "other than the one where the call was approved" in said
        result = await send(stack, ALICE)
        assert result.is_error and "Approval required" in texts(result)  # asked afresh; it did not run
        assert str((result.meta or {})["url"]) != link
    failed = await wait_for_audit(stack, "approval.declined", 1)
    assert [(outcome, detail) for outcome, detail, *_ in failed] == [
        ("failed", "the confirmation reached a browser other than the one that consented")
    ]
    assert not audit_rows(stack, "approval.granted")


async def test_custom_each_approval_form_is_sent_once(stack_factory: Any) -> None:
    """A yes with verification can be given again (to be sent to the verifier once more), but only from a page
    opened again: the same form, replayed, is refused."""
    stack: Stack = stack_factory(mcp_auth={"tokens": USERS}, approval=APPROVAL)
    async with verifier_app(stack.base_url, API_KEY) as app:
        stack.settings["api"] = {"keys": [API_KEY], "verification": "custom", "verifier_url": app.verify_url}
        stack.start_http("--toolkit", API_TOOLKIT)
        link = await approval_link(stack, ALICE)
        opened = {
            "Sec-Fetch-Site": "none",
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Dest": "document",
            "Sec-Fetch-User": "?1",
        }
        clicked = {**opened, "Sec-Fetch-Site": "same-origin", "Origin": stack.base_url}
        async with httpx2.AsyncClient(trust_env=False) as browser:  # plays alice's browser, headers and all
            shown = await browser.get(link, headers=opened)
            token = re.search(r'name="csrf" value="([^"]+)"', shown.text)
            assert token is not None
            form = {"csrf": token.group(1), "decision": "approve"}
            first = await browser.post(link, data=form, headers=clicked)
            assert first.status_code == 303 and first.headers["location"].startswith(app.verify_url)
            replayed = await browser.post(link, data=form, headers=clicked)
            assert replayed.status_code == 403 and "already sent once" in replayed.text
            fresh = re.search(r'name="csrf" value="([^"]+)"', (await browser.get(link, headers=opened)).text)
            assert fresh is not None and fresh.group(1) != token.group(1)
            second = await browser.post(link, data={**form, "csrf": fresh.group(1)}, headers=clicked)
            # from a page opened again: sent to the verifier once more, with a new confirmation
            assert second.status_code == 303 and second.headers["location"] != first.headers["location"]
