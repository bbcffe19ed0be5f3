"""The database engine under the vault: the async driver for a URL, SQLite's settings (WAL, a busy timeout,
writing transactions that take the lock up front), the autocommit pool for the reads on the call path, and
how finished flows are announced between processes on this database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from mcp_server.errors import ConfigError
from mcp_server.vault.events import FlowNotices, PostgresFlowNotices
from mcp_server.vault.local_notices import LocalFlowNotices

__all__ = ["async_database_url", "create_engine", "lookup_engine", "notices_for"]

SQLITE_BUSY_TIMEOUT_MS = 5000


def async_database_url(url: str) -> str:
    """Map a plain database URL to the async driver authmcp uses for it."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+aiosqlite"):
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if parsed.drivername in ("postgresql", "postgres", "postgresql+asyncpg"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ConfigError(f"database_url must start with sqlite:/// or postgresql://, not {parsed.drivername}://")


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite `database_url`, its folder made (0700) if missing; None for PostgreSQL or `:memory:`.

    Raises:
        ConfigError: The URL is not SQLite or PostgreSQL, or the file's folder cannot be made.
    """
    url = async_database_url(database_url)
    path = make_url(url).database if url.startswith("sqlite") else None
    if not path or path == ":memory:":
        return None
    folder = Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(
            f"Cannot use {folder} for the database ({exc.strerror}); set data_dir (or database_url) to "
            f"a folder you can write."
        ) from None
    return Path(path)


def create_engine(database_url: str) -> AsyncEngine:
    """The engine for `database_url`; for SQLite, its folder is made (0700) if missing.

    Raises:
        ConfigError: The URL is not SQLite or PostgreSQL, or the SQLite file's folder cannot be made.
    """
    url = async_database_url(database_url)
    if url.startswith("sqlite"):
        sqlite_file(database_url)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def lookup_engine(engine: AsyncEngine) -> AsyncEngine:
    """A pool for the single-statement reads on the call path, in autocommit: no BEGIN, no ROLLBACK, no ping
    (each a round trip, or several thread hops with aiosqlite), so a read is one statement. A connection the server
    dropped fails that one read, which is retried (see `ConnectionStore.get_connection`). An in-memory SQLite
    database exists in one connection only, so it keeps the one pool."""
    url = engine.url
    if engine.dialect.name == "sqlite":
        if not url.database or url.database == ":memory:":
            return engine
        lookups = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
        )
        event.listen(lookups.sync_engine, "connect", _sqlite_on_connect)
        return lookups
    return create_async_engine(url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)


def notices_for(engine: AsyncEngine) -> FlowNotices:
    if engine.dialect.name == "postgresql":
        return PostgresFlowNotices(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    path = engine.url.database
    if path and path != ":memory:":
        return LocalFlowNotices(Path(path))
    return FlowNotices()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit transactions are off), and
    # use WAL so readers never wait for the writer.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_on_begin(conn: SyncConnection) -> None:
    # A writing transaction takes the write lock up front (IMMEDIATE), so a read-modify-write cannot fail
    # half-way with "database is locked" after reading stale data. Reads stay deferred and never wait.
    read_only = conn.get_execution_options().get("authmcp_read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
