"""The front door's rows in the vault, on SQLite and PostgreSQL: digests only, sealed secrets, single use."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text

from mcp_server.authorization.service import create_authorization_service
from mcp_server.providers import ProviderRegistry
from mcp_server.vault import Keyring, Vault, generate_key, open_vault
from mcp_server.vault.front_door import GRANT_RETENTION, FrontDoorStore, GrantRow, digest
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


async def test_ended_grants_are_purged_after_the_retention(vault: Vault) -> None:
    store = FrontDoorStore(vault)
    old = time.time() - GRANT_RETENTION - 3600
    rows = {
        "revoked-long-ago": replace(grant("revoked-long-ago", "c1"), created_at=old),
        "revoked-now": grant("revoked-now", "c2"),
        "expired-long-ago": replace(grant("expired-long-ago", "c3"), created_at=old),
        "old-but-live": replace(grant("old-but-live", "c4"), created_at=old),
        "new-unused": grant("new-unused", "c5"),
    }
    for grant_id, row in rows.items():
        await store.create_grant(row, f"code-{grant_id}", code_ttl=60)
    assert await store.add_tokens("old-but-live", [("rt-live", "refresh", time.time() + 86400)])
    async with vault.engine.begin() as conn:  # as it was left: revoked a month and more ago, its code long spent
        await conn.execute(
            text("UPDATE oauth_grants SET revoked_at = :at WHERE id = 'revoked-long-ago'"), {"at": old + 60}
        )
        await conn.execute(
            text("UPDATE oauth_tokens SET expires_at = :at WHERE id != :live"),
            {"at": old + 60, "live": digest("rt-live")},
        )
    await store.revoke_grants(grant_id="revoked-now")

    assert await store.purge_grants(time.time() - GRANT_RETENTION) == 2
    async with vault.engine.connect() as conn:
        left = {r[0] for r in await conn.execute(text("SELECT id FROM oauth_grants"))}
        tokens = {r[0] for r in await conn.execute(text("SELECT grant_id FROM oauth_tokens"))}
    assert left == {"revoked-now", "old-but-live", "new-unused"}  # ended recently, still in use, or new
    assert tokens <= left  # no digest of a deleted grant is left behind
    assert await store.find_token("rt-live", "refresh") is not None and await store.approved("alice", "c4")


async def test_the_maintenance_pass_purges_ended_grants_in_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "authmcp.db"
    vault = await open_vault(f"sqlite:///{path}", env_keys=[], key_file=tmp_path / "keys")
    try:
        service = create_authorization_service(vault=vault, providers=ProviderRegistry({}), public_url="http://x")
        store = FrontDoorStore(vault)
        old = time.time() - GRANT_RETENTION - 60
        await store.create_grant(replace(grant(), created_at=old), CODE, code_ttl=60)  # a code never exchanged
        await service.connections.maintenance.maintenance_pass()
    finally:
        await vault.aclose()
    with sqlite3.connect(path) as db:  # read the file itself, as another process would
        assert db.execute("SELECT count(*) FROM oauth_grants").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM oauth_tokens").fetchone() == (0,)
