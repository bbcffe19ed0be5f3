"""Re-encrypting every stored value with a keyring's first key: every encrypted column of every table.

Online and resumable: small batches, each its own short transaction, so a running `serve` keeps writing
between them; each row is rewritten only if it still holds what was read (a concurrent write wins, and the
next pass looks again); an interrupted run is finished by the next, which starts from the rows still on an
old key. Passes repeat until no row is left on an old key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_server.vault.keyring import Keyring
from mcp_server.vault.outages import translate_outages
from mcp_server.vault.schema import (
    connections,
    digest_keys,
    flows,
    front_door_requests,
    oauth_clients,
    revocations,
    user_secrets,
)
from mcp_server.vault.sealing import (
    client_context,
    connection_context,
    digest_key_context,
    flow_context,
    request_context,
    revocation_context,
    secret_context,
)

__all__ = ["KeyUpkeep", "reencrypt"]

BATCH_ROWS = 200
MAX_PASSES = 20  # a row rewritten by a writer on an old key, pass after pass, is a misconfigured replica

Context = Callable[[Any, str], str]

# (table, its encrypted columns, the associated data of a column of a row)
_SEALED: list[tuple[Table, tuple[str, ...], Context]] = [
    (
        connections,
        ("access_token", "refresh_token"),
        lambda r, c: connection_context(r["user_id"], r["provider_id"], c),
    ),
    (flows, ("code_verifier", "held_tokens"), lambda r, c: flow_context(r["id"], c)),
    (user_secrets, ("value",), lambda r, _c: secret_context(r["user_id"], r["name"])),
    (revocations, ("token",), lambda r, _c: revocation_context(r["id"])),
    (digest_keys, ("value",), lambda r, _c: digest_key_context(r["id"])),
    (oauth_clients, ("client_secret",), lambda r, _c: client_context(r["id"])),
    (front_door_requests, ("secrets",), lambda r, _c: request_context(r["id"])),
]


async def reencrypt(engine: AsyncEngine, keyring: Keyring) -> int:
    """Rewrite every value not yet under `keyring`'s first key with it; `keyring` must hold the old keys too.
    Returns how many rows were rewritten.

    Raises:
        DecryptionError: A value's key is not in `keyring`.
    """
    total = 0
    for _ in range(MAX_PASSES):
        done = 0
        for table, columns, context in _SEALED:
            done += await _table(engine, keyring, table, columns, context)
        total += done
        if done == 0:
            return total
    return total


async def _table(
    engine: AsyncEngine, keyring: Keyring, table: Table, columns: tuple[str, ...], context: Context
) -> int:
    primary = keyring.primary_key_id
    sealed = or_(*(table.c[c].is_not(None) for c in columns))
    on_old_key = and_(table.c.key_id.is_not(None), table.c.key_id != primary, sealed)
    count = 0
    last_id: Any = None
    while True:
        query = select(table).where(on_old_key).order_by(table.c.id).limit(BATCH_ROWS)
        if last_id is not None:
            query = query.where(table.c.id > last_id)
        async with engine.begin() as conn:
            rows = (await conn.execute(query)).mappings().all()
            for row in rows:
                values: dict[str, Any] = {"key_id": primary}
                unchanged = [table.c.key_id == row["key_id"]]
                for column in columns:
                    if row[column] is not None:
                        values[column] = keyring.encrypt(
                            keyring.decrypt(row[column], context(row, column)), context(row, column)
                        )
                        unchanged.append(table.c[column] == row[column])
                result = await conn.execute(update(table).where(table.c.id == row["id"], *unchanged).values(**values))
                count += result.rowcount
        if len(rows) < BATCH_ROWS:
            return count
        last_id = rows[-1]["id"]


@translate_outages
class KeyUpkeep:
    """Key rotation as `Vault` methods (mixed into it, using its engine and keyring)."""

    engine: AsyncEngine
    reader: AsyncEngine
    keyring: Keyring

    async def rotate_keys(self, new_keyring: Keyring) -> int:
        """Re-encrypt every stored value with `new_keyring`'s first key (see rotation.py); `new_keyring` must still
        hold the old keys. Returns the number of rows re-encrypted."""
        count = await reencrypt(self.engine, new_keyring)
        self.keyring = new_keyring
        return count

    async def keys_in_use(self) -> dict[str, int]:
        """How many rows each key id still encrypts."""
        counts: dict[str, int] = {}
        async with self.reader.connect() as conn:
            for table, sealed in (
                (connections, None),
                (flows, or_(flows.c.code_verifier.is_not(None), flows.c.held_tokens.is_not(None))),
                (revocations, None),
                (user_secrets, None),
                (digest_keys, None),
                (oauth_clients, oauth_clients.c.client_secret.is_not(None)),
                (front_door_requests, front_door_requests.c.secrets.is_not(None)),
            ):
                query = select(table.c.key_id, func.count()).group_by(table.c.key_id)
                if sealed is not None:
                    query = query.where(sealed)
                for key_id, n in await conn.execute(query):
                    counts[key_id] = counts.get(key_id, 0) + int(n)
        return counts
