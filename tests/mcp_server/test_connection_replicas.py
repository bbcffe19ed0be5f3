"""What one replica changes in a connection reaches the in-memory view of the other at once, by notice (NOTIFY on
PostgreSQL, a loopback datagram on SQLite), though the view is kept for long (connection_cache_seconds: 60).

Two runtimes on one real database (a SQLite file, or the PostgreSQL of AUTHMCP_TEST_POSTGRES_URL) stand for two
replicas; the test provider is a real OAuth server in a subprocess.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest

from mcp_server.authorization.connections import ConnectionService
from mcp_server.serving.runtime import Runtime, open_runtime
from mcp_server.vault import generate_key
from mcp_server.vault.events import PostgresFlowNotices
from tests.mcp_server.test_authorization import PROFILE, PUBLIC_URL, connect
from tests.support import sample_toolkit
from tests.support.fixtures import CLIENT_ID, CLIENT_SECRET
from tests.support.postgres import postgres_url, run_pg  # noqa: F401 - a fixture
from tests.support.provider import AuthServer

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgresql"])
async def replicas(
    request: pytest.FixtureRequest, make_settings: Any, auth_server: AuthServer
) -> AsyncIterator[tuple[Runtime, Runtime]]:
    database = (
        {}
        if request.param == "sqlite"
        else {
            "database_url": request.getfixturevalue("postgres_url"),
            "migrate_on_start": True,  # replicas on PostgreSQL create the schema only when told to
        }
    )
    settings = make_settings(
        **database,
        encryption_keys=generate_key(),
        providers={
            "demo": {
                "authorize_url": auth_server.authorization_endpoint,
                "token_url": auth_server.token_endpoint,
                "userinfo_url": auth_server.userinfo_endpoint,
                "issuer": auth_server.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        },
    )
    assert settings.connection_cache_seconds == 60  # the default: only a notice makes a change seen within a test
    async with (
        open_runtime(settings, public_url=PUBLIC_URL, toolkits=[sample_toolkit.__name__]) as a,
        open_runtime(settings, public_url=PUBLIC_URL, toolkits=[sample_toolkit.__name__]) as b,
    ):
        yield a, b


def connections(rt: Runtime) -> ConnectionService:
    return rt.service.connections


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Until `check()` holds; a notice arrives within milliseconds, the view's own period is a minute."""
    with anyio.fail_after(10):
        while not await check():
            await anyio.sleep(0.02)


async def token_on(rt: Runtime) -> str | None:
    connection = await connections(rt).connection_for("alice", PROFILE)
    return connection.access_token if connection else None


async def test_an_absent_connection_is_read_once_then_seen_when_the_other_replica_completes_a_flow(
    replicas: tuple[Runtime, Runtime], auth_server: AuthServer
) -> None:
    a, b = replicas
    for _ in range(5):
        assert await token_on(a) is None
    assert connections(a).cache.loads == 1  # a user without a grant costs one read, not one per call
    await connect(b, auth_server)
    await eventually(lambda: _is_not_none(token_on(a)))
    assert await token_on(a) == await token_on(b)


async def test_a_revocation_on_one_replica_is_seen_by_the_other(
    replicas: tuple[Runtime, Runtime], auth_server: AuthServer
) -> None:
    a, b = replicas
    await connect(a, auth_server)
    assert await token_on(a) is not None and await token_on(b) is not None  # both hold it in memory
    assert await connections(b).disconnect("alice", "demo", by="admin")
    assert await token_on(b) is None
    await eventually(lambda: _is_none(token_on(a)))


async def test_a_refresh_on_one_replica_is_seen_by_the_other(
    replicas: tuple[Runtime, Runtime], auth_server: AuthServer
) -> None:
    a, b = replicas
    await connect(a, auth_server)
    old = await connections(a).connection_for("alice", PROFILE)
    assert old is not None and await token_on(b) == old.access_token
    refreshed = await connections(b).refresh("alice", "demo", rejected=old)  # the API refused the old token on B
    assert refreshed is not None and refreshed.access_token != old.access_token

    async def a_has_the_new_token() -> bool:
        return await token_on(a) == refreshed.access_token

    await eventually(a_has_the_new_token)


