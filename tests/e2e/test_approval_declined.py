"""What the approval page tells a person, and what a client without forms is told after they press Decline.

The page says what the tool is and does (its title and description) and which provider and account it acts on;
after a Decline the client's next call is told plainly, once, that the person declined (not handed a new link
to ask again with), the same call made after that is asked again, and the decline is in the audit trail.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser_steps import SAMPLE_TOOLKIT
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, texts
from tests.e2e.test_approval_verification import audit_rows, wait_for_audit
from tests.support.browser import Screenshots

pytestmark = pytest.mark.anyio


async def read_page(
    browser: Any, url: str, shots: Screenshots, name: str, *, press: str | None = None
) -> tuple[str, str]:
    """Open the link in a browser of its own; returns the page's text and, after pressing `press`, the next's."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(url)
        heading = await page.eval_on_selector("h1", "h => getComputedStyle(h).color")
        question = await page.inner_text("body") + f"\n[heading colour {heading}]"
        await shots.take(page, name)
        answer = ""
        if press is not None:
            async with page.expect_navigation():
                await page.click(f"button:has-text('{press}')")
            answer = await page.inner_text("body")
            await shots.take(page, f"{name}-{press.lower()}d")
            heading = await page.eval_on_selector("h1", "h => getComputedStyle(h).color")
            answer += f"\n[heading colour {heading}]"
        return question, answer
    finally:
        await context.close()


async def test_the_page_names_the_tool_provider_and_account_and_a_decline_reaches_the_client_once(
    stack_factory: Any, chromium: Any, screenshots: Screenshots
) -> None:
    stack: Stack = stack_factory(approval={"policy": "listed", "tools": ["Sample.ShowToken", "Sample.DeleteNote"]})
    stack.start_http("--toolkit", SAMPLE_TOOLKIT)
    async with mcp_client(stack, "http") as client:  # no elicitation: approvals are asked on a page
        connect = await client.call_tool("Sample_ShowToken", {"note": "hello"})
        landed = await authorize_in_browser(stack.provider, str((connect.meta or {})["url"]), "alice")
        assert landed.status_code == 200, landed.text

        asked = await client.call_tool("Sample_ShowToken", {"note": "hello"})
        assert asked.is_error and "Approval required" in texts(asked)
        question, answer = await read_page(
            chromium, str((asked.meta or {})["url"]), screenshots, "30-approval", press="Decline"
        )
        assert "Sample.ShowToken" in question
        assert "Show which user and token the gate gave this call." in question  # what the tool does
        assert "Demo provider, account alice@example.test" in question  # which provider and account
        assert "note: hello" in question and "[heading colour rgb(154, 103, 0)]" in question  # waiting for a yes
        assert "Declined" in answer and "rgb(26, 127, 55)" not in answer  # not in the success colour

        told = await client.call_tool("Sample_ShowToken", {"note": "hello"})
        assert told.is_error and "declined Sample.ShowToken" in texts(told)
        assert "Approval required" not in texts(told) and "url" not in (told.meta or {})
        again = await client.call_tool("Sample_ShowToken", {"note": "hello"})  # told once: now asked anew
        assert again.is_error and "Approval required" in texts(again)

        titled = await client.call_tool("Sample_DeleteNote", {"note": "groceries"})
        question, _ = await read_page(chromium, str((titled.meta or {})["url"]), screenshots, "32-approval-titled")
        assert "Delete a note (Sample.DeleteNote)" in question and "Delete a note for good" in question
        assert "No account at a provider" in question

    declined = await wait_for_audit(stack, "approval.declined", 1)
    assert [(outcome, tool) for outcome, _, _, _, tool in declined] == [("declined", "Sample.ShowToken")]
    ran = [outcome for outcome, *_ in audit_rows(stack, "tool.call")]
    assert "ok" not in ran  # the declined call never ran
