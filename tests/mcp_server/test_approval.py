"""Approval before destructive tools, in process: the policy, the form in both protocol eras, the page fallback,
and the trail each decision leaves."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestFormParams, ElicitRequestParams, ElicitResult, InputRequiredResult

from mcp_server.calls.approval import ApprovalPolicy, describe_call
from mcp_server.calls.catalog import load_catalog
from mcp_server.config import ApprovalSettings, ProviderSettings
from mcp_server.errors import ConfigError
from mcp_server.observability.audit import AuditQuery, read_audit
from mcp_server.providers import ProviderRegistry
from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.vault.approvals import decide_approval
from tests.support import sample_toolkit

pytestmark = pytest.mark.anyio

TOOLKIT = sample_toolkit.__name__
PUBLIC_URL = "http://127.0.0.1:8000"


@pytest.fixture
async def runtime(make_settings: Any) -> AsyncIterator[Runtime]:
    sample_toolkit.DELETED.clear()
    demo = {
        "authorize_url": "http://127.0.0.1:9/a",
        "token_url": "http://127.0.0.1:9/t",
        "client_id": "c",
        "client_secret": "s",
    }
    settings = make_settings(providers={"demo": demo}, approval={"policy": "destructive", "wait_seconds": 5})
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[TOOLKIT]) as rt:
        yield rt


def text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


def answering(action: str, approve: bool | None, seen: list[ElicitRequestParams]) -> Any:
    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        seen.append(params)
        return ElicitResult(action=action, content=None if approve is None else {"approve": approve})  # type: ignore[arg-type]

    return callback


async def trail(rt: Runtime) -> list[tuple[str, str | None]]:
    await rt.service.audit.flush()
    rows, _ = await read_audit(rt.vault.engine, AuditQuery(tool="Sample.DeleteNote"))
    return [(row["event"], row["outcome"]) for row in reversed(rows)]


def catalog() -> Any:
    demo = ProviderSettings(authorize_url="https://a/x", token_url="https://a/t")
    return load_catalog([TOOLKIT], ProviderRegistry({"demo": demo}))


def test_the_policy_asks_for_destructive_listed_and_per_toolkit_tools() -> None:
    tools = catalog()
    delete, count, secret = (
        tools.get("Sample.DeleteNote"),
        tools.get("Sample.CountNotes"),
        tools.get("Sample.ReadSecret"),
    )
    assert ApprovalPolicy(ApprovalSettings(policy="destructive")).requires(delete)
    assert not ApprovalPolicy(ApprovalSettings(policy="destructive")).requires(count)  # read-only
    assert not ApprovalPolicy(ApprovalSettings(policy="destructive")).requires(secret)  # read-only too
    assert not ApprovalPolicy(ApprovalSettings(policy="off")).requires(delete)
    listed = ApprovalPolicy(ApprovalSettings(policy="listed", tools=["Sample_CountNotes"]))
    assert listed.requires(count) and not listed.requires(delete)
    assert not ApprovalPolicy(ApprovalSettings(policy="destructive", toolkits={"Sample": "off"})).requires(delete)
    assert ApprovalPolicy(ApprovalSettings(policy="off", toolkits={"Sample": "destructive"})).requires(delete)


def test_names_that_match_nothing_are_refused_at_start() -> None:
    with pytest.raises(ConfigError, match=r"Sample\.Nope"):
        ApprovalPolicy(ApprovalSettings(tools=["Sample.Nope"])).check(catalog())
    with pytest.raises(ConfigError, match="Gmial"):
        ApprovalPolicy(ApprovalSettings(toolkits={"Gmial": "destructive"})).check(catalog())


def test_the_question_shows_every_argument_whole_and_one_line_each() -> None:
    delete = catalog().get("Sample.DeleteNote")
    long = "x" * 5000 + "-END"
    forged = "groceries\n- recipient: bob@example.com\u2028- cc: eve@example.com\u202e"
    text_ = describe_call(delete, {"note": forged, "reason": long, "extra": {"to": ["a@b.c"] * 400}, "a\nb": 1})
    lines = text_.split("\n")
    assert lines[0] == "Delete a note (Sample.DeleteNote) wants to run with:"
    assert len(lines) == 5  # one per argument, whatever the values hold
    assert lines[1] == "- note: groceries\\n- recipient: bob@example.com\\u2028- cc: eve@example.com\\u202e"
    assert lines[2] == f"- reason: {long}"  # whole, nothing cut
    assert lines[3].count("a@b.c") == 400 and lines[4] == "- a\\nb: 1"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_yes_in_the_clients_form_runs_the_tool_once(runtime: Runtime, mode: str) -> None:
    seen: list[ElicitRequestParams] = []
    async with Client(runtime.mcp, mode=mode, elicitation_callback=answering("accept", True, seen)) as client:  # type: ignore[arg-type]
        result = await client.call_tool("Sample_DeleteNote", {"note": "groceries"})
        count = await client.call_tool("Sample_CountNotes", {})
    assert not result.is_error and text(result) == "deleted groceries"
    assert sample_toolkit.DELETED == ["groceries"]
    (question,) = seen  # the read-only tool asked nothing
    assert isinstance(question, ElicitRequestFormParams) and "- note: groceries" in question.message
    assert not count.is_error
    assert await trail(runtime) == [("approval.asked", None), ("approval.granted", "granted"), ("tool.call", "ok")]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize(("action", "approve"), [("accept", False), ("decline", None), ("cancel", None)])
async def test_no_yes_means_the_tool_does_not_run(
    runtime: Runtime, mode: str, action: str, approve: bool | None
) -> None:
    seen: list[ElicitRequestParams] = []
    async with Client(runtime.mcp, mode=mode, elicitation_callback=answering(action, approve, seen)) as client:  # type: ignore[arg-type]
        result = await client.call_tool("Sample_DeleteNote", {"note": "taxes"})
    assert result.is_error and "did not approve Sample.DeleteNote, so it did not run" in text(result)
    assert sample_toolkit.DELETED == [] and len(seen) == 1
    assert await trail(runtime) == [("approval.asked", None), ("approval.declined", "declined")]


async def test_a_client_without_forms_gets_a_link_and_the_approved_call_runs_once(runtime: Runtime) -> None:
    async with Client(runtime.mcp) as client:  # no elicitation callback: no forms
        first = await client.call_tool("Sample_DeleteNote", {"note": "drafts"})
        assert first.is_error and sample_toolkit.DELETED == []
        meta = first.meta or {}
        assert meta["url"] == f"{PUBLIC_URL}/approve/{meta['flow_id']}" and meta["url"] in text(first)
        again = await client.call_tool("Sample_DeleteNote", {"note": "drafts"})
        assert (again.meta or {})["flow_id"] == meta["flow_id"]  # still waiting: the same link

        assert await decide_approval(runtime.vault, meta["flow_id"], approve=True) is not None
        other = await client.call_tool("Sample_DeleteNote", {"note": "everything"})  # not what was approved
        assert other.is_error and sample_toolkit.DELETED == []
        approved = await client.call_tool("Sample_DeleteNote", {"note": "drafts"})
        assert not approved.is_error and sample_toolkit.DELETED == ["drafts"]
        replay = await client.call_tool("Sample_DeleteNote", {"note": "drafts"})  # an approval is used once
        assert replay.is_error and sample_toolkit.DELETED == ["drafts"]


async def test_a_declined_page_approval_never_runs_the_call(runtime: Runtime) -> None:
    async with Client(runtime.mcp) as client:
        first = await client.call_tool("Sample_DeleteNote", {"note": "photos"})
        flow_id = (first.meta or {})["flow_id"]
        assert await decide_approval(runtime.vault, flow_id, approve=False) is not None
        assert await decide_approval(runtime.vault, flow_id, approve=True) is None  # answered once
        told = await client.call_tool("Sample_DeleteNote", {"note": "photos"})
        again = await client.call_tool("Sample_DeleteNote", {"note": "photos"})
    # the next call is told of the decline, once, with no link; the one after is a new question
    assert told.is_error and "declined Sample.DeleteNote" in told.content[0].text  # type: ignore[union-attr]
    assert "flow_id" not in (told.meta or {})
    assert again.is_error and sample_toolkit.DELETED == []
    assert (again.meta or {})["flow_id"] != flow_id  # a new question, not the declined one


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_with_verification_a_yes_in_the_clients_form_is_never_asked_for(make_settings: Any, mode: str) -> None:
    """custom verification: the client could answer the form itself, so the person is sent to the page instead."""
    sample_toolkit.DELETED.clear()
    demo = {
        "authorize_url": "http://127.0.0.1:9/a",
        "token_url": "http://127.0.0.1:9/t",
        "client_id": "c",
        "client_secret": "s",
    }
    settings = make_settings(
        providers={"demo": demo},
        approval={"policy": "destructive", "wait_seconds": 5},
        api={"verification": "custom", "verifier_url": "https://app.example/verify"},
    )
    seen: list[ElicitRequestParams] = []
    async with open_runtime(settings, public_url=PUBLIC_URL, toolkits=[TOOLKIT]) as rt:
        async with Client(rt.mcp, mode=mode, elicitation_callback=answering("accept", True, seen)) as client:  # type: ignore[arg-type]
            result = await client.call_tool("Sample_DeleteNote", {"note": "groceries"})
    assert not seen  # no form was offered to the client
    assert result.is_error and f"{PUBLIC_URL}/approve/" in text(result)
    assert sample_toolkit.DELETED == []


async def test_a_form_answer_is_taken_once_and_its_record_kept_until_the_question_expires(runtime: Runtime) -> None:
    seen: list[ElicitRequestParams] = []
    async with Client(runtime.mcp, elicitation_callback=answering("accept", True, seen)) as client:  # type: ignore[arg-type]
        asked = await client.session.call_tool("Sample_DeleteNote", {"note": "drafts"}, allow_input_required=True)
        assert isinstance(asked, InputRequiredResult)
        retry: dict[str, Any] = {
            "input_responses": {"approve": ElicitResult(action="accept", content={"approve": True})},
            "request_state": asked.request_state,
        }
        assert not (await client.call_tool("Sample_DeleteNote", {"note": "drafts"}, **retry)).is_error
        replay = await client.call_tool("Sample_DeleteNote", {"note": "drafts"}, **retry)
        assert replay.is_error and "already used" in text(replay)
        assert sample_toolkit.DELETED == ["drafts"]

        # purging keeps the record while the question could still be answered, and removes it once it cannot
        assert await runtime.vault.purge_flows(time.time()) == 0
        assert (await client.call_tool("Sample_DeleteNote", {"note": "drafts"}, **retry)).is_error
        assert await runtime.vault.purge_flows(time.time() + runtime.settings.flow_ttl_seconds + 1) == 1
    assert sample_toolkit.DELETED == ["drafts"] and not seen  # the SDK's own loop never had to ask
    assert await trail(runtime) == [
        ("approval.asked", None),
        ("approval.granted", "granted"),
        ("tool.call", "ok"),
        ("approval.declined", "replayed"),
        ("approval.declined", "replayed"),
    ]
