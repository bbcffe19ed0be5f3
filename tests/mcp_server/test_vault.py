from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text

from mcp_server.errors import KeyringError
from mcp_server.vault import DecryptionError, Keyring, Vault, generate_key, open_vault
from mcp_server.vault.digest_keys import APPROVAL_CALL, AUDIT_ARGUMENTS, digest_key
from mcp_server.vault.keyring import read_key_file
from tests.support.postgres import postgres_url, run_pg  # noqa: F401 - a fixture

pytestmark = pytest.mark.anyio

CANARY_ACCESS = "CANARY-ACCESS-7f3a9c"
CANARY_REFRESH = "CANARY-REFRESH-51be02"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'vault.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """Every vault test runs on both dialects (PostgreSQL: a fresh database, see tests/support/postgres.py)."""
    return sqlite_url if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def vault(db_url: str, tmp_path: Path) -> AsyncIterator[Vault]:
    v = await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")
    yield v
    await v.aclose()


@pytest.fixture
async def sqlite_vault(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Vault]:
    v = await open_vault(sqlite_url, env_keys=[], key_file=tmp_path / "keys")
    yield v
    await v.aclose()


async def save(vault: Vault, user: str = "alice", provider: str = "demo", **kw: object) -> object:
    args: dict[str, object] = {
        "access_token": CANARY_ACCESS,
        "refresh_token": CANARY_REFRESH,
        "token_type": "Bearer",
        "expires_at": time.time() + 3600,
        "scopes": ["profile", "email"],
        "user_info": {"sub": user},
    }
    args.update(kw)
    return await vault.save_connection(user, provider, **args)  # type: ignore[arg-type]


async def test_connection_round_trip_and_upsert_bumps_version(vault: Vault) -> None:
    first = await save(vault)
    stored = await vault.get_connection("alice", "demo")
    assert stored is not None and stored.access_token == CANARY_ACCESS and stored.refresh_token == CANARY_REFRESH
    assert stored.scopes == ("profile", "email") and stored.user_info == {"sub": "alice"}
    await save(vault, access_token="second", refresh_token=None, user_info=None)
    again = await vault.get_connection("alice", "demo")
    assert again is not None
    assert again.access_token == "second" and again.refresh_token is None
    assert again.version == first.version + 1  # type: ignore[attr-defined]
    assert again.user_info == {"sub": "alice"}  # kept when not given


async def test_users_and_providers_are_separate(vault: Vault) -> None:
    await save(vault, "alice", "demo", access_token="a")
    await save(vault, "bob", "demo", access_token="b")
    await save(vault, "alice", "other", access_token="c")
    assert (await vault.get_connection("bob", "demo")).access_token == "b"  # type: ignore[union-attr]
    assert (await vault.get_connection("alice", "other")).access_token == "c"  # type: ignore[union-attr]
    assert await vault.get_connection("carol", "demo") is None
    listed, total = await vault.list_connections()
    assert [c["user_id"] for c in listed] == ["alice", "alice", "bob"] and total == 3
    assert all("access_token" not in c and "refresh_token" not in c for c in listed)
    page, total = await vault.list_connections(provider_id="demo", limit=1, offset=1)
    assert [(c["user_id"], c["provider_id"]) for c in page] == [("bob", "demo")] and total == 2
    assert await vault.connection_owner(page[0]["id"]) == ("bob", "demo")
    assert await vault.connection_owner(10**9) is None


async def test_database_file_holds_no_plaintext_token(sqlite_vault: Vault, tmp_path: Path) -> None:
    vault = sqlite_vault
    await save(vault)
    flow = await vault.create_flow("f1", "alice", "demo", ["profile"], ttl=600)
    await vault.arm_flow(flow.id, "a" * 64, "CANARY-VERIFIER-0d1e")
    await vault.aclose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("vault.db*"))
    for canary in (CANARY_ACCESS, CANARY_REFRESH, "CANARY-VERIFIER-0d1e"):
        assert canary.encode() not in raw


async def test_postgresql_tables_hold_no_plaintext_token(postgres_url: str, tmp_path: Path) -> None:
    vault = await open_vault(postgres_url, env_keys=[], key_file=tmp_path / "keys")
    try:
        await save(vault)
        flow = await vault.create_flow("f1", "alice", "demo", ["profile"], ttl=600)
        await vault.arm_flow(flow.id, "a" * 64, "CANARY-VERIFIER-0d1e")
        await vault.complete_secret_flow(
            (await vault.create_flow("f2", "alice", "key", [], ttl=600, kind="secret")).id, "CANARY-SECRET-88aa"
        )
    finally:
        await vault.aclose()
    # what pg_dump would write: every row of every table, as text
    dump = ""
    for table in ("connections", "flows", "revocations", "user_secrets"):
        rows = await run_pg(postgres_url, f"SELECT t::text FROM {table} AS t")
        dump += "\n".join(row[0] for row in rows)
    assert "alice" in dump  # the rows are there
    for canary in (CANARY_ACCESS, CANARY_REFRESH, "CANARY-VERIFIER-0d1e", "CANARY-SECRET-88aa"):
        assert canary not in dump


