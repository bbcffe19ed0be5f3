"""Prometheus metrics over a real process: counters move as calls, authorizations, refreshes and revocations
happen; the text holds no value; `/metrics` is behind its token; not configured, there is no endpoint."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, free_port, stored_tokens
from tests.e2e.test_audit import API_TOOLKIT, cli

pytestmark = pytest.mark.anyio

ALICE_TOKEN = "tok-alice-metrics-2b8d"
METRICS_TOKEN = "metrics-token-a91f3c"
CANARY = "canary-metric-value-77e1"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when it is not there yet)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


async def test_counters_move_as_things_happen_and_hold_no_value(stack_factory: Any) -> None:
    port = free_port()
    stack: Stack = stack_factory(
        mcp_auth={"tokens": {ALICE_TOKEN: "alice"}},
        connection_cache_seconds=0,
        api={"verification": "none"},  # user verification is tested in test_consent.py
        metrics={"port": port, "token": METRICS_TOKEN},
    )
    stack.start_http("--toolkit", API_TOOLKIT)
    own = f"http://127.0.0.1:{port}/metrics"

    def scrape() -> str:
        answer = httpx2.get(own, timeout=5, trust_env=False)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
        return answer.text

    start = scrape()
    # DNS rebinding: a page on a name that resolves to 127.0.0.1 reads nothing from the metrics listener
    rebound = httpx2.get(own, headers={"Host": f"attacker.example:{port}"}, timeout=5, trust_env=False)
    assert rebound.status_code == 421 and "authmcp" not in rebound.text
    by_address = httpx2.get(own, headers={"Host": f"10.0.0.7:{port}"}, timeout=5, trust_env=False)
    assert by_address.status_code == 200  # a scraper that names the address
    from_page = httpx2.get(own, headers={"Origin": "http://attacker.example"}, timeout=5, trust_env=False)
    assert from_page.status_code == 403
    assert sample(start, "authmcp_audit_events_dropped") == 0 and "authmcp_open_flows" in start
    async with mcp_client(stack, "http", token=ALICE_TOKEN) as client:
        first = await client.call_tool("Gmail_ListEmails", {"n_emails": 2})
        assert first.is_error and first.meta is not None
        assert sample(scrape(), "authmcp_open_flows") == 1
        await authorize_in_browser(stack.provider, first.meta["url"], "alice")
        assert not (await client.call_tool("Gmail_ListEmails", {"n_emails": 2})).is_error
        sent = await client.call_tool(
            "Gmail_SendEmail", {"recipient": "bob@example.com", "subject": "s", "body": CANARY}
        )
        assert not sent.is_error
        assert (await client.call_tool("Gmail_Fail", {"kind": "expected"})).is_error
        access, refresh = await stored_tokens(stack, "alice")
        stack.provider.expire_access_tokens("alice")
        assert not (await client.call_tool("Gmail_ListEmails", {"n_emails": 1})).is_error

    text = scrape()
    assert sample(text, "authmcp_tool_calls_total", tool="Gmail.ListEmails", outcome="authorization_required") == 1
    assert sample(text, "authmcp_tool_calls_total", tool="Gmail.ListEmails", outcome="ok") == 2
    assert sample(text, "authmcp_tool_calls_total", tool="Gmail.SendEmail", outcome="ok") == 1
    assert sample(text, "authmcp_tool_calls_total", tool="Gmail.Fail", outcome="error") == 1
    assert sample(text, "authmcp_tool_call_duration_seconds_count", tool="Gmail.ListEmails") == 2
    assert sample(text, "authmcp_authorizations_total", provider="demo", outcome="completed") == 1
    assert sample(text, "authmcp_refreshes_total", provider="demo", outcome="ok") == 1
    assert sample(text, "authmcp_open_flows") == 0

    # a revocation the provider cannot take now stays pending, and is counted
    stack.provider.set_behavior(revocation_endpoint="error_503")
    assert cli(stack, "connections", "revoke", "demo", "--user", "alice").returncode == 0
    assert sample(scrape(), "authmcp_pending_revocations") == 1

    # the same text on the main app, for the bearer token only
    async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as http:
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        behind = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert behind.status_code == 200 and sample(behind.text, "authmcp_pending_revocations") == 1

    for value in (access, refresh, CANARY, ALICE_TOKEN, METRICS_TOKEN, "alice", "bob@example.com"):
        assert value not in text and value not in behind.text


async def test_not_configured_there_is_no_metrics_endpoint(stack: Stack) -> None:
    stack.start_http()
    async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 404
    assert "metrics at" not in stack.output()
