"""The gate's cold path at scale: a user's connection found when nothing is cached, among N stored connections.

What is timed: `AuthorizationService.connection_for(user, OAuth2(id="demo"))`, the call the gate makes before every
OAuth tool call, on a server opened by `open_runtime`, with this user's cache entry dropped first (`forget`), so
each lookup takes the cold path: the database read (a SELECT by the unique (user, provider) index and two AES-GCM
decryptions) and everything the service does around it. For comparison, the bare `Vault.get_connection` is timed
alternately on other users. Users are drawn at random from the whole table (every row is a real, decryptable
connection of its own user), so the index and the table pages are hit all over, not in one warm corner.

The N rows are bulk-inserted (sqlite3 `executemany` / PostgreSQL `COPY`) from a row the vault itself stored, with
each user's tokens encrypted for that user, so they are exactly what `save_connection` would have written.

    .venv/bin/python bench/lookup.py [--rows 1000000] [--samples 2000] [--databases sqlite,postgres]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import DEFAULT_POSTGRES, PROVIDER, TOOLKIT, postgres_database
from mcp_server.auth import OAuth2
from mcp_server.config import load_settings
from mcp_server.serving.runtime import open_runtime
from mcp_server.vault import Vault, generate_key
from mcp_server.vault.schema import connections
from mcp_server.vault.sealing import connection_context

REQUIREMENT = OAuth2(id="demo", scopes=["profile"])
BATCH = 50_000


def user_id(i: int) -> str:
    return f"user-{i}@example.test"


async def fill(vault: Vault, database_url: str, rows: int) -> None:
    """`rows` connections, users 0 .. rows-1: user 0 stored by the vault, the rest copied from its row in bulk."""
    await vault.save_connection(
        user_id(0),
        "demo",
        access_token=f"access-{user_id(0)}",
        refresh_token="refresh",
        token_type="Bearer",
        expires_at=time.time() + 7200,
        scopes=["profile"],
    )
    async with vault.engine.connect() as db:
        template = dict((await db.execute(select(connections))).mappings().one())
    del template["id"]
    columns = list(template)
    encrypt = vault.keyring.encrypt

    def batch(start: int) -> Iterator[tuple[Any, ...]]:
        for i in range(start, min(rows, start + BATCH)):
            user = user_id(i)
            template.update(
                user_id=user,
                access_token=encrypt(f"access-{user}", connection_context(user, "demo", "access_token")),
                refresh_token=encrypt("refresh", connection_context(user, "demo", "refresh_token")),
            )
            yield tuple(template.values())

    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            sql = f"INSERT INTO connections ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for start in range(1, rows, BATCH):
                db.executemany(sql, batch(start))
            db.execute("ANALYZE")
    else:
        import asyncpg

        db = await asyncpg.connect(database_url)
        try:
            for start in range(1, rows, BATCH):
                await db.copy_records_to_table("connections", records=list(batch(start)), columns=columns)
            await db.execute("ANALYZE connections")
        finally:
            await db.close()
    if await vault.count_connections() != rows:
        raise SystemExit(f"the table holds {await vault.count_connections()} connections, not {rows}")


async def measure(database_url: str, rows: int, samples: int, work: Path) -> dict[str, float]:
    toolkit = work / "bench_toolkit.py"
    toolkit.write_text(TOOLKIT)
    settings = load_settings(
        None,
        data_dir=work,
        database_url=database_url,
        migrate_on_start=True,  # a fresh database: this process creates its schema (replicas leave it to db upgrade)
        encryption_keys=generate_key(),
        user_id="local",
        toolkits=[],
        log_level="WARNING",
        providers={"demo": PROVIDER},
    )
    async with open_runtime(settings, public_url="http://127.0.0.1:8000", toolkits=[str(toolkit)]) as runtime:
        started = time.perf_counter()
        await fill(runtime.vault, database_url, rows)
        filled = time.perf_counter() - started
        service, vault = runtime.service, runtime.vault
        gate: list[int] = []
        bare: list[int] = []
        for n in range(200 + 2 * samples):  # the first 200 warm the pool; then gate and vault alternate
            user = user_id(random.randrange(rows))
            service.connections.forget(user, "demo")
            start = time.perf_counter_ns()
            found = await (
                service.connections.connection_for(user, REQUIREMENT) if n % 2 else vault.get_connection(user, "demo")
            )
            elapsed = time.perf_counter_ns() - start
            if found is None or found.access_token != f"access-{user}":
                raise SystemExit(f"lookup of {user} found {'nothing' if found is None else 'another token'}")
            if n >= 200:
                (gate if n % 2 else bare).append(elapsed)
    return {"fill": filled, **percentiles("gate", gate), **percentiles("vault", bare)}


def percentiles(name: str, samples: list[int]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {f"{name} p50": statistics.median(samples) / 1000, f"{name} p99": cuts[98] / 1000}


async def main(args: argparse.Namespace) -> None:
    print(
        f"mcp {version('mcp')}, authmcp {version('authmcp')}, Python {sys.version.split()[0]}; "
        f"{args.samples} lookups of random users per database",
        flush=True,
    )
    results: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        for database in args.databases.split(","):
            work = Path(tmp_dir, database)
            work.mkdir()
            if database == "sqlite":
                results.append(
                    (database, await measure(f"sqlite:///{work / 'lookup.db'}", args.rows, args.samples, work))
                )
            else:
                async with postgres_database(args.postgres_url) as url:
                    results.append((database, await measure(url, args.rows, args.samples, work)))
            print(f"  {database}: filled in {results[-1][1]['fill']:.1f} s", flush=True)
    print(
        f"\ncold lookup of one connection among {args.rows:,}, in µs: the gate's path "
        "(AuthorizationService.connection_for, cache empty) and the vault read alone (Vault.get_connection)"
    )
    print(f"{'database':<10}{'gate p50':>10}{'gate p99':>10}{'vault p50':>11}{'vault p99':>11}")
    for database, r in results:
        print(
            f"{database:<10}{r['gate p50']:>10.0f}{r['gate p99']:>10.0f}{r['vault p50']:>11.0f}{r['vault p99']:>11.0f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="stored connections")
    parser.add_argument("--samples", type=int, default=2000, help="timed lookups per path and database")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help="a PostgreSQL server; a database is created on it for the run and dropped",
    )
    args = parser.parse_args()
    if args.rows < 1 or args.samples < 2:
        parser.error("--rows must be >= 1 and --samples >= 2")
    if not set(args.databases.split(",")) <= {"sqlite", "postgres"}:
        parser.error("--databases takes sqlite, postgres")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args))