async def test_needs_reauth_on_one_replica_is_seen_by_the_other(
    replicas: tuple[Runtime, Runtime], auth_server: AuthServer
) -> None:
    a, b = replicas
    await connect(a, auth_server)
    assert await token_on(a) is not None
    await b.vault.set_connection_status("alice", "demo", "needs_reauth")  # what B does on invalid_grant
    await eventually(lambda: _is_none(token_on(a)))


async def test_an_absent_secret_is_seen_when_the_other_replica_stores_it(replicas: tuple[Runtime, Runtime]) -> None:
    a, b = replicas
    assert await connections(a).user_secret("alice", "api_key") is None
    assert await connections(a).user_secret("alice", "api_key") is None
    assert connections(a).secret_cache.loads == 1
    flow = await b.service.flows.start_secret_flow("alice", "api_key")
    await b.service.flows.submit_secret(flow.id, "s3cret")

    async def a_has_it() -> bool:
        return await connections(a).user_secret("alice", "api_key") == "s3cret"

    await eventually(a_has_it)


async def test_concurrent_first_calls_of_a_user_make_one_read(
    replicas: tuple[Runtime, Runtime], auth_server: AuthServer
) -> None:
    a, _ = replicas
    await connect(a, auth_server)
    service = connections(a)
    service.forget("alice", "demo")  # as after a restart
    before = service.cache.loads
    tokens = await asyncio.gather(*(token_on(a) for _ in range(50)))
    assert len(set(tokens)) == 1 and tokens[0] is not None
    assert service.cache.loads == before + 1


async def test_a_read_overtaken_by_a_completed_flow_never_hides_the_new_connection(
    replicas: tuple[Runtime, Runtime], auth_server: AuthServer
) -> None:
    a, _b = replicas
    vault = a.vault
    real_read = vault.get_connection
    has_read, gate = asyncio.Event(), asyncio.Event()

    async def read_then_wait(user_id: str, provider_id: str) -> Any:
        connection = await real_read(user_id, provider_id)  # the real read, against the real database
        if not has_read.is_set():  # the first read only (the flow reads the connection too)
            has_read.set()
            await gate.wait()  # ... held after it has seen the database as it was
        return connection

    vault.get_connection = read_then_wait  # type: ignore[method-assign]
    try:
        first_call = asyncio.ensure_future(token_on(a))
        await has_read.wait()  # A's read has seen "no connection"
        await connect(a, auth_server)  # the flow completes on A meanwhile
        gate.set()
        assert await first_call is not None  # the call re-read: it never answers "authorize first"
        assert await token_on(a) is not None  # nor does the view keep the overtaken answer
    finally:
        vault.get_connection = real_read  # type: ignore[method-assign]


async def _is_none(value: Awaitable[Any]) -> bool:
    return await value is None


async def _is_not_none(value: Awaitable[Any]) -> bool:
    return await value is not None


async def test_after_its_listen_connection_was_lost_a_replica_reads_everything_again(
    replicas: tuple[Runtime, Runtime], auth_server: AuthServer, request: pytest.FixtureRequest
) -> None:
    a, b = replicas
    notices = a.vault.notices
    if not isinstance(notices, PostgresFlowNotices):
        pytest.skip("only PostgreSQL keeps a connection for notices")
    await connect(a, auth_server)
    assert await token_on(a) is not None
    pid = notices.connection.get_server_pid()
    await run_pg(request.getfixturevalue("postgres_url"), "SELECT pg_terminate_backend($1)", pid)
    assert await connections(b).disconnect("alice", "demo")  # A may miss this notice, being away
    with anyio.fail_after(20):
        while notices.connection is None or notices.connection.get_server_pid() == pid:
            await anyio.sleep(0.05)
    await eventually(lambda: _is_none(token_on(a)))  # whatever it held was dropped on reconnecting
