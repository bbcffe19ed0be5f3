"""The vault's bookkeeping on connections, apart from their tokens: the refresh lease (who may use the refresh
token now) and when each connection was last used. Mixed into `Vault`, whose engine it uses."""

from __future__ import annotations

import time

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_server.vault.outages import translate_outages
from mcp_server.vault.schema import connections

__all__ = ["Bookkeeping", "connection_row"]


def connection_row(user_id: str, provider_id: str) -> ColumnElement[bool]:
    return and_(connections.c.user_id == user_id, connections.c.provider_id == provider_id)


@translate_outages
class Bookkeeping:
    engine: AsyncEngine
    reader: AsyncEngine

    async def acquire_refresh_lease(
        self,
        user_id: str,
        provider_id: str,
        *,
        owner: str,
        version: int,
        seconds: float,
        from_holder: str | None = None,
    ) -> bool:
        """Become the only one to refresh this connection, if it is still at `version` and nobody else holds the
        lease (or, with `from_holder`, that holder still does: one known to be gone, taken over).

        The lease is a row-level lock that works alike on SQLite and PostgreSQL and is never held across the
        HTTP request in a database transaction; it ends when the connection is saved or `seconds` pass.
        """
        now = time.time()
        free = (
            or_(connections.c.lease_until.is_(None), connections.c.lease_until < now)
            if from_holder is None
            else connections.c.lease_owner == from_holder
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(connections)
                .where(
                    connection_row(user_id, provider_id),
                    connections.c.version == version,
                    connections.c.status == "active",
                    free,
                )
                .values(lease_owner=owner, lease_until=now + seconds)
            )
        return result.rowcount == 1

    async def refresh_lease_holder(self, user_id: str, provider_id: str) -> str | None:
        """Who holds an unexpired refresh lease on this connection, if anyone."""
        query = select(connections.c.lease_owner).where(
            connection_row(user_id, provider_id), connections.c.lease_until >= time.time()
        )
        async with self.reader.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def clear_leases_of(self, instance_id: str) -> int:
        """Release every refresh lease an instance (a process now gone) held. Returns how many."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(connections)
                .where(connections.c.lease_owner.like(f"{instance_id}:%"))
                .values(lease_owner=None, lease_until=None)
            )
        return result.rowcount

    async def release_refresh_lease(self, user_id: str, provider_id: str, *, owner: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(connections)
                .where(connection_row(user_id, provider_id), connections.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    async def touch_connections(self, used: dict[tuple[str, str], float]) -> None:
        """Record when connections were last used (for `authmcp connections list`), in one transaction."""
        async with self.engine.begin() as conn:
            for (user_id, provider_id), when in used.items():
                await conn.execute(
                    update(connections).where(connection_row(user_id, provider_id)).values(last_used_at=when)
                )
