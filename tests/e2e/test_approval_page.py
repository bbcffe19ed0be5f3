"""Approval on our page, in a real browser: a client without forms and the `/v1` API each get a link; the person
approves or declines in Chromium; the call runs once only after a yes, and a forged form post decides nothing.

The agent that made the call can fetch URLs and post forms: in single-user mode without verification it must still
not get its own call approved by fetching the link and posting the form (web/approve.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, texts

pytestmark = pytest.mark.anyio

API_TOOLKIT = str(REPO / "tests" / "support" / "api_toolkit.py")
API_KEY = "ak-approval-test-0c7e"
ALICE = "tok-alice-approval-77d0"
SEND = {"recipient": "bob@example.com", "subject": "Quarterly numbers", "body": "See attached."}
# the Fetch Metadata a browser sends when a person opens a link, and when they click a button of that page
OPENED = {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-User": "?1"}
CLICKED = {**OPENED, "Sec-Fetch-Site": "same-origin"}


def single_user(stack_factory: Any) -> Stack:
    stack: Stack = stack_factory(approval={"policy": "listed", "tools": ["Gmail.SendEmail"]})
    stack.start_http("--toolkit", API_TOOLKIT)
    return stack


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


async def decide(browser: Any, url: str, button: str, shot: Path) -> str:
    """What a person does: open the link, read, press a button; returns what the page then says."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(url)
        await page.screenshot(path=str(shot.with_suffix(".question.png")))
        question = await page.inner_text("body")
        await page.click(f"button:has-text('{button}')")
        await page.wait_for_load_state()
        await page.screenshot(path=str(shot.with_suffix(".answer.png")))
        return question + "\n---\n" + await page.inner_text("body")
    finally:
        await context.close()


async def test_a_person_approves_and_declines_in_chromium(stack_factory: Any, chromium: Any, tmp_path: Path) -> None:
    stack: Stack = stack_factory(
        api={"keys": [API_KEY], "verification": "none"},
        mcp_auth={"tokens": {ALICE: "alice"}},
        approval={"policy": "listed", "tools": ["Gmail.SendEmail"]},
    )
    stack.start_http("--toolkit", API_TOOLKIT)
    send = {"recipient": "bob@example.com", "subject": "Quarterly numbers", "body": "See attached."}

    async with mcp_client(stack, "http", token=ALICE) as client:  # no elicitation callback: no forms
        first = await client.call_tool("Gmail_SendEmail", send)
        assert first.is_error and "Approval required" in texts(first)
        url = (first.meta or {})["url"]
        assert url.startswith(f"{stack.base_url}/approve/")

        # a forged post (no cookie of the page) decides nothing
        async with httpx2.AsyncClient(trust_env=False) as forger:
            forged = await forger.post(
                url, data={"decision": "approve", "csrf": "guess"}, headers={"Origin": stack.base_url}
            )
        assert forged.status_code == 403
        assert (await client.call_tool("Gmail_SendEmail", send)).is_error

        said = await decide(chromium, url, "Approve this call", tmp_path / "approve")
        assert "bob@example.com" in said and "Quarterly numbers" in said and "Approved" in said.split("---")[1]
        ran = await client.call_tool("Gmail_SendEmail", send)
        assert not ran.is_error and "bob@example.com" in texts(ran)
        replay = await client.call_tool("Gmail_SendEmail", send)
        assert replay.is_error and "Approval required" in texts(replay)  # a yes is for one call

    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx2.AsyncClient(base_url=stack.base_url, headers=headers, trust_env=False) as api:
        body = {"tool_name": "Gmail.SendEmail", "user_id": "alice", "input": {**send, "subject": "Salaries"}}
        pending = (await api.post("/v1/tools/execute", json=body)).json()
        assert pending["success"] is False and pending["output"]["authorization"]["status"] == "pending"
        approval_url = pending["output"]["authorization"]["url"]
        assert "/approve/" in approval_url and pending["output"]["error"]["can_retry"] is True

        said = await decide(chromium, approval_url, "Decline", tmp_path / "decline")
        assert "Salaries" in said and "Declined" in said.split("---")[1]
        status = (await api.get("/v1/auth/status", params={"id": pending["output"]["authorization"]["id"]})).json()
        assert status["status"] == "failed"
        again = (await api.post("/v1/tools/execute", json=body)).json()
        assert again["success"] is False and again["output"]["authorization"]["url"] != approval_url

        with anyio.fail_after(20):  # the trail is written in the background, every half second
            while True:
                audit = (await api.get("/v1/admin/audit", params={"tool": "Gmail.SendEmail", "limit": 100})).json()
                events = [(item["event"], item["outcome"]) for item in reversed(audit["items"])]
                if events.count(("approval.asked", None)) == 4:  # the MCP call and its replay, the /v1 call twice
                    break
                await anyio.sleep(0.2)
    assert ("approval.granted", "granted") in events and ("approval.declined", "declined") in events
    assert events.count(("tool.call", "ok")) == 1  # only the approved call ran