async def test_ciphertext_swapped_between_rows_is_refused(vault: Vault, db_url: str, tmp_path: Path) -> None:
    await save(vault, "alice", access_token="alice-token")
    await save(vault, "bob", access_token="bob-token")
    await vault.aclose()
    engine = Vault.create_engine(db_url)
    async with engine.begin() as db:
        bob_ct = (await db.execute(text("select access_token from connections where user_id='bob'"))).scalar_one()
        await db.execute(text("update connections set access_token=:ct where user_id='alice'"), {"ct": bob_ct})
    await engine.dispose()
    reopened = await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")
    try:
        with pytest.raises(DecryptionError):
            await reopened.get_connection("alice", "demo")
        assert (await reopened.get_connection("bob", "demo")).access_token == "bob-token"  # type: ignore[union-attr]
    finally:
        await reopened.aclose()


async def test_flow_state_is_claimed_once(vault: Vault) -> None:
    flow = await vault.create_flow("f1", "alice", "demo", ["profile"], ttl=600)
    assert flow.status == "pending"
    assert await vault.arm_flow("f1", "h" * 64, "verifier")
    claimed = await vault.claim_flow("h" * 64)
    assert claimed is not None and claimed.status == "exchanging" and claimed.code_verifier == "verifier"
    assert await vault.claim_flow("h" * 64) is None
    assert await vault.claim_flow("x" * 64) is None


async def test_concurrent_claims_give_one_winner(vault: Vault) -> None:
    await vault.create_flow("f1", "alice", "demo", ["profile"], ttl=600)
    await vault.arm_flow("f1", "h" * 64, "verifier")
    winners: list[object] = []

    async def claim() -> None:
        if await vault.claim_flow("h" * 64) is not None:
            winners.append(1)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(claim)
    assert len(winners) == 1


async def test_rearming_invalidates_the_previous_state(vault: Vault) -> None:
    await vault.create_flow("f1", "alice", "demo", [], ttl=600)
    await vault.arm_flow("f1", "1" * 64, "v1")
    await vault.arm_flow("f1", "2" * 64, "v2")
    assert await vault.claim_flow("1" * 64) is None
    assert (await vault.claim_flow("2" * 64)).code_verifier == "v2"  # type: ignore[union-attr]


async def test_expired_flow_cannot_be_armed_or_claimed(vault: Vault) -> None:
    await vault.create_flow("f1", "alice", "demo", [], ttl=600)
    await vault.arm_flow("f1", "h" * 64, "v")
    await vault.create_flow("f2", "alice", "demo", [], ttl=-1)
    assert not await vault.arm_flow("f2", "i" * 64, "v")
    assert await vault.expire_flows() == 1
    assert (await vault.get_flow("f2")).status == "failed"  # type: ignore[union-attr]
    assert (await vault.get_flow("f1")).status == "pending"  # type: ignore[union-attr]


async def test_complete_flow_stores_connection_and_status_together(vault: Vault) -> None:
    flow = await vault.create_flow("f1", "alice", "demo", ["profile"], ttl=600)
    await vault.arm_flow("f1", "h" * 64, "v")
    claimed = await vault.claim_flow("h" * 64)
    assert claimed is not None
    await vault.complete_flow(
        claimed, access_token="a", refresh_token="r", token_type="Bearer", expires_at=None, scopes=["profile"]
    )
    done = await vault.get_flow(flow.id)
    assert done is not None and done.status == "completed"
    assert (await vault.get_connection("alice", "demo")).access_token == "a"  # type: ignore[union-attr]


async def test_pending_flow_is_reused_only_for_the_same_scopes(vault: Vault) -> None:
    await vault.create_flow("f1", "alice", "demo", ["a", "b"], ttl=600)
    assert (await vault.find_pending_flow("alice", "demo", ["a", "b"])).id == "f1"  # type: ignore[union-attr]
    assert await vault.find_pending_flow("alice", "demo", ["a"]) is None
    assert await vault.find_pending_flow("bob", "demo", ["a", "b"]) is None


