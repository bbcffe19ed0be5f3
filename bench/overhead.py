"""Per-call overhead of authmcp's gate, against a bare MCPServer running the same tool.

What is measured: the client-observed latency of one `tools/call` (time.perf_counter_ns around
`Client.call_tool`) for

  bare     a plain `MCPServer` with `async def echo(text: str) -> str: return text` added by `add_tool`;
  authmcp  the same body as an authmcp tool requiring OAuth (`OAuth2(id="demo")`), served by `open_runtime`,
           with a fresh stored token for the local user, so every call takes the gate's fast path
           (user lookup, connection lookup and cache, ToolContext, tool run).

Configurations: in-process `Client(server)` at 2026-07-28 (`mode="auto"`) and 2025-11-25 (`mode="legacy"`),
and the same two over Streamable HTTP (uvicorn on 127.0.0.1 in this process). Calls run in blocks that
alternate bare/authmcp (ABBA order), so machine noise hits both alike; every result is checked (outside
the timed region) so an error path can never be timed by accident.

How to read it: "ratio" is authmcp median / bare median; "+µs" is the absolute difference, i.e. what
authmcp adds to one call. In-process that is the gate alone. Over HTTP it is the gate plus authmcp's own
app layers (Host check, web routes, SSE/HTTP routing); the transport dominates, so the ratio shrinks and
+µs is noisier. p90 shows the tail; the connection cache (`connection_cache_seconds`, default 5 s) means
about one call in every 5 s reads SQLite (~1 ms), which the medians do not show.

    .venv/bin/python bench/overhead.py [--calls 2000] [--warmup 100] [--http/--no-http]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

import anyio
import uvicorn
from mcp import Client
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp

from mcp_server.config import load_settings
from mcp_server.server import create_http_app, open_runtime

MODES: tuple[Literal["auto", "legacy"], ...] = ("auto", "legacy")  # auto lands on 2026-07-28
BLOCK = 50  # calls per block; blocks alternate between the two servers
USER = "bench-user"
TOOLKIT = '''
from mcp_server import ToolContext, tool
from mcp_server.auth import OAuth2

TOOLKIT_NAME = "Bench"


@tool(requires_auth=OAuth2(id="demo", scopes=["profile"]))
async def echo(context: ToolContext, text: str) -> str:
    """Return the text."""
    return text
'''
PROVIDER = {"authorize_url": "http://127.0.0.1:9/a", "token_url": "http://127.0.0.1:9/t",
            "client_id": "c", "client_secret": "s"}


async def echo(text: str) -> str:
    return text


class UnexpectedResult(Exception):
    """A call did not return the echoed text: the timing would be of an error path."""


class Target:
    """One connected client and the tool it calls; `call` times one verified call."""

    def __init__(self, client: Client, tool: str) -> None:
        self.client = client
        self.tool = tool
        self.samples: list[int] = []

    async def call(self, record: bool = True) -> None:
        start = time.perf_counter_ns()
        result = await self.client.call_tool(self.tool, {"text": "ping"})
        elapsed = time.perf_counter_ns() - start
        if result.is_error or result.structured_content != {"result": "ping"}:
            raise UnexpectedResult(f"{self.tool}: unexpected result {result!r}")
        if record:
            self.samples.append(elapsed)


async def measure(bare: Target, auth: Target, calls: int, warmup: int) -> None:
    for target in (bare, auth):
        for _ in range(warmup):
            await target.call(record=False)
    for block in range(-(-calls // BLOCK)):
        order = (bare, auth) if block % 2 == 0 else (auth, bare)
        for target in order:
            for _ in range(min(BLOCK, calls - block * BLOCK)):
                await target.call()


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yield the MCP URL."""
    # uvicorn binds port 0 itself: a socket made without proto=IPPROTO_TCP (as mcp_server.server.bind makes
    # it) gets no TCP_NODELAY from asyncio, and Nagle + delayed ACK then add ~40 ms to JSON responses.
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:
            await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/mcp"
        finally:
            server.should_exit = True


