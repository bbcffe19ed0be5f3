"""Schema migrations: created at first start, checked at every start, upgraded by `authmcp db upgrade`. Both
dialects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from mcp_server.cli.app import app
from mcp_server.errors import ConfigError
from mcp_server.vault import Vault, generate_key, open_vault
from mcp_server.vault.migrate import MIGRATIONS, _run, head_revision
from mcp_server.vault.schema import metadata
from tests.support.postgres import postgres_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vault.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = Vault.create_engine(db_url)
    yield engine
    await engine.dispose()


async def db_upgrade(config: Path) -> Result:
    """`authmcp db upgrade --config <config>`, in a thread (the command runs its own event loop)."""
    return await anyio.to_thread.run_sync(lambda: CliRunner().invoke(app, ["db", "upgrade", "--config", str(config)]))


def downgrade_to(conn: Connection, destination: str) -> None:
    """Run the revisions' downgrades back to `destination` (what an older authmcp left behind)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)

    def steps(revision: Any, _context: Any) -> Any:
        return script._downgrade_revs(destination, revision)

    with EnvironmentContext(config, script, fn=steps, destination_rev=destination) as env:
        env.configure(connection=conn, target_metadata=metadata)
        with env.begin_transaction():
            env.run_migrations()


async def revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def test_an_empty_database_is_created_at_head_and_matches_schema_py(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    vault = await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")
    await vault.aclose()
    assert await revision(engine) == head_revision()
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
    assert diff == []  # the revisions create exactly what schema.py declares


async def test_tables_without_a_revision_refuse_to_start_until_db_upgrade(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    # what authmcp before migrations left behind: the tables of revision 0001, and no alembic_version
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: _run(c, "0001"))
        await conn.execute(text("DROP TABLE alembic_version"))
    with pytest.raises(ConfigError, match="run `authmcp db upgrade`"):
        await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")

    config = tmp_path / "authmcp.toml"
    config.write_text(f'database_url = "{db_url}"\ndata_dir = "{tmp_path / "data"}"\n')
    result = await db_upgrade(config)
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    assert await revision(engine) == head_revision()

    vault = await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")
    await vault.aclose()
    again = await db_upgrade(config)
    assert again.exit_code == 0 and "up to date" in again.output


async def test_an_unknown_or_missing_revision_refuses_to_start(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    vault = await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")
    await vault.aclose()
    async with engine.begin() as conn:  # written by a newer authmcp
        await conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    with pytest.raises(ConfigError, match="newer version"):
        await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM alembic_version"))
    with pytest.raises(ConfigError, match=r"out of date .*run `authmcp db upgrade`"):
        await open_vault(db_url, env_keys=[], key_file=tmp_path / "keys")


async def test_replicas_starting_together_create_the_schema_once(postgres_url: str, tmp_path: Path) -> None:
    key = generate_key()
    vaults: list[Vault] = []

    async def start() -> None:
        vaults.append(await open_vault(postgres_url, env_keys=[key], key_file=tmp_path / "keys"))

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(start)
    for vault in vaults:
        await vault.aclose()
    assert len(vaults) == 4


async def test_upgrading_to_token_extras_keeps_the_connections(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    vault = await open_vault(db_url, env_keys=[], key_file=keys)
    await vault.save_connection(
        "alice",
        "salesforce",
        access_token="at-1",
        refresh_token="rt-1",
        token_type="Bearer",
        expires_at=None,
        scopes=["api"],
        user_info={"sub": "005x"},
    )
    await vault.aclose()
    async with engine.begin() as conn:  # back to the revision before token_extras, as an older authmcp left it
        await conn.run_sync(lambda c: downgrade_to(c, "0004"))
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("connections")})
    assert "token_extras" not in columns
    with pytest.raises(ConfigError, match="run `authmcp db upgrade`"):
        await open_vault(db_url, env_keys=[], key_file=keys)

    config = tmp_path / "authmcp.toml"
    config.write_text(f'database_url = "{db_url}"\ndata_dir = "{tmp_path / "data"}"\n')
    result = await db_upgrade(config)
    assert result.exit_code == 0, result.output
    assert await revision(engine) == head_revision()

    vault = await open_vault(db_url, env_keys=[], key_file=keys)
    try:
        kept = await vault.get_connection("alice", "salesforce")
        assert kept is not None and kept.access_token == "at-1" and kept.user_info == {"sub": "005x"}
        assert kept.token_extras == {}
        extras = {"instance_url": "https://yourInstance.my.salesforce.com"}
        await vault.save_connection(
            "alice",
            "salesforce",
            access_token="at-2",
            refresh_token="rt-2",
            token_type="Bearer",
            expires_at=None,
            scopes=["api"],
            token_extras=extras,
        )
        again = await vault.get_connection("alice", "salesforce")
        assert again is not None and again.token_extras == extras and again.user_info == {"sub": "005x"}
    finally:
        await vault.aclose()


def test_readiness_refuses_a_schema_behind_and_accepts_this_or_a_newer_one() -> None:
    from mcp_server.vault.migrate import HEAD, schema_behind

    assert schema_behind(HEAD) is None
    assert schema_behind(f"{int(HEAD) + 1:04d}") is None  # the old replicas of a rolling upgrade stay ready
    older = schema_behind(f"{int(HEAD) - 1:04d}")
    assert older is not None and "authmcp db upgrade" in older and f"at revision {int(HEAD) - 1:04d}" in older
    empty = schema_behind(None)
    assert empty is not None and "empty" in empty
