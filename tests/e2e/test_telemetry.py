"""OpenTelemetry over real processes: an in-test OTLP/HTTP receiver decodes what authmcp exports. Spans nest under
the caller's `traceparent` (HTTP header or `_meta`), cover the gate, identity, connections, refresh, flow steps,
callback, provider requests and the tool run, and hold no token, code, state, flow id or argument value."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, stored_tokens
from tests.e2e.test_audit import API_TOOLKIT, audit_rows
from tests.support.receiver import Receiver, otlp_spans

pytestmark = pytest.mark.anyio

ALICE_TOKEN = "tok-alice-otel-7c3e"
CANARY = "canary-span-value-5e0a"


@pytest.fixture
def collector() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def otel_env(stack: Stack, collector: Receiver) -> dict[str, str]:
    return stack.env(
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url, OTEL_SERVICE_NAME="authmcp-under-test", OTEL_BSP_SCHEDULE_DELAY="100"
    )


async def spans_until(collector: Receiver, *names: str, gates: int) -> list[dict[str, Any]]:
    """The spans exported so far, once every name is among them and `gates` tool calls were traced."""
    with anyio.fail_after(20):
        while True:
            spans = otlp_spans(collector)
            seen = [span["name"] for span in spans]
            if set(names) <= set(seen) and seen.count("authmcp.gate") >= gates:
                return spans
            await anyio.sleep(0.2)


def ancestors(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[str]:
    chain = []
    parent = span["parent_id"]
    while parent is not None:
        chain.append(parent)
        parent = by_id[parent]["parent_id"] if parent in by_id else None
    return chain


async def test_spans_nest_under_the_callers_trace_and_hold_no_value(stack_factory: Any, collector: Receiver) -> None:
    stack: Stack = stack_factory(
        mcp_auth={"tokens": {ALICE_TOKEN: "alice"}},
        connection_cache_seconds=0,
        api={"verification": "none"},  # user verification is tested in test_consent.py
    )
    stack.start_http("--toolkit", API_TOOLKIT, env=otel_env(stack, collector))
    trace, parent = secrets.token_hex(16), secrets.token_hex(8)
    meta_trace, meta_parent = secrets.token_hex(16), secrets.token_hex(8)

    headers = {"traceparent": f"00-{trace}-{parent}-01"}
    async with mcp_client(stack, "http", token=ALICE_TOKEN, headers=headers) as client:
        first = await client.call_tool("Gmail_ListEmails", {"n_emails": 2})
        assert first.is_error and first.meta is not None
        flow_id = first.meta["flow_id"]
        await authorize_in_browser(stack.provider, first.meta["url"], "alice")
        sent = await client.call_tool(
            "Gmail_SendEmail", {"recipient": "bob@example.com", "subject": "s", "body": CANARY}
        )
        assert not sent.is_error
        access, refresh = await stored_tokens(stack, "alice")
        stack.provider.expire_access_tokens("alice")  # a 401, a refresh, a retry
        assert not (await client.call_tool("Gmail_ListEmails", {"n_emails": 1})).is_error
        new_access, new_refresh = await stored_tokens(stack, "alice")
        in_meta = {"traceparent": f"00-{meta_trace}-{meta_parent}-01"}
        assert not (await client.call_tool("Gmail_ListEmails", {"n_emails": 1}, meta=in_meta)).is_error  # type: ignore[arg-type]

    spans = await spans_until(
        collector,
        "authmcp.gate",
        "authmcp.identity",
        "authmcp.connection.lookup",
        "authmcp.connection.refresh",
        "authmcp.flow.start",
        "authmcp.flow.redirect",
        "authmcp.flow.callback",
        "authmcp.provider.token",
        "authmcp.provider.userinfo",
        "authmcp.provider.refresh",
        "authmcp.tool.run",
        "GET /oauth/callback",
        gates=4,
    )
    assert {span["service"] for span in spans} == {"authmcp-under-test"}
    by_id = {span["span_id"]: span for span in spans}

    # every tool call's gate span belongs to the caller's trace, under the caller's span
    gates = [span for span in spans if span["name"] == "authmcp.gate"]
    assert len(gates) == 4
    header_gates = [g for g in gates if g["trace_id"] == trace]
    assert len(header_gates) == 3 and all(parent in ancestors(g, by_id) for g in header_gates)
    meta_gate = next(g for g in gates if g["trace_id"] == meta_trace)
    assert meta_parent in ancestors(meta_gate, by_id)
    sends = [g for g in header_gates if g["attributes"].get("authmcp.tool") == "Gmail_SendEmail"]
    assert len(sends) == 1
    runs = [s for s in spans if s["name"] == "authmcp.tool.run" and sends[0]["span_id"] in ancestors(s, by_id)]
    assert runs and runs[0]["attributes"]["authmcp.tool"] == "Gmail.SendEmail"

    # the refresh after the 401 happened inside the tool run of that call, and asked the provider
    refresh_span = next(s for s in spans if s["name"] == "authmcp.connection.refresh")
    assert refresh_span["trace_id"] == trace and refresh_span["attributes"]["authmcp.provider"] == "demo"
    provider_refresh = next(s for s in spans if s["name"] == "authmcp.provider.refresh")
    assert refresh_span["span_id"] in ancestors(provider_refresh, by_id)

    # the callback is a server span of its own, named by its route, with the flow's steps under it
    callback = next(s for s in spans if s["name"] == "GET /oauth/callback")
    assert callback["attributes"]["http.route"] == "/oauth/callback"
    assert callback["attributes"]["http.response.status_code"] == 303
    steps = [s for s in spans if s["name"] == "authmcp.flow.callback"]
    assert steps and callback["span_id"] in ancestors(steps[0], by_id)
    assert {s["attributes"].get("http.route") for s in spans if s["name"].startswith("GET /connect")} == {
        "/connect/{flow_id}",
        "/connect/{flow_id}/done",
    }

    # the audit trail carries the trace id of each call
    calls = [row for row in audit_rows(stack, "--user", "alice") if row["event"] == "tool.call"]
    assert {row["trace_id"] for row in calls} == {trace, meta_trace}

    raw = b"".join(r.body for r in collector.bodies())
    for value in (access, refresh, new_access, new_refresh, CANARY, ALICE_TOKEN, flow_id, "bob@example.com"):
        assert value and value.encode() not in raw, "a value reached the spans"
    assert b"code=" not in raw and b"state=" not in raw
