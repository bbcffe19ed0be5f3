"""The front door's rows in the vault, on SQLite and PostgreSQL: digests only, sealed secrets, single use."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text

from mcp_server.vault import Keyring, Vault, generate_key, open_vault
from mcp_server.vault.front_door import FrontDoorStore, GrantRow
from mcp_server.vault.keyring import read_key_file
from tests.support.postgres import postgres_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.anyio

SECRET = "client-secret-CANARY-93be"
CODE = "code-CANARY-1f0e"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vault.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def vault(db_url: str, tmp_path: Path) -> AsyncIterator[Vault]:
    v = await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")
    yield v
    await v.aclose()


def grant(grant_id: str = "g1", client_id: str = "c1") -> GrantRow:
    return GrantRow(
        id=grant_id,
        client_id=client_id,
        user_id="alice",
        scopes=["mcp"],
        resource="https://mcp.example.com/mcp",
        redirect_uri="http://127.0.0.1:3000/cb",
        redirect_uri_explicit=True,
        code_challenge="x" * 43,
        created_at=time.time(),
        revoked_at=None,
    )


async def dump(vault: Vault) -> str:
    async with vault.engine.connect() as conn:
        rows = []
        for table in ("oauth_clients", "oauth_grants", "oauth_tokens", "front_door_requests", "browser_sessions"):
            rows += [str(tuple(r)) for r in await conn.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(rows)


async def test_codes_tokens_and_secrets_are_never_stored_in_clear(vault: Vault) -> None:
    store = FrontDoorStore(vault)
    assert await store.register_client("c1", {"client_name": "App"}, SECRET, source="127.0.0.1", limit=10)
    await store.create_grant(grant(), CODE, code_ttl=60)
    await store.create_session("session-CANARY-77", "alice", None, ttl=60)
    assert await store.get_client("c1") == ({"client_name": "App"}, SECRET)
    stored = await dump(vault)
    for value in (SECRET, CODE, "session-CANARY-77"):
        assert value not in stored
    assert await store.session_user("session-CANARY-77") == "alice"


async def test_a_code_is_used_once_even_by_racing_replicas(vault: Vault, db_url: str, tmp_path: Path) -> None:
    store = FrontDoorStore(vault)
    await store.create_grant(grant(), CODE, code_ttl=60)
    other = await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")  # a second process, in effect
    try:
        wins: list[bool] = []

        async def use(s: FrontDoorStore) -> None:
            wins.append(await s.use_token(CODE, "code"))

        async with anyio.create_task_group() as tg:
            for s in (store, FrontDoorStore(other)) * 3:
                tg.start_soon(use, s)
    finally:
        await other.aclose()
    assert sorted(wins) == [False] * 5 + [True]


async def test_revoking_a_grant_ends_its_tokens(vault: Vault) -> None:
    store = FrontDoorStore(vault)
    await store.create_grant(grant(), CODE, code_ttl=60)
    assert await store.add_tokens("g1", [("at-1", "access", time.time() + 60)])
    assert await store.approved("alice", "c1")
    assert await store.revoke_grants(user_id="alice", client_id="c1") == 1
    assert await store.find_token("at-1", "access") is None
    assert not await store.approved("alice", "c1")
    assert not await store.add_tokens("g1", [("at-2", "access", time.time() + 60)])


async def test_registrations_stop_at_the_limit(vault: Vault) -> None:
    store = FrontDoorStore(vault)
    assert await store.register_client("c1", {}, None, source="10.0.0.1", limit=2)
    assert await store.register_client("c2", {}, None, source="10.0.0.1", limit=2)
    assert not await store.register_client("c3", {}, None, source="10.0.0.2", limit=2)
    assert await store.registrations_from("10.0.0.1", time.time() - 60) == 2
    assert await store.purge_unused_clients(time.time() + 1) == 2


async def test_key_rotation_reencrypts_client_secrets_and_sign_ins(vault: Vault, tmp_path: Path) -> None:
    store = FrontDoorStore(vault)
    await store.register_client("c1", {}, SECRET, source="127.0.0.1", limit=10)
    await store.create_request("req-1", "c1", {"state": None}, ttl=60)
    await store.start_sign_in("req-1", "state-1", {"verifier": "v-CANARY"})
    old_id = vault.keyring.primary_key_id
    assert await vault.rotate_keys(Keyring([generate_key(), *read_key_file(tmp_path / "keys")])) == 2
    assert old_id not in await vault.keys_in_use()
    assert await store.get_client("c1") == ({}, SECRET)
    taken = await store.take_sign_in("state-1")
    assert taken is not None and taken[1] == {"verifier": "v-CANARY"}
    assert await store.take_sign_in("state-1") is None  # once
