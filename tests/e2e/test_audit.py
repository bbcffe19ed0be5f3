"""The audit trail over real processes: what a day of use leaves behind, read through the CLI and the API,
with no token, secret or argument value in it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult

from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, stored_tokens, texts

pytestmark = pytest.mark.anyio

API_TOOLKIT = str(REPO / "tests" / "support" / "api_toolkit.py")
API_KEY = "ak-audit-test-5f1d"
ALICE_TOKEN = "tok-alice-audit-91b2"
CANARY = "canary-body-value-d41c"


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", *args, "--config", str(stack.config_path)],
        capture_output=True,
        text=True,
        env=stack.env(),
        timeout=60,
    )


def audit_rows(stack: Stack, *filters: str) -> list[dict[str, Any]]:
    result = cli(stack, "audit", "--json", *filters)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


async def wait_for_event(stack: Stack, event: str, *filters: str) -> list[dict[str, Any]]:
    """The server writes its trail in the background, within a second or so."""
    with anyio.fail_after(20):
        while True:
            rows = audit_rows(stack, *filters)
            if any(row["event"] == event for row in rows):
                return rows
            await anyio.sleep(0.3)


async def test_a_day_of_use_is_told_by_the_trail_without_a_single_value(stack_factory: Any) -> None:
    stack: Stack = stack_factory(
        api={"keys": [API_KEY], "verification": "none"},
        mcp_auth={"tokens": {ALICE_TOKEN: "alice"}},
        connection_cache_seconds=0,
    )
    stack.start_http("--toolkit", API_TOOLKIT)

    async with mcp_client(stack, "http", token=ALICE_TOKEN) as client:
        first = await client.call_tool("Gmail_ListEmails", {"n_emails": 2})
        assert first.is_error and first.meta is not None
        await authorize_in_browser(stack.provider, first.meta["url"], "alice")
        assert not (await client.call_tool("Gmail_ListEmails", {"n_emails": 2})).is_error
        sent = await client.call_tool(
            "Gmail_SendEmail", {"recipient": "bob@example.com", "subject": "s", "body": CANARY}
        )
        assert not sent.is_error
        assert (await client.call_tool("Gmail_Fail", {"kind": "expected"})).is_error
        access, refresh = await stored_tokens(stack, "alice")
        stack.provider.expire_access_tokens("alice")  # the next call meets a 401, refreshes, retries
        assert not (await client.call_tool("Gmail_ListEmails", {"n_emails": 1})).is_error
        new_access, new_refresh = await stored_tokens(stack, "alice")
    assert new_access != access

    revoked = cli(stack, "connections", "revoke", "demo", "--user", "alice")
    assert revoked.returncode == 0, revoked.stderr
    rows = await wait_for_event(stack, "connection.refreshed", "--user", "alice")

    events = [row["event"] for row in reversed(rows)]  # oldest first
    for expected in ("authorization.started", "authorization.completed", "connection.refreshed", "connection.revoked"):
        assert expected in events, f"{expected} missing from {events}"
    calls = [row for row in rows if row["event"] == "tool.call"]
    outcomes = {(row["tool"], row["outcome"], row["error_kind"]) for row in calls}
    assert ("Gmail.SendEmail", "ok", None) in outcomes
    assert ("Gmail.Fail", "error", "ToolExecutionError") in outcomes
    assert ("Gmail.ListEmails", "ok", None) in outcomes
    assert ("Gmail.ListEmails", "authorization_required", None) in outcomes  # the first call, answered with a link
    revocation = next(row for row in rows if row["event"] == "connection.revoked")
    assert revocation["actor"] == "admin" and revocation["provider_id"] == "demo"
    completed = next(row for row in rows if row["event"] == "authorization.completed")
    assert completed["flow_ref"] and len(completed["flow_ref"]) < 12 and "profile" in completed["scopes"]
    ran = [row for row in calls if row["outcome"] != "authorization_required"]
    assert len(ran) == 4 and all(row["duration_ms"] is not None and row["args_digest"] for row in ran)

    # filters: by tool (either spelling) and by time
    assert {row["tool"] for row in audit_rows(stack, "--tool", "Gmail_SendEmail")} == {"Gmail.SendEmail"}
    assert audit_rows(stack, "--since", "2000-01-01", "--limit", "1")[0]["event"] == rows[0]["event"]
    table = cli(stack, "audit", "--user", "alice")
    assert table.returncode == 0 and "connection.revoked" in table.stdout and "admin" in table.stdout

    # the same through the API, paginated like the other admin endpoints
    async with httpx2.AsyncClient(base_url=stack.base_url, headers={"Authorization": f"Bearer {API_KEY}"}) as api:
        page = (await api.get("/v1/admin/audit", params={"user_id": "alice", "limit": 2})).json()
        assert page["total_count"] == len(rows) and page["page_count"] == 2 and page["limit"] == 2
        assert [item["event"] for item in page["items"]] == [row["event"] for row in rows[:2]]
        sends = (await api.get("/v1/admin/audit", params={"tool": "Gmail.SendEmail"})).json()
        assert sends["total_count"] == 1 and sends["items"][0]["args_digest"]
        refused = await api.get("/v1/admin/audit", params={"since": "last tuesday"})
        assert refused.status_code == 400 and "give a duration" in refused.json()["message"]
        huge = await api.get("/v1/admin/audit", params={"offset": str(10**30)})
        assert huge.status_code == 400
    async with httpx2.AsyncClient(base_url=stack.base_url) as stranger:
        assert (await stranger.get("/v1/admin/audit")).status_code == 401

    # no value anywhere in the trail: tokens, the argument, the API key
    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        dump = "\n".join(repr(row) for row in db.execute("select * from audit_events"))
    for value in (access, refresh, new_access, new_refresh, CANARY, API_KEY, ALICE_TOKEN):
        assert value and value not in dump


async def asked_rows(stack: Stack, how: str) -> list[dict[str, Any]]:
    """The trail's `approval.asked` rows asked `how`, once there is one (read with `authmcp audit` off the loop)."""
    with anyio.fail_after(20):
        while True:
            rows = await anyio.to_thread.run_sync(lambda: audit_rows(stack, "--tool", "Gmail.SendEmail"))
            asked = [row for row in rows if row["event"] == "approval.asked" and row["detail"] == f"asked {how}"]
            if asked:
                return asked
            await anyio.sleep(0.3)


