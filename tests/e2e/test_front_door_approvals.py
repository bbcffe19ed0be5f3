"""Approval pages behind the front door's sign-in, in Chromium against real processes (authmcp with `[front_door]`
and `[approval]`, the strict test provider as the sign-in).

The approval link of alice's call opens only in a browser signed in as alice: one with no session signs in first
and comes back to the question; one signed in as bob is refused and the link stays alice's to answer. The
issue-19 checks still hold: an agent's HTTP client that fetches the link decides nothing.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestFormParams, ElicitRequestParams, ElicitResult
from playwright.async_api import Browser, Page

from tests.conftest import REPO
from tests.e2e.browser_steps import answer_consent, open_page
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, texts
from tests.e2e.front_door_steps import connected, front_door_stack
from tests.support.browser import page_text

pytestmark = pytest.mark.anyio

API_TOOLKIT = str(REPO / "tests" / "support" / "api_toolkit.py")
SEND = {"recipient": "bob@example.com", "subject": "Quarterly numbers", "body": "See attached."}


async def approval_link(stack: Stack, access_token: str) -> str:
    async with mcp_client(stack, "http", token=access_token) as client:  # no forms: the approval is a link
        result = await client.call_tool("Gmail_SendEmail", SEND)
    assert result.is_error and "Approval required" in texts(result), result
    url = str((result.meta or {})["url"])
    assert url.startswith(f"{stack.base_url}/approve/")
    return url


async def press(page: Page, button: str) -> str:
    async with page.expect_navigation():
        await page.click(f"button:has-text('{button}')")
    return await page_text(page)


async def test_an_approval_link_opens_only_for_the_signed_in_user_of_its_call(
    stack_factory: Any, chromium: Browser
) -> None:
    stack = front_door_stack(
        stack_factory, "--toolkit", API_TOOLKIT, approval={"policy": "listed", "tools": ["Gmail.SendEmail"]}
    )
    with httpx2.Client(timeout=15, trust_env=False, follow_redirects=False) as client_browser:
        access_token = connected(stack, client_browser)[1]["access_token"]  # an MCP client connected as alice
    link = await approval_link(stack, access_token)

    # bob, signed in to authmcp in his own browser, opens alice's link: refused, nothing bound or decided
    bob = await chromium.new_context()
    page = await open_page(bob, f"{stack.base_url}/connections")
    assert "Your connections" in await answer_consent(page, "bob")
    page = await open_page(bob, link)
    refused = await page_text(page)
    assert "Signed in as someone else" in refused and "Nothing was changed" in refused, refused
    assert await page.get_attribute("main", "class") == "fail"
    assert 'value="approve"' not in await page.content()  # no form to answer

    # alice's browser has no session yet: she signs in first and comes back to the question
    alice = await chromium.new_context()
    page = await open_page(alice, link)
    question = await answer_consent(page, "alice")
    assert page.url == link and "Approve this call?" in question and "bob@example.com" in question, question
    assert "Approved" in await press(page, "Approve this call")
    async with mcp_client(stack, "http", token=access_token) as client:
        ran = await client.call_tool("Gmail_SendEmail", SEND)
    assert not ran.is_error, texts(ran)

    # a new call: the agent's HTTP client fetching the link decides nothing (and takes nothing from alice) ...
    link = await approval_link(stack, access_token)
    async with httpx2.AsyncClient(trust_env=False) as agent:
        fetched = await agent.get(link)
    assert fetched.status_code == 403 and "Nothing was decided" in fetched.text
    # ... and alice, signed in already, is asked at once, with no sign-in
    page = await open_page(alice, link)
    assert "Approve this call?" in await page_text(page)
    assert "Declined" in await press(page, "Decline")
    async with mcp_client(stack, "http", token=access_token) as client:
        declined = await client.call_tool("Gmail_SendEmail", SEND)
    assert declined.is_error and "declined" in texts(declined).lower(), texts(declined)


async def test_a_client_that_can_show_forms_is_not_asked_in_band_behind_the_front_door(stack_factory: Any) -> None:
    """The person is verified by the sign-in, so a yes counts only from her browser: a client able to show a form
    (or an agent answering it) is sent the link like any other, and its yes is never asked for."""
    stack = front_door_stack(
        stack_factory, "--toolkit", API_TOOLKIT, approval={"policy": "listed", "tools": ["Gmail.SendEmail"]}
    )
    with httpx2.Client(timeout=15, trust_env=False, follow_redirects=False) as client_browser:
        access_token = connected(stack, client_browser)[1]["access_token"]
    forms: list[ElicitRequestParams] = []

    async def would_say_yes(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if isinstance(params, ElicitRequestFormParams):
            forms.append(params)
            return ElicitResult(action="accept", content={"approve": True})
        return ElicitResult(action="decline")

    async with mcp_client(stack, "http", token=access_token, elicitation_callback=would_say_yes) as client:
        result = await client.call_tool("Gmail_SendEmail", SEND)
    assert forms == []
    assert result.is_error and "Approval required" in texts(result), texts(result)
    assert str((result.meta or {})["url"]).startswith(f"{stack.base_url}/approve/")
