"""Finished flows wake waiters in other processes on the same SQLite file (loopback datagrams).

Two vaults and two authorization services on one database file stand for two `authmcp serve` processes;
`tests/e2e/test_shared_pages.py` does the same with real processes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from mcp_server.authorization.service import AuthorizationService, create_authorization_service
from mcp_server.providers import ProviderRegistry
from mcp_server.vault import Vault, open_vault
from mcp_server.vault.local_notices import LocalFlowNotices
from tests.support.waiting import woken

pytestmark = pytest.mark.anyio


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[tuple[AuthorizationService, AuthorizationService]]:
    vaults: list[Vault] = []
    services = []
    for name in ("a", "b"):
        vault = await open_vault(f"sqlite:///{tmp_path / 'authmcp.db'}", env_keys=[], key_file=tmp_path / "keys")
        vaults.append(vault)
        services.append(
            create_authorization_service(vault=vault, providers=ProviderRegistry({}), public_url=f"http://{name}")
        )
        await vault.notices.start()
    yield services[0], services[1]
    for vault in vaults:
        await vault.aclose()


async def wait_while(
    a: AuthorizationService, flow_id: str, finish: Callable[[], Awaitable[object]], expected: str
) -> None:
    done, _ = await woken(a.flows, flow_id, finish)  # a waiter never woken re-reads its flow only after 8.75 s
    assert done is not None and done.status == expected


async def test_a_flow_finished_in_one_process_wakes_the_waiter_in_the_other(
    processes: tuple[AuthorizationService, AuthorizationService],
) -> None:
    a, b = processes
    assert isinstance(a.vault.notices, LocalFlowNotices)
    flow = await a.flows.start_secret_flow("alice", "api_key")
    await wait_while(a, flow.id, lambda: b.flows.submit_secret(flow.id, "s3cret"), "completed")
    assert await a.connections.user_secret("alice", "api_key") == "s3cret"


async def test_a_failed_flow_wakes_the_other_process_too(
    processes: tuple[AuthorizationService, AuthorizationService],
) -> None:
    a, b = processes
    flow = await a.flows.start_secret_flow("alice", "api_key")
    await wait_while(a, flow.id, lambda: b.vault.fail_flow(flow.id, "declined"), "failed")


async def test_entries_of_dead_processes_are_removed_and_closing_removes_ones_own(
    processes: tuple[AuthorizationService, AuthorizationService], tmp_path: Path
) -> None:
    a, b = processes
    directory = tmp_path / ".authmcp.db.notices"
    assert len(list(directory.iterdir())) == 2
    dead = directory / "999999999-0123456789abcdef"  # no such pid
    dead.write_text("9")
    flow = await a.flows.start_secret_flow("alice", "api_key")
    await b.flows.submit_secret(flow.id, "x")
    assert not dead.exists()
    await a.vault.aclose()
    assert [entry.name.split("-")[0] for entry in directory.iterdir()] == [str(os.getpid())]