async def test_an_approval_that_waits_for_the_person_is_in_the_trail_while_it_waits(stack_factory: Any) -> None:
    stack: Stack = stack_factory(approval={"policy": "listed", "tools": ["Gmail.SendEmail"], "wait_seconds": 60})
    stack.start_http("--toolkit", API_TOOLKIT)
    send = {"recipient": "bob@example.com", "subject": "s", "body": CANARY}

    # on a page: the link is handed out and nobody has opened it
    async with mcp_client(stack, "http") as client:  # no elicitation: asked on a page of ours
        linked = await client.call_tool("Gmail_SendEmail", send)
    assert linked.is_error and linked.meta is not None and "/approve/" in linked.meta["url"]
    (on_page,) = await asked_rows(stack, "on a page")
    assert on_page["user_id"] == "local-user" and on_page["outcome"] is None
    assert on_page["flow_ref"] == linked.meta["flow_id"][: len(on_page["flow_ref"])] != linked.meta["flow_id"]
    assert on_page["args_digest"] and CANARY not in json.dumps(on_page)

    # in the client (2025-11-25): the server waits on the form, and the trail has the question meanwhile
    seen_while_waiting: list[dict[str, Any]] = []

    async def answer_once_in_the_trail(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        seen_while_waiting.extend(await asked_rows(stack, "in the client"))
        return ElicitResult(action="decline")

    async with mcp_client(stack, "http", mode="legacy", elicitation_callback=answer_once_in_the_trail) as asking:
        declined = await asking.call_tool("Gmail_SendEmail", send)
    assert declined.is_error and "did not approve" in texts(declined)
    (in_client,) = seen_while_waiting
    assert in_client["user_id"] == "local-user" and in_client["args_digest"] == on_page["args_digest"]  # the same call
    assert (await wait_for_event(stack, "approval.declined"))[0]["event"] == "approval.declined"


def test_a_bad_since_is_one_line_and_exit_2(stack: Stack) -> None:
    result = cli(stack, "audit", "--since", "yesterday")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "give a duration such as 30m" in result.stderr
