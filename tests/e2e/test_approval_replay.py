"""A 2026-07-28 client's answer to the approval form is used once: two `authmcp serve` replicas on one database
(SQLite file, and PostgreSQL where configured), the SDK's own client, and a stand-in upstream that counts how often
the destructive tool really ran.

The adversary holds a retry that once ran the tool (same arguments, same sealed `requestState`, same "yes") and
sends it again, to the same replica or another, or twice at once: the seal still verifies, so only the vault can
tell it was used.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestFormParams, ElicitRequestParams, ElicitResult, InputRequiredResult

from mcp_server.vault import generate_key
from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, texts
from tests.support.postgres import postgres_url  # noqa: F401 - a fixture
from tests.support.receiver import Receiver

pytestmark = pytest.mark.anyio

OUTBOX_TOOLKIT = str(REPO / "tests" / "support" / "outbox_toolkit.py")
ALICE = "tok-alice-replay-4b1d"
SEND = {"recipient": "bob@example.com", "body": "wire the money"}


@pytest.fixture
def outbox() -> Any:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None: the default SQLite file in the shared data_dir; else a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


async def say_yes(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    assert isinstance(params, ElicitRequestFormParams)
    return ElicitResult(action="accept", content={"approve": True})


def two_replicas(stack_factory: Any, outbox: Receiver, database_url: str | None) -> tuple[Stack, Stack]:
    # replicas on PostgreSQL create the schema only when told to
    database = {"database_url": database_url, "migrate_on_start": True} if database_url else {}
    stack: Stack = stack_factory(
        replicas=1,
        encryption_keys=generate_key(),
        request_state_keys=generate_key(),  # either replica opens what the other sealed
        mcp_auth={"tokens": {ALICE: "alice"}},
        api={"verification": "none"},  # the only mode where the client's form may carry the yes
        approval={"policy": "destructive"},
        toolkit_settings={"outbox": {"url": outbox.url}},
        **database,
    )
    a, b = stack, stack.replica(0)
    a.start_http("--toolkit", OUTBOX_TOOLKIT)
    b.start_http("--toolkit", OUTBOX_TOOLKIT)
    return a, b


async def asked_and_answered(client: Any) -> dict[str, Any]:
    """Ask the question (the SDK's own loop left aside) and build the retry that answers it with a yes."""
    asked = await client.session.call_tool("Outbox_Send", SEND, allow_input_required=True)
    assert isinstance(asked, InputRequiredResult) and asked.request_state
    ((key, question),) = asked.input_requests.items()
    assert isinstance(question.params, ElicitRequestFormParams)
    assert "- recipient: bob@example.com" in question.params.message
    return {
        "input_responses": {key: ElicitResult(action="accept", content={"approve": True})},
        "request_state": asked.request_state,
    }


async def test_the_same_approved_retry_sent_again_runs_nothing(
    stack_factory: Any, outbox: Receiver, database_url: str | None
) -> None:
    a, b = two_replicas(stack_factory, outbox, database_url)
    async with mcp_client(a, "http", token=ALICE, elicitation_callback=say_yes) as on_a:
        retry = await asked_and_answered(on_a)
        ran = await on_a.call_tool("Outbox_Send", SEND, **retry)  # the person said yes once
        assert not ran.is_error, texts(ran)
        assert len(outbox.received) == 1

        replay = await on_a.call_tool("Outbox_Send", SEND, **retry)
        assert replay.is_error
        assert "already used" in texts(replay) and "call the tool again" in texts(replay)

    async with mcp_client(b, "http", token=ALICE, elicitation_callback=say_yes) as on_b:
        elsewhere = await on_b.call_tool("Outbox_Send", SEND, **retry)
        assert elsewhere.is_error and "already used" in texts(elsewhere)
        assert len(outbox.received) == 1  # the tool ran once

        again = await on_b.call_tool("Outbox_Send", SEND)  # called again: asked again, a new yes runs it
        assert not again.is_error, texts(again)
    assert len(outbox.received) == 2


async def test_two_copies_of_the_approved_retry_at_once_on_two_replicas_run_the_tool_once(
    stack_factory: Any, outbox: Receiver, database_url: str | None
) -> None:
    a, b = two_replicas(stack_factory, outbox, database_url)
    results: list[Any] = []
    async with (
        mcp_client(a, "http", token=ALICE, elicitation_callback=say_yes) as on_a,
        mcp_client(b, "http", token=ALICE, elicitation_callback=say_yes) as on_b,
    ):
        retry = await asked_and_answered(on_a)

        async def send(client: Any) -> None:
            results.append(await client.call_tool("Outbox_Send", SEND, **retry))

        async with anyio.create_task_group() as tg:
            tg.start_soon(send, on_a)
            tg.start_soon(send, on_b)
    assert sorted(r.is_error for r in results) == [False, True], [texts(r) for r in results]
    assert len(outbox.received) == 1
