"""Finished flows wake waiters in other processes on the same PostgreSQL database (LISTEN/NOTIFY).

Two vaults and two authorization services on one database stand for two replicas.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from mcp_server.authorization.service import AuthorizationService, create_authorization_service
from mcp_server.providers import ProviderRegistry
from mcp_server.vault import Vault, generate_key, open_vault
from mcp_server.vault.events import PostgresFlowNotices
from tests.support.postgres import postgres_url, run_pg  # noqa: F401 - a fixture

pytestmark = pytest.mark.anyio


@pytest.fixture
async def replicas(
    postgres_url: str, tmp_path: Path
) -> AsyncIterator[tuple[AuthorizationService, AuthorizationService]]:
    key = generate_key()
    vaults: list[Vault] = []
    services = []
    for name in ("a", "b"):
        vault = await open_vault(postgres_url, env_keys=[key], key_file=tmp_path / "unused")
        vaults.append(vault)
        service = create_authorization_service(vault=vault, providers=ProviderRegistry({}), public_url=f"http://{name}")
        await vault.notices.start()
        services.append(service)
    yield services[0], services[1]
    for vault in vaults:
        await vault.aclose()


async def finish_on_b_while_a_waits(a: AuthorizationService, b: AuthorizationService, name: str) -> tuple[str, float]:
    flow = await a.flows.start_secret_flow("alice", name)
    woke: list[float] = []
    completed: list[str] = []

    class Session:  # the completion notice is held while its session lives
        pass

    session = Session()

    async def on_complete(owner: object) -> None:
        assert owner is session
        completed.append(flow.id)

    a.flows.on_complete(flow, session, on_complete)
    async with anyio.create_task_group() as tg:

        async def waiter() -> None:
            done = await a.flows.wait(flow.id, timeout=30)
            assert done is not None and done.status == "completed"
            woke.append(time.monotonic())

        tg.start_soon(waiter)
        await anyio.sleep(0.2)  # A is asleep on its in-process event
        submitted = time.monotonic()
        await b.flows.submit_secret(flow.id, "s3cret")
    assert completed == [flow.id]  # A's completion callbacks ran (elicitation/complete for 2025 sessions)
    assert await a.connections.user_secret("alice", name) == "s3cret"
    return flow.id, woke[0] - submitted


async def test_a_flow_finished_on_one_replica_wakes_the_waiter_on_the_other(
    replicas: tuple[AuthorizationService, AuthorizationService],
) -> None:
    a, b = replicas
    _, delay = await finish_on_b_while_a_waits(a, b, "api_key")
    assert delay < 1.0  # a notice, not a 30 s timeout


async def test_a_failed_flow_wakes_the_other_replica_too(
    replicas: tuple[AuthorizationService, AuthorizationService],
) -> None:
    a, b = replicas
    flow = await a.flows.start_secret_flow("alice", "api_key")
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def waiter() -> None:
                done = await a.flows.wait(flow.id, timeout=30)
                assert done is not None and done.status == "failed"

            tg.start_soon(waiter)
            await anyio.sleep(0.2)
            await b.vault.fail_flow(flow.id, "declined")


async def test_the_listener_reconnects_and_rechecks_after_losing_its_connection(
    replicas: tuple[AuthorizationService, AuthorizationService], postgres_url: str
) -> None:
    a, b = replicas
    notices = a.vault.notices
    assert isinstance(notices, PostgresFlowNotices)
    flow = await a.flows.start_secret_flow("alice", "api_key")
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:

            async def waiter() -> None:
                done = await a.flows.wait(flow.id, timeout=30)
                assert done is not None and done.status == "completed"

            tg.start_soon(waiter)
            await anyio.sleep(0.2)
            pid = notices.connection.get_server_pid()
            await run_pg(postgres_url, "SELECT pg_terminate_backend($1)", pid)
            await b.flows.submit_secret(flow.id, "while A was not listening")  # A may miss this notice: it re-checks
        while not notices.listening.is_set() or notices.connection is None:
            await anyio.sleep(0.05)
    assert notices.connection.get_server_pid() != pid
    _, delay = await finish_on_b_while_a_waits(a, b, "other_key")  # and hears the next one again
    assert delay < 1.0
