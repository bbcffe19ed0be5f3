"""Pages while the database cannot be written: a person approving a call in Chromium while another process holds
SQLite's write lock past the busy timeout is told to send the form again, not shown an internal error; nothing
is decided meanwhile, and the same button works once the lock is gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, texts
from tests.faults.conftest import rows, wait_until, write_lock_held

pytestmark = pytest.mark.anyio

API_TOOLKIT = str(REPO / "tests" / "support" / "api_toolkit.py")
ALICE = "tok-alice-outage-51c2"
SEND = {"recipient": "bob@example.com", "subject": "Budget", "body": "Draft attached."}


async def test_approving_while_the_database_is_locked_says_to_send_again(
    stack_factory: Any, chromium: Any, tmp_path: Path
) -> None:
    stack: Stack = stack_factory(
        api={"verification": "none"},
        mcp_auth={"tokens": {ALICE: "alice"}},
        approval={"policy": "listed", "tools": ["Gmail.SendEmail"]},
    )
    stack.start_http("--toolkit", API_TOOLKIT)
    async with mcp_client(stack, "http", token=ALICE) as client:  # no forms: the approval goes by the page
        asked = await client.call_tool("Gmail_SendEmail", SEND)
        assert asked.is_error and "Approval required" in texts(asked)
        url = (asked.meta or {})["url"]

        context = await chromium.new_context()
        page = await context.new_page()
        await page.goto(url)  # opening binds the link to this browser (a write, before the lock)
        assert "Budget" in await page.inner_text("body")

        async with write_lock_held(stack):
            await page.click("button:has-text('Approve this call')")
            await page.wait_for_load_state()
            await page.screenshot(path=str(tmp_path / "busy.png"))
            busy = await page.inner_text("body")
        assert "Try again in a moment" in busy and "send the form again" in busy
        assert "Traceback" not in busy and "Internal Server Error" not in busy

        flow_id = url.rsplit("/", 1)[1]
        assert rows(stack, "select status from flows where id = ?", flow_id) == [("pending",)]  # nothing decided
        await page.go_back()
        await page.click("button:has-text('Approve this call')")
        await page.wait_for_load_state()
        assert "Approved" in await page.inner_text("body")
        await context.close()

        ran = await client.call_tool("Gmail_SendEmail", SEND)
        assert not ran.is_error and "bob@example.com" in texts(ran)
    output = stack.output()
    assert "Traceback" not in output and "approve page:" in output
    assert flow_id not in output  # the link's id is not logged whole
    await wait_until(
        lambda: rows(stack, "select count(*) from audit_events where event = 'approval.granted'") == [(1,)]
    )
