"""Capacity: what one call costs a replica in CPU and in database statements, by the path it takes.

Paths, each for --calls calls of the bench's echo tool (OAuth2 "demo"), through the one orchestration both front
doors call (`ToolCalls.prepare`, then `execute`, or the flow started when the user is not connected):

  hit      a connected user held in this replica's memory (the same user again and again)
  miss     a connected user this replica has not seen yet (a different user each call)
  refresh  a connected user whose access token has expired (refreshed at a token endpoint answering at once)
  consent  a user with no connection: the call starts an authorization flow

authmcp runs in this process on PostgreSQL (a fresh database, dropped afterwards); the token endpoint is another
process. Statements are counted on the vault's engines (SQLAlchemy's `before_cursor_execute`), including the
background writes a call causes (its audit row, "last used"), flushed before the count is read. CPU is this
process's CPU time over the calls (the MCP and HTTP layers excluded: add the HTTP figure from throughput.py).

    .venv/bin/python bench/capacity.py [--calls 200] [--postgres-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
from sqlalchemy import event

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.servers import DEFAULT_POSTGRES, TOOLKIT, free_port, postgres_database  # noqa: E402
from mcp_server.calls.orchestration import AuthorizationNeeded, Ready  # noqa: E402
from mcp_server.config import load_settings  # noqa: E402
from mcp_server.serving.runtime import Runtime, open_runtime  # noqa: E402
from mcp_server.vault import generate_key  # noqa: E402

TOKEN_ENDPOINT = """
import json, secrets, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = json.dumps({"access_token": secrets.token_hex(16), "token_type": "Bearer", "expires_in": 3600,
                           "refresh_token": "bench-refresh", "scope": "profile"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


class Statements:
    """Statements sent on the vault's engines while counting."""

    def __init__(self, runtime: Runtime) -> None:
        self.count = 0
        engines = {id(e): e for e in (runtime.vault.engine, runtime.vault.lookups)}
        for engine in engines.values():
            event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1


async def seed(runtime: Runtime, users: list[str], expires_in: float) -> None:
    kept: dict[str, Any] = {"refresh_token": "bench-refresh", "token_type": "Bearer", "scopes": ["profile"]}
    for user in users:
        expires_at = time.time() + expires_in
        await runtime.vault.save_connection(user, "demo", access_token=f"a-{user}", expires_at=expires_at, **kept)


async def measure(runtime: Runtime, statements: Statements, users: list[str]) -> tuple[float, float]:
    """(CPU µs per call, statements per call) over one call for each of `users`."""
    definition = next(iter(runtime.catalog))
    calls = runtime.calls
    await runtime.service.audit.flush()
    await anyio.sleep(0.5)  # background writes of the seeding are done before the count starts
    before, cpu = statements.count, time.process_time()
    for user in users:
        step = await calls.prepare(user, definition)
        if isinstance(step, Ready):
            await calls.execute(user, definition, step, {"text": "hi"})
        else:
            assert isinstance(step, AuthorizationNeeded)
            await calls.authorize(user, step.requirement)
    spent = time.process_time() - cpu
    await anyio.sleep(0.5)  # "last used" is written in the background, a moment after the call
    await runtime.service.audit.flush()
    return spent / len(users) * 1e6, (statements.count - before) / len(users)


async def main_async(calls: int, admin_url: str) -> None:
    port = free_port()
    stub = subprocess.Popen([sys.executable, "-c", TOKEN_ENDPOINT, str(port)])
    try:
        async with httpx2.AsyncClient(trust_env=False) as http:
            with anyio.fail_after(20):
                while True:
                    try:
                        await http.post(f"http://127.0.0.1:{port}/t")
                        break
                    except httpx2.HTTPError:
                        await anyio.sleep(0.05)
        async with postgres_database(admin_url) as database_url:
            with tempfile.TemporaryDirectory() as tmp:
                toolkit = Path(tmp, "bench_toolkit.py")
                toolkit.write_text(TOOLKIT)
                provider = {
                    "authorize_url": "http://127.0.0.1:9/a",
                    "token_url": f"http://127.0.0.1:{port}/t",
                    "client_id": "c",
                    "client_secret": "s",
                }
                settings = load_settings(
                    None,
                    data_dir=tmp,
                    database_url=database_url,
                    migrate_on_start=True,
                    encryption_keys=generate_key(),
                    toolkits=[],
                    log_level="WARNING",
                    providers={"demo": provider},
                    max_open_flows_per_user=1000,
                )
                async with open_runtime(settings, public_url="http://127.0.0.1:8000", toolkits=[str(toolkit)]) as rt:
                    statements = Statements(rt)
                    paths: list[tuple[str, Callable[[], Awaitable[list[str]]]]] = []

                    async def hit() -> list[str]:
                        await seed(rt, ["hit"], 3600)
                        await measure(rt, statements, ["hit"])  # now held in memory
                        return ["hit"] * calls

                    async def miss() -> list[str]:
                        users = [f"miss-{i}" for i in range(calls)]
                        await seed(rt, users, 3600)
                        return users

                    async def refresh() -> list[str]:
                        users = [f"refresh-{i}" for i in range(calls)]
                        await seed(rt, users, -60)
                        return users

                    async def consent() -> list[str]:
                        return [f"consent-{i}" for i in range(calls)]

                    paths = [("hit", hit), ("miss", miss), ("refresh", refresh), ("consent", consent)]
                    print(f"{calls} calls per path, PostgreSQL, in process (no MCP or HTTP layer)")
                    print(f"{'path':<8} {'CPU µs/call':>12} {'statements/call':>16}")
                    for name, users_for in paths:
                        cpu, per_call = await measure(rt, statements, await users_for())
                        print(f"{name:<8} {cpu:>12.0f} {per_call:>16.2f}")
    finally:
        stub.terminate()
        stub.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    anyio.run(main_async, args.calls, args.postgres_url)


if __name__ == "__main__":
    main()
