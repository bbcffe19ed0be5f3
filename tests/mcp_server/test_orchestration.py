"""Both front doors, the MCP gate and the `/v1` API, run a call through the one orchestration (`ToolCalls`).

The runtime's `ToolCalls` is watched (each step it is asked for is noted, then done as before), and the same tools
are called through each door: the steps and what they answer are the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from mcp_server.calls.orchestration import AuthorizationNeeded, Ready, ToolCalls
from tests.mcp_server.test_api import Api, serve
from tests.support.provider import AuthServer

pytestmark = pytest.mark.anyio


def watch(calls: ToolCalls, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """Note each step `calls` is asked for: (step, tool, what it answered)."""
    seen: list[tuple[str, str, Any]] = []
    prepare, execute = calls.prepare, calls.execute

    async def watched_prepare(user_id: str, definition: Any) -> Any:
        step = await prepare(user_id, definition)
        seen.append(("prepare", definition.api_name, type(step).__name__))
        return step

    async def watched_execute(user_id: str, definition: Any, ready: Ready, arguments: Any) -> Any:
        value = await execute(user_id, definition, ready, arguments)
        seen.append(("execute", definition.api_name, value))
        return value

    monkeypatch.setattr(calls, "prepare", watched_prepare)
    monkeypatch.setattr(calls, "execute", watched_execute)
    return seen


@pytest.fixture
async def api(make_settings: Any, auth_server: AuthServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    monkeypatch.setenv("DEMO_USERINFO_URL", auth_server.userinfo_endpoint)
    async with serve(make_settings, auth_server, user_id="alice") as served:
        yield served


async def test_the_gate_and_the_api_run_a_ready_call_through_the_same_steps(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = watch(api.runtime.calls, monkeypatch)

    async with Client(api.runtime.mcp) as client:
        result = await client.call_tool("Gmail_RelayStatus", {})
    assert not result.is_error, result
    by_mcp, seen[:] = list(seen), []

    executed = await api.execute("Gmail.RelayStatus", user_id="alice")
    assert executed.success, executed
    by_api = list(seen)

    assert by_mcp == by_api
    assert [step for step, _, _ in by_mcp] == ["prepare", "execute"]
    assert by_mcp[0] == ("prepare", "Gmail.RelayStatus", Ready.__name__)


async def test_the_gate_and_the_api_learn_from_the_same_step_that_an_authorization_is_needed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = watch(api.runtime.calls, monkeypatch)

    async with Client(api.runtime.mcp) as client:
        result = await client.call_tool("Gmail_ListEmails", {})
    assert result.is_error and "Authorization required" in result.content[0].text  # type: ignore[union-attr]
    by_mcp, seen[:] = list(seen), []

    executed = await api.execute("Gmail.ListEmails", user_id="alice")
    assert not executed.success and executed.output is not None and executed.output.authorization is not None
    by_api = list(seen)

    assert by_mcp == by_api == [("prepare", "Gmail.ListEmails", AuthorizationNeeded.__name__)]
