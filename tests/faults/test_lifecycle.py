"""A replica's life as a platform sees it: `/readyz` and SIGTERM, on real processes.

- started on a PostgreSQL database whose schema is behind (empty), it serves `/healthz` and a 503 `/readyz` naming
  `authmcp db upgrade`, and opens once that has run; `/readyz` turns 503 while PostgreSQL cannot be reached (a
  relay in front of it is cut) and 200 when it is back;
- SIGTERM during slow tool calls (one from `/v1`, one over Streamable HTTP, whose answer is an event stream): no
  new connection is accepted, both calls finish and answer, the process exits 0;
- SIGTERM while a caller waits on a consent (`/v1/auth/status?wait=`): it is told at once to retry (a 503 with
  Retry-After, not a dropped connection), and the process exits 0.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from sqlalchemy.engine import make_url

from mcp_server.vault import generate_key
from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack
from tests.faults.conftest import API_KEY, api_client, wait_until
from tests.support.postgres import postgres_url  # noqa: F401 - a fixture
from tests.support.tcp_relay import TcpRelay
from tests.support.waiting import logged_waiting

pytestmark = pytest.mark.anyio

SLOW = str(REPO / "tests" / "support" / "slow_toolkit.py")


def readyz(stack: Stack) -> httpx2.Response:
    return httpx2.get(f"{stack.base_url}/readyz", timeout=10, trust_env=False)


def ready(stack: Stack) -> bool:
    return readyz(stack).status_code == 200


def refused(stack: Stack) -> bool:
    try:
        httpx2.get(f"{stack.base_url}/healthz", timeout=2, trust_env=False)
    except httpx2.ConnectError:
        return True
    return False


def exit_code(process: subprocess.Popen[bytes]) -> int:
    return process.wait(30)


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": "2025-11-25"}


def rpc(number: int, method: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": number, "method": method, "params": params}


async def mcp_session(http: httpx2.AsyncClient) -> dict[str, str]:
    """A 2025-11-25 session opened with raw requests; the headers that carry it."""
    hello = rpc(
        1, "initialize", protocolVersion="2025-11-25", capabilities={}, clientInfo={"name": "t", "version": "1"}
    )
    opened = await http.post("/mcp", headers=MCP_HEADERS, json=hello)
    headers = {**MCP_HEADERS, "Mcp-Session-Id": opened.headers["mcp-session-id"]}
    await http.post("/mcp", headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    return headers


async def test_readyz_follows_the_schema_and_the_database(stack_factory: Any, postgres_url: str) -> None:
    upstream = make_url(postgres_url)
    relay = TcpRelay(upstream.host or "127.0.0.1", upstream.port or 5432)
    try:
        stack: Stack = stack_factory(
            database_url=upstream.set(port=relay.port).render_as_string(hide_password=False),
            encryption_keys=generate_key(),
        )
        stack.start_http()  # returns once /healthz answers: the process lives, though not ready
        behind = readyz(stack)
        assert behind.status_code == 503
        assert behind.json()["status"] == "not_ready"
        assert "authmcp db upgrade" in behind.json()["reason"]
        assert "postgres" not in behind.text  # no URL, no user name
        # Any other request is told the same, to retry, rather than a bare 404
        mcp = httpx2.post(f"{stack.base_url}/mcp", json={}, timeout=10, trust_env=False)
        assert mcp.status_code == 503 and mcp.headers["retry-after"]
        assert mcp.json() == behind.json()

        migrated = subprocess.run(
            [sys.executable, "-m", "mcp_server", "db", "upgrade", "--config", str(stack.config_path)],
            env=stack.env(),
            capture_output=True,
            timeout=60,
        )
        assert migrated.returncode == 0, migrated.stderr.decode()
        await wait_until(lambda: ready(stack), timeout=30)
        assert readyz(stack).json() == {"status": "ready"}
        async with mcp_client(stack, "http") as client:
            assert "Demo_WhoAmI" in {t.name for t in (await client.list_tools()).tools}

        relay.cut()
        await wait_until(lambda: readyz(stack).status_code == 503, timeout=20)
        assert readyz(stack).json()["reason"] == "the database cannot be reached"
        assert httpx2.get(f"{stack.base_url}/healthz", timeout=10, trust_env=False).status_code == 200
        relay.restore()
        await wait_until(lambda: ready(stack), timeout=20)
    finally:
        relay.close()
    assert "Traceback" not in stack.output()


async def test_sigterm_lets_a_slow_call_finish_then_exits_0(stack_factory: Any, tmp_path: Path) -> None:
    stack: Stack = stack_factory(api={"keys": [API_KEY], "verification": "none"}, shutdown_grace=30)
    process = stack.start_http("--toolkit", SLOW)
    assert ready(stack)
    folder, mcp_folder = tmp_path / "call", tmp_path / "mcp-call"
    folder.mkdir()
    mcp_folder.mkdir()
    answer: dict[str, Any] = {}
    async with api_client(stack, timeout=60) as http:
        session = await mcp_session(http)  # an MCP call streams its answer: it must not be cut either
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                answer["response"] = await http.post(
                    "/v1/tools/execute",
                    json={"tool_name": "Slow.Hold", "user_id": "alice", "input": {"folder": str(folder)}},
                )

            async def mcp_call() -> None:
                answer["mcp"] = await http.post(
                    "/mcp",
                    headers=session,
                    json=rpc(2, "tools/call", name="Slow_Hold", arguments={"folder": str(mcp_folder)}),
                )

            tg.start_soon(call)
            tg.start_soon(mcp_call)
            for started in (folder / "started", mcp_folder / "started"):
                await wait_until(started.exists, what="the calls in flight")
            process.send_signal(signal.SIGTERM)
            await wait_until(lambda: "stopping: no new connections" in stack.output(), what="the signal handled")
            await wait_until(lambda: refused(stack), what="the listener closed")
            assert process.poll() is None  # the calls are still in flight: the process waits for them
            (folder / "release").write_text("go")
            (mcp_folder / "release").write_text("go")
    assert '"text":"finished"' in answer["mcp"].text and '"isError":false' in answer["mcp"].text, answer["mcp"].text
    body = answer["response"].json()
    assert body["success"] and body["output"]["value"] == "finished", body
    assert exit_code(process) == 0
    assert "Traceback" not in stack.output()


async def test_sigterm_tells_a_caller_waiting_on_consent_to_retry(stack_factory: Any) -> None:
    stack: Stack = stack_factory(api={"keys": [API_KEY], "verification": "none"}, log_level="DEBUG")
    process = stack.start_http()
    async with api_client(stack, timeout=60) as http:
        started = await http.post("/v1/tools/authorize", json={"tool_name": "Demo.WhoAmI", "user_id": "alice"})
        flow_id = started.json()["id"]
        answer: dict[str, Any] = {}
        async with anyio.create_task_group() as tg:

            async def long_poll() -> None:
                answer["status"] = await http.get("/v1/auth/status", params={"id": flow_id, "wait": 59})

            tg.start_soon(long_poll)
            await logged_waiting(stack.output, flow_id)
            with anyio.fail_after(10):  # far less than the 59 s it would otherwise wait
                process.send_signal(signal.SIGTERM)
                while "status" not in answer:
                    await anyio.sleep(0.02)
    status = answer["status"]
    assert status.status_code == 503, status.text
    assert status.json()["name"] == "storage_unavailable"
    assert "restarting" in status.json()["message"] and status.headers["retry-after"]
    assert exit_code(process) == 0
    assert "Traceback" not in stack.output()
