"""The vault's connections table: a user's tokens at a provider, encrypted at rest (the associated data of each
column is sealing.py's). Mixed into `Vault`, whose engines, keyring and notices it uses; the lease and "last used"
bookkeeping on the same rows is bookkeeping.py's."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mcp_server.vault.bookkeeping import connection_row
from mcp_server.vault.events import FlowNotices
from mcp_server.vault.keyring import Keyring
from mcp_server.vault.outages import translate_outages
from mcp_server.vault.records import Connection
from mcp_server.vault.schema import connections, revocations
from mcp_server.vault.sealing import connection_context, revocation_context

__all__ = ["ConnectionStore", "sqlite_lookup_sql"]


_LOOKUP = select(connections).where(
    connections.c.user_id == bindparam("user_id"), connections.c.provider_id == bindparam("provider_id")
)

_LOOKUP_COLUMNS = tuple(column.name for column in connections.c)


def sqlite_lookup_sql(engine: AsyncEngine) -> str | None:
    """On SQLite, the lookup's SQL, to run on the driver itself (`ConnectionStore._lookup_sqlite`); else None."""
    return str(_LOOKUP.compile(dialect=engine.dialect)) if engine.dialect.name == "sqlite" else None


@translate_outages
class ConnectionStore:
    engine: AsyncEngine
    reader: AsyncEngine
    lookups: AsyncEngine  # autocommit, for `get_connection` (engine.py's `lookup_engine`)
    lookup_sql: str | None  # `sqlite_lookup_sql`
    keyring: Keyring
    notices: FlowNotices

    async def get_connection(self, user_id: str, provider_id: str) -> Connection | None:
        """The user's connection to a provider, decrypted.

        Raises:
            DecryptionError: The stored ciphertext does not belong to this row or its key is gone.
        """
        if self.lookup_sql is not None:
            row = await self._lookup_sqlite(user_id, provider_id)
            return self._decode_connection(row) if row else None
        for attempt in (1, 2):
            try:
                async with self.lookups.connect() as conn:
                    found = (await conn.execute(_LOOKUP, {"user_id": user_id, "provider_id": provider_id})).first()
                break
            except DBAPIError as exc:  # a pooled connection the server dropped: the pool is renewed, read once more
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        return self._decode_connection(found._mapping) if found else None

    async def _lookup_sqlite(self, user_id: str, provider_id: str) -> dict[str, Any] | None:
        """`_LOOKUP` on the aiosqlite connection itself: one hop to its thread, where SQLAlchemy's cursor makes four
        (open, execute, fetch, close), each a wait for a thread switch that a busy machine makes long."""
        assert self.lookup_sql is not None
        params = (user_id, provider_id)
        async with self.lookups.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None  # an aiosqlite connection
            try:
                rows = list(await driver.execute_fetchall(self.lookup_sql, params))
            except sqlite3.Error as exc:  # as SQLAlchemy would raise it, so outages.py reads it the same way
                raise DBAPIError.instance(self.lookup_sql, params, exc, sqlite3.Error) from None
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
        async with self.reader.connect() as conn:
            rows = [dict(row) for row in (await conn.execute(query)).mappings()]
            total = int((await conn.execute(count)).scalar_one())
        for row in rows:
            row["user_info"] = json.loads(row["user_info"] or "{}")
        return rows, total

    async def connection_owner(self, connection_id: int) -> tuple[str, str] | None:
        """The (user, provider) of the connection with this id."""
        query = select(connections.c.user_id, connections.c.provider_id).where(connections.c.id == connection_id)
        async with self.reader.connect() as conn:
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
        if conn is not None:
            return await self._upsert_connection(conn, user_id, provider_id, values)
        change = ("connection", user_id, provider_id)  # on its own: announced here (a flow's, as the flow's)
        async with self.engine.begin() as own:
            saved = await self._upsert_connection(own, user_id, provider_id, values)
            await self.notices.announce_change(own, change)
        self.notices.change_committed(change)
        return saved

    async def _upsert_connection(
        self, conn: AsyncConnection, user_id: str, provider_id: str, values: dict[str, Any]
    ) -> Connection:
        result = await conn.execute(
            update(connections)
            .where(connection_row(user_id, provider_id))
            .values(**values, version=connections.c.version + 1)
        )
        if result.rowcount == 0:
            values.setdefault("user_info", "{}")
            await conn.execute(
                insert(connections).values(
                    user_id=user_id, provider_id=provider_id, version=1, created_at=time.time(), **values
                )
            )
        row = (await conn.execute(self._select_connection(user_id, provider_id))).mappings().one()
        return self._decode_connection(row)

    async def save_refreshed(self, user_id: str, provider_id: str, *, owner: str, **tokens: Any) -> Connection | None:
        """Store a refresh's answer (`save_connection`'s token arguments), only while `owner` still holds the
        refresh lease: a fence, so a holder whose lease was taken over never overwrites newer tokens. None if the
        lease is no longer `owner`'s."""
        values = self._connection_values(user_id, provider_id, user_info=None, **tokens)
        async with self.engine.begin() as conn:
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
        async with self.engine.begin() as conn:
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
        async with self.engine.begin() as conn:
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

    async def count_connections(self) -> int:
        async with self.reader.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(connections))).scalar_one())
