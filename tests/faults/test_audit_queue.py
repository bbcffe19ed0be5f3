"""A full audit queue, filled for real: a `authmcp serve` with a small `[audit] queue_size` while another process
holds the database's write lock and tool calls keep coming. Tool-call rows may be dropped (counted), but an event
a webhook receiver waits for is not, and the drop itself reaches the trail and every receiver, with the count."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult
from standardwebhooks import Webhook

from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack
from tests.faults.conftest import database, rows, wait_until
from tests.support.receiver import Receiver
from tests.support.sqlite_lock import write_lock_held

pytestmark = pytest.mark.anyio

API_TOOLKIT = str(REPO / "tests" / "support" / "api_toolkit.py")
QUEUE_SIZE = 100  # the smallest the setting takes
SECRET = "whsec_" + base64.b64encode(b"audit-queue-webhook-signing-key!").decode()
METRICS_TOKEN = "metrics-token-audit-queue-7c1e"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


async def decline(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="decline")


async def dropped_so_far(stack: Stack) -> int:
    """`authmcp_audit_events_dropped`, as Prometheus scrapes it."""
    async with httpx2.AsyncClient(trust_env=False) as http:
        answer = await http.get(f"{stack.base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    match = re.search(r"^authmcp_audit_events_dropped (\S+)$", answer.text, re.MULTILINE)
    assert answer.status_code == 200 and match, answer.text[:500]
    return int(float(match[1]))


def webhooks_of(receiver: Receiver, kind: str) -> list[dict[str, Any]]:
    payloads = [Webhook(SECRET).verify(r.body, r.headers) for r in receiver.bodies("/hooks")]
    return [payload for payload in payloads if payload["type"] == kind]


async def test_a_full_audit_queue_keeps_what_webhooks_carry_and_says_how_many_it_dropped(
    stack_factory: Any, receiver: Receiver
) -> None:
    stack: Stack = stack_factory(
        audit={"queue_size": QUEUE_SIZE},
        approval={"policy": "listed", "tools": ["Gmail.SendEmail"], "wait_seconds": 5},
        webhooks={"urls": [f"{receiver.url}/hooks"], "secret": SECRET, "retry_seconds": 0.2},
        metrics={"token": METRICS_TOKEN},
    )
    stack.start_http("--toolkit", API_TOOLKIT)

    with write_lock_held(database(stack)):  # nothing can be written: events wait in the queue, then overflow it
        async with mcp_client(stack, "http", elicitation_callback=decline) as client:
            calls = 0
            while await dropped_so_far(stack) == 0:  # until the queue is full (a batch being written is out of it)
                assert calls < 20 * QUEUE_SIZE, "the audit queue never filled"
                for _ in range(50):
                    failed = await client.call_tool("Gmail_Fail", {"kind": "expected"})  # one tool.call row each
                    assert failed.is_error
                calls += 50
            # an event a receiver waits for, while the queue is full
            sent = await client.call_tool("Gmail_SendEmail", {"recipient": "bob@example.com", "subject": "s"})
            assert sent.is_error and "did not approve" in sent.content[0].text  # type: ignore[union-attr]

    # the lock is gone: the writer catches up (its back-off grew while it was locked out). The trail is written in
    # order, so once a call made now is in it, everything queued before is too; until the writer has caught up
    # such a call may itself be dropped, so another is made, a few a second (too few to fill the queue again)
    sentinel = "select 1 from audit_events where error_kind = 'UpstreamRateLimitError'"
    async with mcp_client(stack, "http") as client:
        with anyio.fail_after(60):
            while not rows(stack, sentinel):
                await client.call_tool("Gmail_Fail", {"kind": "rate_limit"})
                await anyio.sleep(0.2)
    markers = rows(stack, "select detail from audit_events where event = 'audit.dropped'")
    dropped = await dropped_so_far(stack)
    assert sum(int(detail) for (detail,) in markers) == dropped > 0  # the gap is in the trail, counted
    assert rows(stack, "select outcome from audit_events where event = 'approval.declined'") == [("declined",)]

    await wait_until(lambda: len(webhooks_of(receiver, "approval.decided")) == 1, timeout=30, what="the decision")
    (decision,) = webhooks_of(receiver, "approval.decided")
    assert decision["data"]["decision"] == "declined" and decision["data"]["tool"] == "Gmail.SendEmail"
    await wait_until(
        lambda: sum(int(p["data"]["detail"]) for p in webhooks_of(receiver, "audit.dropped")) == dropped,
        timeout=30,
        what="the drop's webhooks",
    )
    assert all(p["data"]["actor"] == "system" for p in webhooks_of(receiver, "audit.dropped"))
    assert "queue full" in stack.output()  # and the log says so
    assert b"bob@example.com" not in b"".join(r.body for r in receiver.bodies())  # names, never argument values
