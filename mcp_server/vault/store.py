"""The vault: connections (a user's tokens at a provider) and authorization flows, encrypted at rest.

One code path for SQLite and PostgreSQL (SQLAlchemy Core, async). Every method is one short transaction, and
raises `StorageUnavailable` when the database is locked, full, read-only or unreachable (see outages.py).
`Vault` is assembled from one store per table (connection_store.py, flow_store.py, revocation_queue.py,
bookkeeping.py) and the key upkeep (rotation.py), over the engine that engine.py makes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_server.errors import KeyringError
from mcp_server.vault.bookkeeping import Bookkeeping
from mcp_server.vault.connection_store import ConnectionStore, sqlite_lookup_sql
from mcp_server.vault.engine import async_database_url, lookup_engine, notices_for
from mcp_server.vault.engine import create_engine as engine_for
from mcp_server.vault.events import FlowNotices
from mcp_server.vault.flow_records import Flow
from mcp_server.vault.flow_store import FlowStore
from mcp_server.vault.keyring import Keyring
from mcp_server.vault.migrate import check_schema
from mcp_server.vault.outages import translate_outages
from mcp_server.vault.records import Connection, PendingRevocation
from mcp_server.vault.revocation_queue import RevocationQueue
from mcp_server.vault.rotation import KeyUpkeep
from mcp_server.vault.schema import user_secrets
from mcp_server.vault.sealing import secret_context

__all__ = ["Connection", "Flow", "PendingRevocation", "Vault", "async_database_url"]


@translate_outages
class Vault(FlowStore, ConnectionStore, Bookkeeping, RevocationQueue, KeyUpkeep):
    """Storage for connections and flows. Create with `Vault.open`, close with `aclose`."""

    def __init__(self, engine: AsyncEngine, keyring: Keyring):
        self.engine = engine
        self.reader = engine.execution_options(authmcp_read_only=True)
        self.lookups = lookup_engine(engine)
        self.lookup_sql = sqlite_lookup_sql(engine)
        self.keyring = keyring
        self.dialect = engine.dialect.name
        # finished flows, announced to the other processes on this database (PostgreSQL: LISTEN/NOTIFY)
        self.notices: FlowNotices = notices_for(engine)

    @classmethod
    def create_engine(cls, database_url: str) -> AsyncEngine:
        return engine_for(database_url)

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

    async def aclose(self) -> None:
        await self.notices.aclose()
        if self.lookups is not self.engine:
            await self.lookups.dispose()
        await self.engine.dispose()

    async def stored_key_ids(self) -> list[str]:
        return list(await self.keys_in_use())

    # ---------------------------------------------------------------- secrets users type in

    async def get_user_secret(self, user_id: str, name: str) -> str | None:
        query = select(user_secrets.c.value).where(user_secrets.c.user_id == user_id, user_secrets.c.name == name)
        async with self.reader.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return self.keyring.decrypt(value, secret_context(user_id, name)) if value is not None else None