def stats(samples: list[int]) -> tuple[float, float]:
    """Median and p90, in µs."""
    return statistics.median(samples) / 1000, statistics.quantiles(samples, n=10)[8] / 1000


async def main(calls: int, warmup: int, http: bool) -> None:
    bare_server = MCPServer("bare", log_level="WARNING")
    bare_server.add_tool(echo, name="echo", description="Return the text.")
    with tempfile.TemporaryDirectory() as tmp:
        toolkit = Path(tmp, "bench_toolkit.py")
        toolkit.write_text(TOOLKIT)
        settings = load_settings(None, data_dir=tmp, user_id=USER, toolkits=[], log_level="WARNING",
                                 providers={"demo": PROVIDER})
        async with AsyncExitStack() as stack:
            runtime = await stack.enter_async_context(
                open_runtime(settings, public_url="http://127.0.0.1:8000", toolkits=[str(toolkit)]))
            await runtime.vault.save_connection(
                USER, "demo", access_token="bench-access", refresh_token="bench-refresh", token_type="Bearer",
                expires_at=time.time() + 3600, scopes=["profile"])
            auth_tool = next(iter(runtime.catalog)).mcp_name
            endpoints: list[tuple[str, Any, Any, int]] = [("in-process", bare_server, runtime.mcp, calls)]
            if http:
                bare_url = await stack.enter_async_context(serving(bare_server.streamable_http_app(host="127.0.0.1")))
                auth_url = await stack.enter_async_context(serving(create_http_app(runtime)))
                endpoints.append(("http", bare_url, auth_url, max(1, calls // 4)))
            rows: list[tuple[str, Target, Target]] = []
            for transport, bare_at, auth_at, n in endpoints:
                for mode in MODES:
                    async with Client(bare_at, mode=mode) as bc, Client(auth_at, mode=mode) as ac:
                        bare, auth = Target(bc, "echo"), Target(ac, auth_tool)
                        await measure(bare, auth, n, warmup)
                        rows.append((f"{transport} {ac.protocol_version} (n={n})", bare, auth))
    report(rows)


def report(rows: list[tuple[str, Target, Target]]) -> None:
    print(f"mcp {version('mcp')}, authmcp {version('authmcp')}, Python {sys.version.split()[0]}; latency of one "
          f"tools/call in µs")
    head = ("configuration", "bare p50", "authmcp p50", "ratio", "+µs", "bare p90", "authmcp p90")
    print(f"{head[0]:<32}" + "".join(f"{h:>12}" for h in head[1:]))
    for name, bare, auth in rows:
        (b50, b90), (a50, a90) = stats(bare.samples), stats(auth.samples)
        print(f"{name:<32}{b50:>12.0f}{a50:>12.0f}{a50 / b50:>12.2f}{a50 - b50:>+12.0f}{b90:>12.0f}{a90:>12.0f}")
    _, bare, auth = rows[0]
    (b50, _), (a50, _) = stats(bare.samples), stats(auth.samples)
    print(f"gate overhead in-process: {a50 - b50:+.0f} µs (ratio {a50 / b50:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per server in-process; HTTP uses 1/4")
    parser.add_argument("--warmup", type=int, default=100, help="untimed calls per server before each configuration")
    parser.add_argument("--http", action=argparse.BooleanOptionalAction, default=True, help="also measure over HTTP")
    args = parser.parse_args()
    if args.calls < 8 or args.warmup < 0:
        parser.error("--calls must be at least 8 (HTTP runs calls/4, and a p90 needs 2) and --warmup >= 0")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("mcp_server.vault.keys").setLevel(logging.ERROR)  # "created a new key" in the tmp dir
    try:
        anyio.run(main, args.calls, args.warmup, args.http)
    except* UnexpectedResult as group:
        error: BaseException = group
        while isinstance(error, BaseExceptionGroup):  # nested by the SDK's and anyio's task groups
            error = error.exceptions[0]
        sys.exit(f"benchmark aborted: {error}")
