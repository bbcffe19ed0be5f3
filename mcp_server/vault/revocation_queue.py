"""The vault's queue of tokens to revoke at their provider (RFC 7009), filled by `Vault.disconnect` in the same
transaction that removes the connection, emptied by the maintenance loop, which retries with a back-off while a
provider is down. Mixed into `Vault`, whose engine and keyring it uses."""

from __future__ import annotations

import time

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_server.vault.keyring import Keyring
from mcp_server.vault.outages import translate_outages
from mcp_server.vault.records import PendingRevocation
from mcp_server.vault.schema import revocations
from mcp_server.vault.sealing import revocation_context

__all__ = ["RevocationQueue"]


@translate_outages
class RevocationQueue:
    engine: AsyncEngine
    reader: AsyncEngine
    keyring: Keyring

    async def due_revocations(self, limit: int = 50) -> list[PendingRevocation]:
        query = (
            select(revocations)
            .where(revocations.c.next_attempt_at <= time.time())
            .order_by(revocations.c.next_attempt_at)
            .limit(limit)
        )
        async with self.reader.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            PendingRevocation(
                id=row["id"],
                user_id=row["user_id"],
                provider_id=row["provider_id"],
                token=self.keyring.decrypt(row["token"], revocation_context(row["id"])),
                token_type_hint=row["token_type_hint"],
                attempts=row["attempts"],
            )
            for row in rows
        ]

    async def finish_revocation(self, revocation_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(revocations.delete().where(revocations.c.id == revocation_id))

    async def postpone_revocation(self, revocation_id: str, *, delay: float, error: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(revocations)
                .where(revocations.c.id == revocation_id)
                .values(attempts=revocations.c.attempts + 1, next_attempt_at=time.time() + delay, last_error=error)
            )

    async def count_revocations(self) -> int:
        async with self.reader.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(revocations))).scalar_one())
