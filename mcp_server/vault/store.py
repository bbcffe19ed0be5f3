"""The vault: connections (a user's tokens at a provider) and authorization flows, encrypted at rest.

One code path for SQLite and PostgreSQL (SQLAlchemy Core, async). Every method is one short transaction, and
raises `StorageUnavailable` when the database is locked, full, read-only or unreachable (see outages.py).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, event, func, insert, select, update
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from mcp_server.errors import ConfigError, KeyringError
from mcp_server.vault.bookkeeping import Bookkeeping, connection_row
from mcp_server.vault.events import FlowNotices, PostgresFlowNotices
from mcp_server.vault.flow_store import Flow, FlowStore
from mcp_server.vault.keyring import Keyring
from mcp_server.vault.local_notices import LocalFlowNotices
from mcp_server.vault.migrate import check_schema
from mcp_server.vault.outages import translate_outages
from mcp_server.vault.records import Connection, PendingRevocation
from mcp_server.vault.revocation_queue import RevocationQueue
from mcp_server.vault.rotation import KeyUpkeep
from mcp_server.vault.schema import connections, revocations, user_secrets
from mcp_server.vault.sealing import connection_context, revocation_context, secret_context

__all__ = ["Connection", "Flow", "PendingRevocation", "Vault", "async_database_url"]

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000


def async_database_url(url: str) -> str:
    """Map a plain database URL to the async driver authmcp uses for it."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+aiosqlite"):
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if parsed.drivername in ("postgresql", "postgres", "postgresql+asyncpg"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ConfigError(f"database_url must start with sqlite:/// or postgresql://, not {parsed.drivername}://")


@translate_outages
class Vault(Bookkeeping, FlowStore, RevocationQueue, KeyUpkeep):
    """Storage for connections and flows. Create with `Vault.open`, close with `aclose`."""

    def __init__(self, engine: AsyncEngine, keyring: Keyring):
        self._engine = engine
        self._reader = engine.execution_options(authmcp_read_only=True)
        self._lookups = _lookup_engine(engine)
        # SQLite: the lookup's SQL, run on the driver itself (`_lookup_sqlite`)
        self._lookup_sql = str(_LOOKUP.compile(dialect=engine.dialect)) if engine.dialect.name == "sqlite" else None
        self.keyring = keyring
        self.dialect = engine.dialect.name
        # finished flows, announced to the other processes on this database (PostgreSQL: LISTEN/NOTIFY)
        self.notices: FlowNotices = _notices_for(engine)

    @classmethod
    def create_engine(cls, database_url: str) -> AsyncEngine:
        url = async_database_url(database_url)
        if url.startswith("sqlite"):
            path = make_url(url).database
            if path and path != ":memory:":
                folder = Path(path).parent
                try:
                    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                except OSError as exc:
                    raise ConfigError(
                        f"Cannot use {folder} for the database ({exc.strerror}); set data_dir (or database_url) to "
                        f"a folder you can write."
                    ) from None
            engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
            event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
            return engine
        return create_async_engine(url, pool_pre_ping=True)

    @classmethod
    async def open(
        cls,
        engine: AsyncEngine,
        keyring: Keyring,
        *,
        check_keys: bool = True,
        schema: tuple[bool, bool] = (True, False),
    ) -> Vault:
        """Check the schema and that `keyring` can read what is stored. `schema`: (create it in an empty database,
        upgrade an older one), as `Settings.schema_at_start` says.

        Raises:
            ConfigError: The schema needs `authmcp db upgrade` (or was written by a newer authmcp).
            KeyringError: The stored data needs keys that are not configured.
        """
        async with engine.begin() as conn:
            await check_schema(conn, create=schema[0], upgrade=schema[1])
        vault = cls(engine, keyring)
        if not check_keys:
            return vault
        missing = set(await vault.stored_key_ids()) - set(keyring.key_ids)
        if missing:
            raise KeyringError(
                f"The database holds tokens encrypted with key(s) {', '.join(sorted(missing))}, which are not "
                f"configured. Restore the key file or AUTHMCP_ENCRYPTION_KEYS that wrote them; never replace them "
                f"with a new key."
            )
        return vault

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def aclose(self) -> None:
        await self.notices.aclose()
        if self._lookups is not self._engine:
            await self._lookups.dispose()
        await self._engine.dispose()

    async def stored_key_ids(self) -> list[str]:
        return list(await self.keys_in_use())

    # ---------------------------------------------------------------- connections

    async def get_connection(self, user_id: str, provider_id: str) -> Connection | None:
        """The user's connection to a provider, decrypted.

        Raises:
            DecryptionError: The stored ciphertext does not belong to this row or its key is gone.
        """
        if self._lookup_sql is not None:
            row = await self._lookup_sqlite(user_id, provider_id)
            return self._decode_connection(row) if row else None
        for attempt in (1, 2):
            try:
                async with self._lookups.connect() as conn:
                    found = (await conn.execute(_LOOKUP, {"user_id": user_id, "provider_id": provider_id})).first()
                break
            except DBAPIError as exc:  # a pooled connection the server dropped: the pool is renewed, read once more
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        return self._decode_connection(found._mapping) if found else None

    async def _lookup_sqlite(self, user_id: str, provider_id: str) -> dict[str, Any] | None:
        """`_LOOKUP` on the aiosqlite connection itself: one hop to its thread, where SQLAlchemy's cursor makes four
        (open, execute, fetch, close), each a wait for a thread switch that a busy machine makes long."""
        assert self._lookup_sql is not None
        params = (user_id, provider_id)
        async with self._lookups.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None  # an aiosqlite connection
            try:
                rows = list(await driver.execute_fetchall(self._lookup_sql, params))
            except sqlite3.Error as exc:  # as SQLAlchemy would raise it, so outages.py reads it the same way
                raise DBAPIError.instance(self._lookup_sql, params, exc, sqlite3.Error) from None
        return dict(zip(_LOOKUP_COLUMNS, rows[0])) if rows else None

    async def list_connections(
        self, user_id: str | None = None, provider_id: str | None = None, *, limit: int | None = None, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """Connections without their tokens, for display, and how many match in all."""
        where = [
            c
            for c in (
                connections.c.user_id == user_id if user_id is not None else None,
                connections.c.provider_id == provider_id if provider_id is not None else None,
            )
            if c is not None
        ]
        query = (
            select(
                connections.c.id,
                connections.c.user_id,
                connections.c.provider_id,
                connections.c.status,
                connections.c.scopes,
                connections.c.expires_at,
                connections.c.created_at,
                connections.c.updated_at,
                connections.c.last_used_at,
                connections.c.user_info,
            )
            .where(*where)
            .order_by(connections.c.user_id, connections.c.provider_id)
            .offset(offset)
            .limit(limit)
        )
        count = select(func.count()).select_from(connections).where(*where)
        async with self._reader.connect() as conn:
            rows = [dict(row) for row in (await conn.execute(query)).mappings()]
            total = int((await conn.execute(count)).scalar_one())
        for row in rows:
            row["user_info"] = json.loads(row["user_info"] or "{}")
        return rows, total

    async def connection_owner(self, connection_id: int) -> tuple[str, str] | None:
        """The (user, provider) of the connection with this id."""
        query = select(connections.c.user_id, connections.c.provider_id).where(connections.c.id == connection_id)
        async with self._reader.connect() as conn:
            row = (await conn.execute(query)).first()
        return (row[0], row[1]) if row else None

    async def save_connection(
        self,
        user_id: str,
        provider_id: str,
        *,
        access_token: str,
        refresh_token: str | None,
        token_type: str,
        expires_at: float | None,
        scopes: Sequence[str],
        user_info: dict[str, Any] | None = None,
        token_extras: dict[str, str] | None = None,
        conn: AsyncConnection | None = None,
    ) -> Connection:
        """Insert or replace the user's connection to a provider, as one unit (access and refresh together).

        `user_info` and `token_extras` left as None keep what was stored.
        """
        if conn is None:  # on its own: announced here (a finished flow's is announced as the flow's)
            change = ("connection", user_id, provider_id)
            async with self._engine.begin() as own:
                saved = await self.save_connection(
                    user_id,
                    provider_id,
                    access_token=access_token,
                    refresh_token=refresh_token,
                    token_type=token_type,
                    expires_at=expires_at,
                    scopes=scopes,
                    user_info=user_info,
                    token_extras=token_extras,
                    conn=own,
                )
                await self.notices.announce_change(own, change)
            self.notices.change_committed(change)
            return saved
        now = time.time()
        values = self._connection_values(
            user_id,
            provider_id,
            access_token=access_token,
            refresh_token=refresh_token,
            token_type=token_type,
            expires_at=expires_at,
            scopes=scopes,
            user_info=user_info,
            token_extras=token_extras,
        )
        result = await conn.execute(
            update(connections)
            .where(connection_row(user_id, provider_id))
            .values(**values, version=connections.c.version + 1)
        )
        if result.rowcount == 0:
            values.setdefault("user_info", "{}")
            await conn.execute(
                insert(connections).values(
                    user_id=user_id, provider_id=provider_id, version=1, created_at=now, **values
                )
            )
        row = (await conn.execute(self._select_connection(user_id, provider_id))).mappings().one()
        return self._decode_connection(row)

    async def save_refreshed(self, user_id: str, provider_id: str, *, owner: str, **tokens: Any) -> Connection | None:
        """Store a refresh's answer (`save_connection`'s token arguments), only while `owner` still holds the
        refresh lease: a fence, so a holder whose lease was taken over never overwrites newer tokens. None if the
        lease is no longer `owner`'s."""
        values = self._connection_values(user_id, provider_id, user_info=None, **tokens)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(connections)
                .where(connection_row(user_id, provider_id), connections.c.lease_owner == owner)
                .values(**values, version=connections.c.version + 1)
            )
            if result.rowcount != 1:
                return None
            row = (await conn.execute(self._select_connection(user_id, provider_id))).mappings().one()
            await self.notices.announce_change(conn, ("connection", user_id, provider_id))
        self.notices.change_committed(("connection", user_id, provider_id))
        return self._decode_connection(row)

    def _connection_values(
        self,
        user_id: str,
        provider_id: str,
        *,
        access_token: str,
        refresh_token: str | None,
        token_type: str,
        expires_at: float | None,
        scopes: Sequence[str],
        user_info: dict[str, Any] | None,
        token_extras: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "status": "active",
            "scopes": " ".join(scopes),
            "access_token": self.keyring.encrypt(
                access_token, connection_context(user_id, provider_id, "access_token")
            ),
            "refresh_token": (
                self.keyring.encrypt(refresh_token, connection_context(user_id, provider_id, "refresh_token"))
                if refresh_token
                else None
            ),
            "token_type": token_type,
            "expires_at": expires_at,
            "key_id": self.keyring.primary_key_id,
            "updated_at": time.time(),
            "lease_owner": None,
            "lease_until": None,
        }
        if user_info is not None:
            values["user_info"] = json.dumps(user_info)
        if token_extras is not None:
            values["token_extras"] = json.dumps(token_extras)
        return values

    async def set_connection_status(self, user_id: str, provider_id: str, status: str) -> None:
        change = ("connection", user_id, provider_id)
        async with self._engine.begin() as conn:
            await conn.execute(
                update(connections)
                .where(connections.c.user_id == user_id, connections.c.provider_id == provider_id)
                .values(
                    status=status,
                    updated_at=time.time(),
                    version=connections.c.version + 1,
                    lease_owner=None,
                    lease_until=None,
                )
            )
            await self.notices.announce_change(conn, change)
        self.notices.change_committed(change)

    async def disconnect(self, user_id: str, provider_id: str, revocation_id: str) -> bool:
        """Remove the connection at once and queue its token for revocation at the provider, in one transaction.

        The refresh token is queued when there is one (revoking it ends the grant, RFC 7009 §2.1), else the
        access token. Returns whether there was a connection.
        """
        async with self._engine.begin() as conn:
            row = (await conn.execute(self._select_connection(user_id, provider_id))).mappings().first()
            if row is None:
                return False
            connection = self._decode_connection(row)
            token, hint = (
                (connection.refresh_token, "refresh_token")
                if connection.refresh_token
                else (connection.access_token, "access_token")
            )
            await conn.execute(
                insert(revocations).values(
                    id=revocation_id,
                    user_id=user_id,
                    provider_id=provider_id,
                    token=self.keyring.encrypt(token, revocation_context(revocation_id)),
                    token_type_hint=hint,
                    key_id=self.keyring.primary_key_id,
                    attempts=0,
                    next_attempt_at=time.time(),
                    created_at=time.time(),
                )
            )
            await conn.execute(connections.delete().where(connections.c.id == row["id"]))
            await self.notices.announce_change(conn, ("connection", user_id, provider_id))
        self.notices.change_committed(("connection", user_id, provider_id))
        return True

    def _select_connection(self, user_id: str, provider_id: str) -> Any:
        return select(connections).where(connections.c.user_id == user_id, connections.c.provider_id == provider_id)

    def _decode_connection(self, row: Any) -> Connection:
        user_id, provider_id = row["user_id"], row["provider_id"]
        refresh = row["refresh_token"]
        return Connection(
            user_id=user_id,
            provider_id=provider_id,
            status=row["status"],
            scopes=tuple(row["scopes"].split()),
            access_token=self.keyring.decrypt(
                row["access_token"], connection_context(user_id, provider_id, "access_token")
            ),
            refresh_token=(
                self.keyring.decrypt(refresh, connection_context(user_id, provider_id, "refresh_token"))
                if refresh
                else None
            ),
            token_type=row["token_type"],
            expires_at=row["expires_at"],
            user_info=json.loads(row["user_info"] or "{}"),
            version=row["version"],
            updated_at=row["updated_at"],
            token_extras=json.loads(row["token_extras"] or "{}"),
        )

    # ---------------------------------------------------------------- secrets users type in

    async def get_user_secret(self, user_id: str, name: str) -> str | None:
        query = select(user_secrets.c.value).where(user_secrets.c.user_id == user_id, user_secrets.c.name == name)
        async with self._reader.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return self.keyring.decrypt(value, secret_context(user_id, name)) if value is not None else None

    async def count_connections(self) -> int:
        async with self._reader.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(connections))).scalar_one())


# The read on every first call of a user: built once; run on its own pool (`_lookup_engine`).
_LOOKUP = select(connections).where(
    connections.c.user_id == bindparam("user_id"), connections.c.provider_id == bindparam("provider_id")
)

_LOOKUP_COLUMNS = tuple(column.name for column in connections.c)


def _lookup_engine(engine: AsyncEngine) -> AsyncEngine:
    """A pool for the single-statement reads on the call path, in autocommit: no BEGIN, no ROLLBACK, no ping
    (each a round trip, or several thread hops with aiosqlite), so a read is one statement. A connection the server
    dropped fails that one read, which is retried (see `get_connection`). An in-memory SQLite database exists in
    one connection only, so it keeps the one pool."""
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


def _notices_for(engine: AsyncEngine) -> FlowNotices:
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
