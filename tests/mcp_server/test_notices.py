"""Finished flows wake waiters in other processes on the same PostgreSQL database (LISTEN/NOTIFY).

Two vaults and two authorization services on one database stand for two replicas.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from mcp_server.authorization.service import AuthorizationService, create_authorization_service
from mcp_server.providers import ProviderRegistry
from mcp_server.vault import Vault, generate_key, open_vault
from mcp_server.vault.events import PostgresFlowNotices
from tests.support.postgres import postgres_url, run_pg  # noqa: F401 - a fixture
from tests.support.waiting import parked, woken

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
        # a waiter re-reads its flow on its own every exchange_bound / 4 s, 33.75 s here: past its 30 s timeout,
        # so a notice (or the re-check after a lost connection) is all that can wake it in these tests
        service = create_authorization_service(
            vault=vault, providers=ProviderRegistry({}), public_url=f"http://{name}", http_timeout=60
        )
        await vault.notices.start()
        services.append(service)
    yield services[0], services[1]
    for vault in vaults:
        await vault.aclose()


async def finish_on_b_while_a_waits(a: AuthorizationService, b: AuthorizationService, name: str) -> str:
    """B finishes a flow A waits on: A's waiter is back within `WAKE_DEADLINE` (a notice, not its re-read)."""
    flow = await a.flows.start_secret_flow("alice", name)
    completed: list[str] = []

    class Session:  # the completion notice is held while its session lives
        pass

    session = Session()

    async def on_complete(owner: object) -> None:
        assert owner is session
        completed.append(flow.id)

    a.flows.on_complete(flow, session, on_complete)
    done, _ = await woken(a.flows, flow.id, lambda: b.flows.submit_secret(flow.id, "s3cret"))
    assert done is not None and done.status == "completed"
    assert completed == [flow.id]  # A's completion callbacks ran (elicitation/complete for 2025 sessions)
    assert await a.connections.user_secret("alice", name) == "s3cret"
    return flow.id


async def test_a_flow_finished_on_one_replica_wakes_the_waiter_on_the_other(
    replicas: tuple[AuthorizationService, AuthorizationService],
) -> None:
    await finish_on_b_while_a_waits(*replicas, "api_key")


async def test_a_failed_flow_wakes_the_other_replica_too(
    replicas: tuple[AuthorizationService, AuthorizationService],
) -> None:
    a, b = replicas
    flow = await a.flows.start_secret_flow("alice", "api_key")
    done, _ = await woken(a.flows, flow.id, lambda: b.vault.fail_flow(flow.id, "declined"))
    assert done is not None and done.status == "failed"


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
            await parked(a.flows, flow.id)
            pid = notices.connection.get_server_pid()
            await run_pg(postgres_url, "SELECT pg_terminate_backend($1)", pid)
            await b.flows.submit_secret(flow.id, "while A was not listening")  # A may miss this notice: it re-checks
        while not notices.listening.is_set() or notices.connection is None:
            await anyio.sleep(0.05)
    assert notices.connection.get_server_pid() != pid
    await finish_on_b_while_a_waits(a, b, "other_key")  # and hears the next one again
