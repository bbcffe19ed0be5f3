"""Throughput: tool calls per second over Streamable HTTP with K concurrent users, and token lookup latency.

1. Calls per second. Each server runs in its own process (uvicorn, one worker); this process runs K users, each
   calling one tool in a loop for `--seconds` after a warm-up, over its own HTTP connection, with 2026-07-28
   requests (the exact wire form `mcp.Client` sends; see `load`). Every answer is checked; only correct
   answers are counted.

     bare               a plain `MCPServer` with `echo(text) -> text`, no authentication
     authmcp sqlite     `authmcp serve --transport http`, the same echo as a tool requiring OAuth; K users with
                        static bearer tokens ([mcp_auth] tokens), each with a fresh stored token, so every call
                        takes the gate's fast path (who is calling, their connection, the call)
     authmcp postgres   the same on PostgreSQL (a fresh database, dropped afterwards)

   Client and server share the machine (on 2 cores the client's own CPU use caps the numbers at high K;
   the ratio between configurations is the figure to read).

2. Token lookup latency: `Vault.get_connection(user, provider)` (a SELECT by the unique (user, provider)
   index plus two AES-GCM decryptions), on a vault holding N connections (N = 10k and 1M, bulk-inserted),
   for random stored users; median and p99 of 2000 lookups, SQLite and PostgreSQL. This is the cold path:
   authmcp's in-memory view (`connection_cache_seconds`) answers most calls without it.

    .venv/bin/python bench/throughput.py [--seconds 4] [--users 1,10,100] [--rows 10000,1000000]
                                         [--postgres-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio
import httpx2

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mcp_server.vault import Vault, generate_key, open_vault  # noqa: E402
from mcp_server.vault.store import _connection_context  # noqa: E402
from tests.e2e.conftest import free_port, write_config  # noqa: E402

TOOLKIT = '''
from mcp_server import ToolContext, tool
from mcp_server.auth import OAuth2

TOOLKIT_NAME = "Bench"


@tool(requires_auth=OAuth2(id="demo", scopes=["profile"]))
async def echo(context: ToolContext, text: str) -> str:
    """Return the text."""
    return text
'''
BARE = '''
import sys, uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer("bare", log_level="WARNING")

@server.tool()
async def echo(text: str) -> str:
    """Return the text."""
    return text

uvicorn.run(server.streamable_http_app(host="127.0.0.1"), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning", access_log=False)
'''
PROVIDER = {"authorize_url": "http://127.0.0.1:9/a", "token_url": "http://127.0.0.1:9/t",
            "client_id": "c", "client_secret": "s"}
DEFAULT_POSTGRES = os.environ.get("AUTHMCP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


# ------------------------------------------------------------------ servers


def wait_healthy(process: subprocess.Popen[bytes], url: str) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            httpx2.get(url, timeout=1, trust_env=False)
            return
        except httpx2.HTTPError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


@asynccontextmanager
async def bare_server(tmp: Path) -> AsyncIterator[tuple[str, str, list[str]]]:
    script = tmp / "bare_server.py"
    script.write_text(BARE)
    port = free_port()
    process = subprocess.Popen([sys.executable, str(script), str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_healthy(process, f"http://127.0.0.1:{port}/mcp")
        yield f"http://127.0.0.1:{port}/mcp", "echo", [""] * 100
    finally:
        process.terminate()
        process.wait()


@asynccontextmanager
async def authmcp_server(tmp: Path, database_url: str, users: int) -> AsyncIterator[tuple[str, str, list[str]]]:
    toolkit = tmp / "bench_toolkit.py"
    toolkit.write_text(TOOLKIT)
    tokens = {f"tok-{i}-{secrets.token_hex(8)}": f"user-{i}@example.test" for i in range(users)}
    key = generate_key()
    port = free_port()
    config = write_config(tmp / f"authmcp-{port}.toml", {
        "database_url": database_url, "data_dir": str(tmp / "data"), "encryption_keys": key, "toolkits": [],
        "log_level": "WARNING", "public_url": f"http://127.0.0.1:{port}",
        "mcp_auth": {"tokens": tokens}, "api": {"verification": "none"}, "providers": {"demo": PROVIDER},
    })
    vault = await open_vault(database_url, env_keys=[key], key_file=tmp / "unused")
    try:
        for user in tokens.values():
            await vault.save_connection(user, "demo", access_token="bench-access", refresh_token="bench-refresh",
                                        token_type="Bearer", expires_at=time.time() + 7200, scopes=["profile"])
    finally:
        await vault.aclose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHMCP_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_server", "serve", "--transport", "http", "--port", str(port),
         "--config", str(config), "--toolkit", str(toolkit)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    try:
        wait_healthy(process, f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}/mcp", "Bench_Echo", list(tokens)
    finally:
        process.terminate()
        process.wait()


# ------------------------------------------------------------------ load


class UnexpectedResult(Exception):
    """A call did not return the echoed text: it would be counted as a success."""


async def load(url: str, tool: str, tokens: list[str], users: int, seconds: float, warmup: float) -> float:
    """K users calling for `seconds` (after `warmup`); returns correct answers per second.

    Each user POSTs 2026-07-28 `tools/call` requests, byte for byte what `mcp.Client` sends (single exchange:
    no session, the Mcp-* headers, the client's _meta), over its own keep-alive connection: the SDK client's
    own CPU cost would otherwise dominate on a small machine.
    """
    counts = [0] * users
    begin = time.perf_counter() + warmup
    end = begin + seconds

    async def user(i: int) -> None:
        headers = {
            "Accept": "application/json, text/event-stream", "Content-Type": "application/json",
            "Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": tool,
        }
        if tokens[i]:
            headers["Authorization"] = f"Bearer {tokens[i]}"
        meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "0"},
                "io.modelcontextprotocol/clientCapabilities": {}}
        call_id = 0
        async with httpx2.AsyncClient(headers=headers, timeout=60, trust_env=False) as http:
            while (now := time.perf_counter()) < end:
                call_id += 1
                body = {"jsonrpc": "2.0", "id": call_id, "method": "tools/call",
                        "params": {"name": tool, "arguments": {"text": "ping"}, "_meta": meta}}
                response = await http.post(url, json=body)
                result = response.json().get("result", {}) if response.status_code == 200 else {}
                if result.get("isError") or result.get("structuredContent") != {"result": "ping"}:
                    raise UnexpectedResult(f"{tool}: {response.status_code} {response.text[:300]}")
                if now >= begin:
                    counts[i] += 1

    async with anyio.create_task_group() as tg:
        for i in range(users):
            tg.start_soon(user, i)
    return sum(counts) / seconds


# ------------------------------------------------------------------ token lookup


async def fill(vault: Vault, database_url: str, rows: int) -> list[str]:
    """`rows` connections: 200 real ones (saved through the vault) and filler, bulk-inserted. Returns the real users."""
    real = [f"real-{i}@example.test" for i in range(200)]
    for user in real:
        await vault.save_connection(user, "demo", access_token=f"access-{user}", refresh_token="r",
                                    token_type="Bearer", expires_at=time.time() + 7200, scopes=["profile"])
    filler_ct = vault.keyring.encrypt("x" * 40, _connection_context("filler", "demo", "access_token"))
    now = time.time()
    n = rows - len(real)
    columns = ("user_id", "provider_id", "status", "scopes", "access_token", "refresh_token", "token_type",
               "expires_at", "user_info", "key_id", "version", "created_at", "updated_at")

    def record(i: int) -> tuple[Any, ...]:
        return (f"filler-{i}@example.test", "demo", "active", "profile", filler_ct, filler_ct, "Bearer",
                now + 7200, "{}", vault.keyring.primary_key_id, 1, now, now)

    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as db:
            sql = f"INSERT INTO connections ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for start in range(0, n, 100_000):
                db.executemany(sql, (record(i) for i in range(start, min(n, start + 100_000))))
            db.execute("ANALYZE")
    else:
        import asyncpg

        conn = await asyncpg.connect(database_url)
        try:
            await conn.copy_records_to_table("connections", records=(record(i) for i in range(n)), columns=columns)
            await conn.execute("ANALYZE connections")
        finally:
            await conn.close()
    assert await vault.count_connections() == rows
    return real


async def lookups(database_url: str, rows: int, tmp: Path, samples: int = 2000) -> tuple[float, float, float]:
    """(median µs, p99 µs, seconds spent filling)."""
    vault = await open_vault(database_url, env_keys=[generate_key()], key_file=tmp / "unused")
    try:
        started = time.perf_counter()
        real = await fill(vault, database_url, rows)
        filled = time.perf_counter() - started
        times = []
        for _ in range(200):  # warm the pool and caches
            await vault.get_connection(random.choice(real), "demo")
        for _ in range(samples):
            user = random.choice(real)
            begin = time.perf_counter_ns()
            connection = await vault.get_connection(user, "demo")
            times.append(time.perf_counter_ns() - begin)
            assert connection is not None and connection.access_token == f"access-{user}"
    finally:
        await vault.aclose()
    return statistics.median(times) / 1000, statistics.quantiles(times, n=100)[98] / 1000, filled


# ------------------------------------------------------------------ PostgreSQL databases


@asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"authmcp_bench_{secrets.token_hex(4)}"
    plain = make_url(admin_url).set(drivername="postgresql")
    admin = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield plain.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main(args: argparse.Namespace) -> None:
    users_list = [int(k) for k in args.users.split(",")]
    rows_list = [int(n) for n in args.rows.split(",")]
    print(f"mcp {version('mcp')}, authmcp {version('authmcp')}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; {args.seconds:g} s per measurement after {args.warmup:g} s warm-up")
    throughput: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        configurations = ["bare", "authmcp sqlite"] + ([] if args.no_postgres else ["authmcp postgres"])
        for name in configurations:
            throughput[name] = {}
            for users in users_list:
                work = tmp / f"{name.replace(' ', '-')}-{users}"
                work.mkdir()
                async with _server(name, work, users, args.postgres_url) as (url, tool, tokens):
                    rate = await load(url, tool, tokens, users, args.seconds, args.warmup)
                throughput[name][users] = rate
                print(f"  {name:<18} K={users:<4} {rate:8.0f} calls/s", flush=True)

        print("\ntool calls per second over Streamable HTTP (K concurrent users, each on its own connection)")
        print(f"{'server':<18}" + "".join(f"{'K=' + str(k):>10}" for k in users_list))
        for name, rates in throughput.items():
            print(f"{name:<18}" + "".join(f"{rates[k]:>10.0f}" for k in users_list))

        results: list[tuple[str, int, float, float, float]] = []
        dialects = ["sqlite"] + ([] if args.no_postgres else ["postgres"])
        for dialect in dialects:
            for rows in rows_list:
                if dialect == "sqlite":
                    url = f"sqlite:///{tmp / f'lookup-{rows}.db'}"
                    results.append((dialect, rows, *await lookups(url, rows, tmp)))
                else:
                    async with postgres_database(args.postgres_url) as url:
                        results.append((dialect, rows, *await lookups(url, rows, tmp)))
                print(f"  lookup {dialect} N={rows}: done", flush=True)
        print("\ntoken lookup (Vault.get_connection: indexed SELECT + 2 AES-GCM decryptions), 2000 random users")
        print(f"{'database':<10}{'connections':>12}{'p50 µs':>10}{'p99 µs':>10}{'fill s':>10}")
        for dialect, rows, p50, p99, filled in results:
            print(f"{dialect:<10}{rows:>12,}{p50:>10.0f}{p99:>10.0f}{filled:>10.1f}")


@asynccontextmanager
async def _server(name: str, work: Path, users: int, postgres_url: str) -> AsyncIterator[tuple[str, str, list[str]]]:
    if name == "bare":
        async with bare_server(work) as served:
            yield served
    elif name == "authmcp sqlite":
        async with authmcp_server(work, f"sqlite:///{work / 'authmcp.db'}", users) as served:
            yield served
    else:
        async with postgres_database(postgres_url) as url, authmcp_server(work, url, users) as served:
            yield served


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per configuration and K")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each measurement")
    parser.add_argument("--users", default="1,10,100", help="comma-separated K values")
    parser.add_argument("--rows", default="10000,1000000", help="comma-separated stored-connection counts")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="a PostgreSQL server (a database is "
                        "created on it for each run and dropped)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite and bare only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args))
