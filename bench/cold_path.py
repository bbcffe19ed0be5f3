"""The gate's cold path: `ConnectionService.connection_for` for a user whose connection is not in memory yet,
on a vault holding N connections (default 1M), for users drawn at random across the whole table.

Rows are bulk-inserted (each with its own encrypted access and refresh token, as authmcp writes them), then
every sample asks for a user not asked before, so each one is a miss of the in-memory view: one indexed read,
two AES-GCM decryptions, and whatever else the call path does. Also timed, for comparison: the same read as
one prepared statement on the bare driver, and `Vault.get_connection`. Prints p50 and p99 in ms.

    .venv/bin/python bench/cold_path.py                       # SQLite file in a temporary folder
    .venv/bin/python bench/cold_path.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/cold_path.py -n 100000 --samples 5000

With PostgreSQL, a scratch database (`authmcp_cold_path`) is created on the server of the URL and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy.engine import make_url  # noqa: E402

from mcp_server.connections import ConnectionService  # noqa: E402
from mcp_server.declare import OAuth2  # noqa: E402
from mcp_server.providers import ProviderRegistry  # noqa: E402
from mcp_server.vault import Keyring, Vault, generate_key  # noqa: E402
from mcp_server.vault.store import _connection_context  # noqa: E402

PROVIDER = "demo"
REQUIREMENT = OAuth2(id=PROVIDER, scopes=["profile"])
SCRATCH = "authmcp_cold_path"
COLUMNS = (
    "user_id", "provider_id", "status", "scopes", "access_token", "refresh_token", "token_type", "expires_at",
    "user_info", "token_extras", "key_id", "version", "created_at", "updated_at",
)


def rows(keyring: Keyring, n: int, batch: int = 20_000):  # type: ignore[no-untyped-def]
    now = time.time()
    chunk = []
    for i in range(n):
        user = f"user-{i:07d}"
        chunk.append((
            user, PROVIDER, "active", "profile email",
            keyring.encrypt(f"access-{i}", _connection_context(user, PROVIDER, "access_token")),
            keyring.encrypt(f"refresh-{i}", _connection_context(user, PROVIDER, "refresh_token")),
            "Bearer", now + 30 * 86400, json.dumps({"sub": user}), "{}", keyring.primary_key_id, 1, now, now,
        ))
        if len(chunk) == batch:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def fill(vault: Vault, url: str, n: int) -> None:
    started = time.perf_counter()
    if vault.dialect == "sqlite":
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        sql = f"INSERT INTO connections ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        for chunk in rows(vault.keyring, n):
            db.executemany(sql, chunk)
            db.commit()
        db.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            for chunk in rows(vault.keyring, n):
                await conn.copy_records_to_table("connections", records=chunk, columns=COLUMNS)
            await conn.execute("ANALYZE connections")
        finally:
            await conn.close()
    print(f"inserted {n} connections in {time.perf_counter() - started:.0f} s", file=sys.stderr)


async def timed(samples: list[str], call: Callable[[str], Awaitable[Any]]) -> tuple[float, float]:
    took = []
    for user in samples:
        started = time.perf_counter()
        result = await call(user)
        took.append(time.perf_counter() - started)
        assert result is not None, user
    took.sort()
    return statistics.median(took) * 1000, took[int(len(took) * 0.99)] * 1000


async def raw_driver(vault: Vault) -> tuple[Callable[[str], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    """The same lookup on the bare driver, one prepared statement: the floor under everything above it."""
    if vault.dialect == "sqlite":
        import aiosqlite

        db = await aiosqlite.connect(vault.engine.url.database)

        async def read(user: str) -> Any:
            async with db.execute(
                "SELECT * FROM connections WHERE user_id = ? AND provider_id = ?", (user, PROVIDER)
            ) as cursor:
                return await cursor.fetchone()

        return read, db.close
    import asyncpg

    conn = await asyncpg.connect(vault.engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    statement = await conn.prepare("SELECT * FROM connections WHERE user_id = $1 AND provider_id = $2")
    return (lambda user: statement.fetchrow(user, PROVIDER)), conn.close


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000, help="connections in the table (default 1M)")
    parser.add_argument("--samples", type=int, default=3000, help="timed lookups per row printed (default 3000)")
    parser.add_argument("--database-url", help="postgresql://... (default: a SQLite file in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url:
            server = make_url(args.database_url).set(drivername="postgresql")
            admin = server.set(database="postgres").render_as_string(hide_password=False)
            url = server.set(database=SCRATCH).render_as_string(hide_password=False)
            await run_admin(admin, f"DROP DATABASE IF EXISTS {SCRATCH}", f"CREATE DATABASE {SCRATCH}")
            try:
                await measure(url, args.n, args.samples)
            finally:
                await run_admin(admin, f"DROP DATABASE IF EXISTS {SCRATCH}")
        else:
            await measure(f"sqlite:///{tmp}/authmcp.db", args.n, args.samples)


async def run_admin(dsn: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def measure(url: str, n: int, samples: int) -> None:
    engine = Vault.create_engine(url)
    vault = await Vault.open(engine, Keyring([generate_key()]), check_keys=False)
    await fill(vault, url, n)
    service = ConnectionService(vault=vault, providers=ProviderRegistry({}))
    users = random.sample(range(n), 3 * (samples + 200))
    batches = [[f"user-{i:07d}" for i in users[k::3]] for k in range(3)]
    driver, close_driver = await raw_driver(vault)
    print(f"{vault.dialect}, {n} connections, {samples} users at random, each asked once")
    try:
        for (name, call), batch in zip(
            (
                ("bare driver, prepared statement", driver),
                ("Vault.get_connection", lambda user: vault.get_connection(user, PROVIDER)),
                ("connection_for, not in memory", lambda user: service.connection_for(user, REQUIREMENT)),
            ),
            batches,
        ):
            await timed(batch[:200], call)  # warm-up: pools, statement caches
            p50, p99 = await timed(batch[200:], call)
            print(f"  {name:34} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms")
    finally:
        await close_driver()
        await vault.aclose()

if __name__ == "__main__":
    asyncio.run(main())
