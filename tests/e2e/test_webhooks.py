"""Webhooks over real processes: a receiver that is down while things happen (and while authmcp restarts) gets
every event once it is back, each signed as Standard Webhooks (verified with the `standardwebhooks` library),
each attempt visible in `authmcp audit`, no token, secret or argument value in any body."""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult
from standardwebhooks import Webhook

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, free_port, stored_tokens
from tests.e2e.test_audit import API_TOOLKIT, audit_rows, cli, wait_for_event
from tests.support.receiver import Receiver

pytestmark = pytest.mark.anyio

ALICE_TOKEN = "tok-alice-hooks-0e4f"
CANARY = "canary-webhook-value-3a9b"
SECRET = "whsec_" + base64.b64encode(b"webhook-signing-key-for-tests-32b").decode()
RECEIVER_KEY = "receiver-path-key-6d2c"  # a receiver's own secret in its URL: never in a log or the trail
EXPECTED = {
    "authorization.completed",
    "approval.decided",
    "connection.needs_reauth",
    "authorization.failed",
    "connection.revoked",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    down = Receiver(port=free_port())  # not started: the receiver is down
    yield down
    down.stop()


async def decline(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="decline")


async def deliveries(receiver: Receiver, kinds: set[str]) -> list[Any]:
    with anyio.fail_after(60):  # the back-off grew while the receiver was down
        while True:
            received = receiver.bodies(f"/hooks/{RECEIVER_KEY}")
            if kinds <= {json.loads(r.body)["type"] for r in received}:
                return received
            await anyio.sleep(0.3)


async def test_a_receiver_down_for_a_while_gets_every_event_signed(stack_factory: Any, receiver: Receiver) -> None:
    stack: Stack = stack_factory(
        mcp_auth={"tokens": {ALICE_TOKEN: "alice"}},
        connection_cache_seconds=0,
        api={"verification": "none"},  # user verification is tested in test_consent.py
        approval={"policy": "listed", "tools": ["Gmail.SendEmail"], "wait_seconds": 5},
        webhooks={"urls": [f"{receiver.url}/hooks/{RECEIVER_KEY}"], "secret": SECRET, "retry_seconds": 0.2},
    )
    stack.start_http("--toolkit", API_TOOLKIT)

    async with mcp_client(stack, "http", token=ALICE_TOKEN, elicitation_callback=decline) as asking:
        sent = await asking.call_tool(
            "Gmail_SendEmail", {"recipient": "bob@example.com", "subject": "s", "body": CANARY}
        )
        assert sent.is_error  # approval.decided: declined
    async with mcp_client(stack, "http", token=ALICE_TOKEN) as client:
        first = await client.call_tool("Gmail_ListEmails", {"n_emails": 2})
        assert first.is_error and first.meta is not None
        await authorize_in_browser(stack.provider, first.meta["url"], "alice")  # authorization.completed
        access, refresh = await stored_tokens(stack, "alice")
        stack.provider.revoke_user("alice")  # the next refresh meets invalid_grant: connection.needs_reauth
        stack.provider.expire_access_tokens("alice")
        again = await client.call_tool("Gmail_ListEmails", {"n_emails": 1})
        assert again.is_error and again.meta is not None
        async with httpx2.AsyncClient(timeout=15, trust_env=False) as browser:  # the user says no: authorization.failed
            await browser.get(await stack.provider.aconsent(browser, again.meta["url"], "alice", allow=False))
    assert cli(stack, "connections", "revoke", "demo", "--user", "alice").returncode == 0  # connection.revoked

    rows = await wait_for_event(stack, "webhook.delivery")
    assert any(row["outcome"] == "retry" and row["error_kind"] for row in rows if row["event"] == "webhook.delivery")

    # a restart while the receiver is still down: the outbox keeps what is owed
    stack.stop()
    stack.start_http("--toolkit", API_TOOLKIT)
    receiver.start()
    received = await deliveries(receiver, EXPECTED)

    webhook = Webhook(SECRET)
    bodies = {}
    for delivery in received:
        payload = webhook.verify(delivery.body, delivery.headers)  # raises on a bad signature or timestamp
        assert delivery.headers["content-type"] == "application/json"
        bodies[delivery.headers["webhook-id"]] = payload
    assert len(bodies) == len(received), "an event was delivered twice"
    by_type = {payload["type"]: payload for payload in bodies.values()}
    assert set(by_type) == EXPECTED and len(bodies) == len(EXPECTED)
    assert by_type["approval.decided"]["data"]["decision"] == "declined"
    assert by_type["approval.decided"]["data"]["tool"] == "Gmail.SendEmail"
    assert by_type["connection.revoked"]["data"] == {
        "user_id": "alice",
        "provider_id": "demo",
        "outcome": "ok",
        "actor": "admin",
    }
    assert by_type["connection.needs_reauth"]["data"]["provider_id"] == "demo"
    assert by_type["authorization.completed"]["data"]["user_id"] == "alice"
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook("whsec_" + base64.b64encode(b"another-key-entirely-of-32-bytes").decode()).verify(
            received[0].body, received[0].headers
        )

    raw = b"".join(r.body for r in received).decode()
    for value in (access, refresh, CANARY, ALICE_TOKEN, SECRET, first.meta["flow_id"], "bob@example.com"):
        assert value not in raw

    # every attempt is in the trail, the successful ones too; the receiver's URL secret is nowhere
    attempts = [row for row in audit_rows(stack, "--limit", "500") if row["event"] == "webhook.delivery"]
    assert sum(row["outcome"] == "ok" for row in attempts) == len(EXPECTED)
    assert all(f"127.0.0.1:{receiver.port}" in row["detail"] for row in attempts)
    assert RECEIVER_KEY not in json.dumps(attempts) and RECEIVER_KEY not in stack.output()


def outbox(stack: Stack) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db")) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("select * from webhook_outbox order by id")]


async def outbox_until(stack: Stack, condition: Any) -> list[dict[str, Any]]:
    with anyio.fail_after(30):
        while not condition(rows := outbox(stack)):
            await anyio.sleep(0.1)
    return rows


async def connect_local_user(stack: Stack) -> None:  # authorization.completed
    async with mcp_client(stack, "http") as client:
        await authorize_in_browser(stack.provider, (await client.call_tool("Demo_WhoAmI", {})).meta["url"], "alice")


async def test_a_receiver_that_refused_and_recovers_gets_what_waited_at_once(stack_factory: Any) -> None:
    """The first back-off is an hour here: what waited goes out promptly only because the receiver's recovery
    (a delivery that got through) made it due again, from the first step."""
    receiver = Receiver().start()
    try:
        stack: Stack = stack_factory(
            connection_cache_seconds=0,
            webhooks={"urls": [f"{receiver.url}/hook"], "secret": SECRET, "retry_seconds": 3600},
        )
        stack.start_http()
        receiver.failing = 503  # up, but refusing everything
        await connect_local_user(stack)
        assert cli(stack, "connections", "revoke", "demo").returncode == 0  # connection.revoked
        refused = await outbox_until(stack, lambda rows: len(rows) == 2 and all(r["failures"] == 1 for r in rows))
        assert [(r["event"], r["status"], r["attempts"], r["last_error"]) for r in refused] == [
            ("authorization.completed", "pending", 1, "HTTP 503"),
            ("connection.revoked", "pending", 1, "HTTP 503"),
        ]
        assert [r["next_attempt_at"] - r["updated_at"] for r in refused] == pytest.approx([3600, 3600])  # an hour
        assert receiver.refused == 2 and receiver.bodies() == []

        receiver.failing = None  # it recovers; the next event gets through, and so does what waited for it
        await connect_local_user(stack)
        # the sender records an attempt in the trail once it has settled its rows (the reset included)
        with anyio.fail_after(30):
            while not [
                row for row in audit_rows(stack) if row["event"] == "webhook.delivery" and row["outcome"] == "ok"
            ]:
                await anyio.sleep(0.2)
        *waited, through = outbox(stack)
        assert through["event"] == "authorization.completed" and through["status"] == "delivered"
        for row in waited:  # due again since then, from the first step: not an hour on
            assert row["status"] == "delivered" or (
                row["failures"] == 0 and row["next_attempt_at"] <= through["updated_at"]
            ), row
        delivered = await outbox_until(
            stack, lambda rows: len(rows) == 3 and all(r["status"] == "delivered" for r in rows)
        )
        assert [(r["event"], r["attempts"], r["failures"], r["last_error"]) for r in delivered] == [
            ("authorization.completed", 2, 0, None),
            ("connection.revoked", 2, 0, None),
            ("authorization.completed", 1, 0, None),
        ]
        kinds = sorted(json.loads(r.body)["type"] for r in receiver.bodies("/hook"))
        assert kinds == ["authorization.completed", "authorization.completed", "connection.revoked"]  # each once
    finally:
        receiver.stop()


def test_a_bad_webhook_secret_is_one_clear_line(stack: Stack) -> None:
    stack.settings["webhooks"] = {"urls": ["http://127.0.0.1:9/hook"], "secret": "not-a-whsec"}
    result = cli(stack, "audit")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "whsec_" in result.stderr and "not-a-whsec" not in result.stderr