async def test_first_run_creates_a_key_file(db_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "keys"
    vault = await open_vault(db_url, env_keys=[], key_file=key_file)
    await vault.aclose()
    assert key_file.exists() and len(read_key_file(key_file)) == 1


async def test_missing_key_file_with_data_refuses_to_start(vault: Vault, db_url: str, tmp_path: Path) -> None:
    await save(vault)
    await vault.aclose()
    (tmp_path / "keys").unlink()
    with pytest.raises(KeyringError, match="Restore the key file"):
        await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")
    assert not (tmp_path / "keys").exists()  # never a new key over existing data


async def test_wrong_key_refuses_to_start(vault: Vault, db_url: str, tmp_path: Path) -> None:
    await save(vault)
    await vault.aclose()
    with pytest.raises(KeyringError, match="not configured"):
        await open_vault(db_url, env_keys=[generate_key()], key_file=tmp_path / "keys")


async def test_rotation_reencrypts_every_row_for_the_new_key(vault: Vault, db_url: str, tmp_path: Path) -> None:
    await save(vault, "alice")
    await save(vault, "bob", refresh_token=None)
    await vault.create_flow("f1", "alice", "demo", [], ttl=600)
    await vault.arm_flow("f1", "h" * 64, "verifier")
    old = read_key_file(tmp_path / "keys")
    new = generate_key()
    assert await vault.rotate_keys(Keyring([new, *old])) == 3
    await vault.aclose()
    only_new = await open_vault(db_url, env_keys=[new], key_file=tmp_path / "unused")
    try:
        assert await only_new.stored_key_ids() == [Keyring([new]).primary_key_id]
        assert (await only_new.get_connection("alice", "demo")).access_token == CANARY_ACCESS  # type: ignore[union-attr]
        assert (await only_new.claim_flow("h" * 64)).code_verifier == "verifier"  # type: ignore[union-attr]
    finally:
        await only_new.aclose()


async def test_rotation_covers_every_table_and_the_old_key_can_then_be_removed(
    vault: Vault, db_url: str, tmp_path: Path
) -> None:
    await save(vault, "alice")
    await save(vault, "carol")
    await vault.disconnect("carol", "demo", "rev-1")  # her refresh token queued for revocation
    secret = await vault.create_flow("s1", "alice", "API_KEY", [], ttl=600, kind="secret")
    await vault.complete_secret_flow(secret.id, "typed-value")
    await vault.create_flow("held", "alice", "demo", [], ttl=600)
    await vault.arm_flow("held", "b" * 64, "verifier-2")
    assert await vault.claim_flow("b" * 64) is not None
    await vault.hold_tokens("held", '{"access_token": "held-token"}')
    await vault.create_flow("done", "alice", "demo", [], ttl=600)
    await vault.arm_flow("done", "c" * 64, "verifier-3")
    claimed = await vault.claim_flow("c" * 64)
    assert claimed is not None
    await vault.complete_flow(
        claimed, access_token="a", refresh_token=None, token_type="Bearer", expires_at=None, scopes=["profile"]
    )  # finished: nothing of it stays encrypted
    old = read_key_file(tmp_path / "keys")
    new = generate_key()
    assert await vault.rotate_keys(Keyring([new, *old])) == 4  # connection, revocation, secret, held tokens
    assert await vault.rotate_keys(Keyring([new, *old])) == 0  # done: a second run finds nothing
    await vault.aclose()
    only_new = await open_vault(db_url, env_keys=[new], key_file=tmp_path / "unused")
    try:
        assert await only_new.stored_key_ids() == [Keyring([new]).primary_key_id]
        assert await only_new.get_user_secret("alice", "API_KEY") == "typed-value"
        assert [r.token for r in await only_new.due_revocations()] == [CANARY_REFRESH]
        released = await only_new.release_held_tokens("held")
        assert released is not None and "held-token" in released[1]
    finally:
        await only_new.aclose()


async def test_digest_keys_are_made_once_and_outlive_a_rotation(vault: Vault, db_url: str, tmp_path: Path) -> None:
    made: list[bytes] = []

    async def first_use() -> None:
        made.append(await digest_key(vault, AUDIT_ARGUMENTS))

    async with anyio.create_task_group() as tg:  # two processes starting at once agree on one key
        tg.start_soon(first_use)
        tg.start_soon(first_use)
    approval = await digest_key(vault, APPROVAL_CALL)
    assert made[0] == made[1] and len(made[0]) == 32 and approval != made[0]
    old = read_key_file(tmp_path / "keys")
    new = generate_key()
    assert await vault.rotate_keys(Keyring([new, *old])) == 2  # re-encrypted, not changed
    await vault.aclose()
    only_new = await open_vault(db_url, env_keys=[new], key_file=tmp_path / "unused")
    try:
        assert await only_new.stored_key_ids() == [Keyring([new]).primary_key_id]
        assert await digest_key(only_new, AUDIT_ARGUMENTS) == made[0]
        assert await digest_key(only_new, APPROVAL_CALL) == approval
    finally:
        await only_new.aclose()


async def test_sqlite_runs_in_wal_mode(sqlite_vault: Vault, tmp_path: Path) -> None:
    await save(sqlite_vault)
    with sqlite3.connect(tmp_path / "vault.db") as db:
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
