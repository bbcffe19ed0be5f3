"""Disconnecting (security case 12): unusable here at once, revoked at the provider now or, if it is down, later."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import httpx2
import pytest

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, stored_tokens, texts

pytestmark = pytest.mark.anyio


def revoke(stack: Stack) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", "connections", "revoke", "demo", "--config", str(stack.config_path)],
        capture_output=True,
        text=True,
        env=stack.env(),
        timeout=60,
    )


def queued(stack: Stack) -> int:
    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        return int(db.execute("select count(*) from revocations").fetchone()[0])


async def connect(stack: Stack) -> str:
    async with mcp_client(stack, "http") as client:
        await authorize_in_browser(stack.provider, (await client.call_tool("Demo_WhoAmI", {})).meta["url"], "alice")
        result = await client.call_tool("Demo_WhoAmI", {})
    assert not result.is_error
    access, _ = await stored_tokens(stack, "local-user")
    return access


def userinfo_status(stack: Stack, token: str) -> int:
    return httpx2.get(stack.provider.userinfo_endpoint, headers={"Authorization": f"Bearer {token}"}).status_code


async def test_revoke_disconnects_at_once_and_revokes_the_grant(stack_factory: object) -> None:
    stack: Stack = stack_factory(connection_cache_seconds=0)  # type: ignore[operator]
    stack.start_http()
    access = await connect(stack)
    assert userinfo_status(stack, access) == 200
    stack.provider.reset_stats()
    result = revoke(stack)
    assert result.returncode == 0 and "Disconnected 'local-user' from 'demo'" in result.stdout
    assert result.stderr == ""  # the result alone: no INFO log lines (the stack's log_level is INFO)
    assert stack.provider.stats()["revocations"] == 1 and queued(stack) == 0
    assert userinfo_status(stack, access) == 401  # revoking the refresh token ended the whole grant
    async with mcp_client(stack, "http") as client:
        after = await client.call_tool("Demo_WhoAmI", {})
    assert after.is_error and "/connect/" in texts(after)
    again = revoke(stack)
    assert again.returncode == 2 and "has no connection" in again.stderr


async def test_revocation_endpoint_down_is_retried_later_by_the_server(stack_factory: object) -> None:
    stack: Stack = stack_factory(connection_cache_seconds=0, revocation_retry_seconds=0.5)  # type: ignore[operator]
    stack.start_http()
    await connect(stack)
    stack.provider.set_behavior(revocation_endpoint="error_503")
    result = revoke(stack)
    assert result.returncode == 0 and "retries every" in result.stdout
    assert queued(stack) == 1
    async with mcp_client(stack, "http") as client:  # disabled locally at once, whatever the provider says
        assert (await client.call_tool("Demo_WhoAmI", {})).is_error
    stack.provider.set_behavior(revocation_endpoint="normal")
    with anyio.fail_after(20):
        while queued(stack):  # the running server's retry loop
            await anyio.sleep(0.2)
    assert stack.provider.stats()["revocations"] >= 2
    assert "revoked at demo" in stack.output()


async def test_revoking_from_another_process_reaches_a_server_holding_the_connection_in_memory(
    stack_factory: object,
) -> None:
    stack: Stack = stack_factory(connection_cache_seconds=300)  # type: ignore[operator]
    stack.start_http()
    await connect(stack)
    async with mcp_client(stack, "http") as client:
        assert not (await client.call_tool("Demo_WhoAmI", {})).is_error  # the server holds it in memory now
        stack.provider.set_behavior(revocation_endpoint="error_503")  # the token stays good at the provider
        assert revoke(stack).returncode == 0  # `authmcp connections revoke`: another process, same SQLite file
        with anyio.fail_after(10):  # its notice is a datagram; the server's own re-read is minutes away
            while not (after := await client.call_tool("Demo_WhoAmI", {})).is_error:
                await anyio.sleep(0.05)
    assert "/connect/" in texts(after)