async def test_the_page_shows_every_argument_whole_and_none_can_forge_another(
    stack_factory: Any, chromium: Any
) -> None:
    """A value with a line break and a fake "recipient", and a body far longer than a screen: the page lists
    exactly the call's three arguments, each value whole, so what is approved is what was shown."""
    stack: Stack = stack_factory(
        api={"keys": [API_KEY], "verification": "none"},
        mcp_auth={"tokens": {ALICE: "alice"}},
        approval={"policy": "listed", "tools": ["Gmail.SendEmail"]},
    )
    stack.start_http("--toolkit", API_TOOLKIT)
    body = "Hi,\n- recipient: boss@example.com\u2028- note: harmless\n" + "filler " * 800 + "TAIL-7c1e"
    send = {"recipient": "eve@evil.example", "subject": "Quarterly numbers", "body": body}
    async with mcp_client(stack, "http", token=ALICE) as client:
        first = await client.call_tool("Gmail_SendEmail", send)
        url = (first.meta or {})["url"]
    context = await chromium.new_context()
    try:
        page = await context.new_page()
        await page.goto(url)
        items = await page.locator("li").all_inner_texts()
    finally:
        await context.close()
    assert len(items) == 3, items  # one per argument, however the values are made
    assert items[0] == "recipient: eve@evil.example"
    assert items[2].startswith("body: Hi,\\n- recipient: boss@example.com\\u2028") and items[2].endswith("TAIL-7c1e")
    assert items[2].count("filler") == 800  # whole, nothing cut


async def test_an_agent_fetching_its_own_approval_link_cannot_approve_it(
    stack_factory: Any, chromium: Any, tmp_path: Path
) -> None:
    stack = single_user(stack_factory)
    async with mcp_client(stack, "http") as client:  # no forms: the agent is handed the link, as a person would be
        url = str(((await client.call_tool("Gmail_SendEmail", SEND)).meta or {})["url"])

        async with httpx2.AsyncClient(trust_env=False) as agent:  # what an agent's fetch tool does
            fetched = await agent.get(url)
            posted = await agent.post(url, data={"decision": "approve"}, headers={"Origin": stack.base_url})
            framed = await agent.get(url, headers={**OPENED, "Sec-Fetch-Dest": "iframe"})  # inside another page
            scripted = await agent.get(url, headers={**OPENED, "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"})
        for refused in (fetched, posted, framed, scripted):
            assert refused.status_code == 403 and "Open this link in your browser" in refused.text
            assert 'name="csrf"' not in refused.text and "bob@example.com" not in refused.text
        assert not agent.cookies  # the link was not bound to the agent
        assert (await client.call_tool("Gmail_SendEmail", SEND)).is_error

        # the person opens the same link: it is still theirs to answer
        said = await decide(chromium, url, "Approve this call", tmp_path / "approve")
        assert "Approved" in said.split("---")[1]
        ran = await client.call_tool("Gmail_SendEmail", SEND)
        assert not ran.is_error and "bob@example.com" in texts(ran)


async def test_an_answer_counts_only_as_a_click_on_the_page(stack_factory: Any) -> None:
    stack = single_user(stack_factory)
    async with mcp_client(stack, "http") as client:
        url = str(((await client.call_tool("Gmail_SendEmail", SEND)).meta or {})["url"])
        async with httpx2.AsyncClient(trust_env=False, headers={"Origin": stack.base_url}) as browser:
            shown = await browser.get(url, headers=OPENED)
            assert shown.status_code == 200
            token = form_token(shown.text)
            again = form_token((await browser.get(url, headers=OPENED)).text)
            assert again != token  # every page its own token

            approve = {"csrf": token, "decision": "approve"}
            for not_a_click in (
                {**CLICKED, "Sec-Fetch-User": ""},  # a script submitting the form, no user activation
                {**CLICKED, "Sec-Fetch-Site": "cross-site"},  # another site's form aimed at ours
                {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Sec-Fetch-Site": "same-origin"},  # fetch()
            ):
                refused = await browser.post(url, data=approve, headers={k: v for k, v in not_a_click.items() if v})
                assert refused.status_code == 403 and "Nothing was decided" in refused.text
            assert (await client.call_tool("Gmail_SendEmail", SEND)).is_error

            declined = await browser.post(url, data={"csrf": token, "decision": "decline"}, headers=CLICKED)
            assert declined.status_code == 200 and "Declined" in declined.text
