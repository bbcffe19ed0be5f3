"""Schema migrations (Alembic), run from async code on one connection of the vault's engine.

`schema.py` is the source of truth; every change to it comes with a revision in `migrations/versions/`.
Start-up (`Vault.open`) calls `check_schema`: an empty database is brought to the newest revision when the
process may create it (the embedded SQLite default, so the quick start needs no extra command; on PostgreSQL
only with `migrate_on_start`); a database at an older revision refuses to start until `authmcp db upgrade` runs
`upgrade`. `stored_revision` is what `/readyz` reads. Several processes starting at once on PostgreSQL take an
advisory lock, so only one creates the tables.

Alembic is imported only when a migration runs or a revision must be explained: a start on a database at
`HEAD` reads the revision with one query (Alembic and its templates cost a tenth of a second to import).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection as SyncConnection

from mcp_server.errors import ConfigError
from mcp_server.vault.schema import metadata

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["HEAD", "check_schema", "head_revision", "schema_behind", "stored_revision", "upgrade"]

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema authmcp created with `create_all` before it had migrations
_LOCK_ID = 0x61757468  # pg_advisory_xact_lock key: "auth"
HEAD = "0008"  # the newest revision in migrations/versions/ (a test holds it to Alembic's own head)
_VERSION_TABLE = "alembic_version"
UPGRADE_HINT = "run `authmcp db upgrade` (with the same --config) and start again; back up the database first"


def _script() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def _state(conn: SyncConnection) -> tuple[str | None, bool]:
    """(the stored revision, whether any authmcp table exists)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    tables = set(inspect(conn).get_table_names())
    revision = _revision(conn) if _VERSION_TABLE in tables else None
    return revision, bool(tables & set(metadata.tables))


def _revision(conn: SyncConnection) -> str | None:
    """What Alembic's get_current_revision reads, without importing Alembic."""
    rows = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise ConfigError(f"The database records several schema revisions ({', '.join(rows)}): {UPGRADE_HINT}.")
    return rows[0] if rows else None


def stored_revision(conn: SyncConnection) -> str | None:
    """The schema revision the database records (None: no authmcp schema), in one query and no lock."""
    if conn.dialect.name == "postgresql":
        found = conn.execute(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": _VERSION_TABLE}).scalar()
    else:
        found = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": _VERSION_TABLE}
        ).scalar()
    return _revision(conn) if found else None


def schema_behind(revision: str | None) -> str | None:
    """Why a database at `revision` cannot be served by this authmcp (None: it can). A newer revision than this
    version's can: during a rolling upgrade the old replicas keep serving once the new version's upgrade ran.
    (Revisions are numbered in order, "0001", "0002", ..., so they compare as strings.)"""
    if revision is not None and revision >= HEAD:
        return None
    found = f"at revision {revision}" if revision else "empty (no authmcp schema)"
    return f"the database schema is {found}; this authmcp needs {HEAD}: run `authmcp db upgrade`"


def _run(conn: SyncConnection, destination: str, *, stamp: str | None = None) -> None:
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext

    script = _script()
    if stamp is not None:
        MigrationContext.configure(conn).stamp(script, stamp)

    def steps(revision: Any, _context: Any) -> Any:
        return script._upgrade_revs(destination, revision)

    with EnvironmentContext(Config(), script, fn=steps, destination_rev=destination) as env:
        env.configure(connection=conn, target_metadata=metadata)
        with env.begin_transaction():
            env.run_migrations()


def _check_sync(conn: SyncConnection, create: bool) -> None:
    revision, has_tables = _state(conn)
    if revision == HEAD:
        return
    head = head_revision()
    if revision is None and not has_tables and not create:
        raise ConfigError(
            "The database has no authmcp schema yet: run `authmcp db upgrade` (with the same --config) first, "
            "or set migrate_on_start = true."
        )
    if revision is None and not has_tables:
        logger.info("empty database: creating the schema (revision %s)", head)
        _run(conn, head)
        return
    known = {r.revision for r in _script().walk_revisions()}
    if revision is not None and revision not in known:
        raise ConfigError(
            f"The database schema is at revision {revision}, which this authmcp does not know: it was written by a "
            f"newer version. Upgrade authmcp on every process."
        )
    found = f"at revision {revision}" if revision else "from before schema migrations (no revision recorded)"
    raise ConfigError(f"The database schema is out of date ({found}; this authmcp needs {head}): {UPGRADE_HINT}.")


def _upgrade_sync(conn: SyncConnection) -> tuple[str | None, str]:
    revision, has_tables = _state(conn)
    head = head_revision()
    if revision == head:
        return revision, head
    stamp = BASELINE if revision is None and has_tables else None
    if stamp:
        logger.info("tables from before schema migrations: recording them as revision %s", BASELINE)
    _run(conn, head, stamp=stamp)
    return revision or ("an unversioned schema" if has_tables else None), head


async def check_schema(conn: AsyncConnection, *, create: bool = True, upgrade: bool = False) -> None:
    """Create the schema in an empty database (if `create`) or bring an older one to the newest revision (if
    `upgrade`); otherwise refuse (ConfigError) a database that needs `authmcp db upgrade`."""
    if upgrade:
        await conn.run_sync(_upgrade_sync)
    else:
        await conn.run_sync(_check_sync, create)


async def upgrade(conn: AsyncConnection) -> tuple[str | None, str]:
    """Bring the schema to the newest revision. Returns (the revision before, the revision now)."""
    return await conn.run_sync(_upgrade_sync)
