"""Per-call overhead of authmcp's gate, against a bare MCPServer running the same tool.

The tool is `echo(text) -> text`: on a bare `MCPServer` (`add_tool`), and as an authmcp tool requiring OAuth
(`OAuth2(id="demo")`) with a fresh stored token for the caller, so every call takes the gate's fast path (who is
calling, their connection, the call).

In process: `Client(server)` at 2026-07-28 (`mode="auto"`) and 2025-11-25 (`mode="legacy"`), the bare server
against `open_runtime`'s; client-observed latency of one `tools/call` (perf_counter_ns around `call_tool`). This is
the gate alone, with the SDK's in-memory transport.

Over Streamable HTTP, with bearer auth on: three server processes side by side (bench/servers.py), a bare
`MCPServer` and two `authmcp serve --transport http`, one with a static token (`[mcp_auth] tokens`), one taking
JWTs from a small issuer this process runs (`jwt_issuer` + `jwks_url`, RS256). One load generator process
(bench/loadgen.py: raw keep-alive sockets, the exact wire form of each era) calls them one call at a time. Besides
the latency, each server's CPU per call (its process's CPU time over the run, from /proc, divided by its calls) is
printed: on a shared machine it is steadier than the latency.

Calls run in blocks that alternate the servers (ABBA order: A B, B A, ... and A B C, C B A over HTTP) so machine
noise hits all alike; every answer is checked outside the timed region, so an error path is never timed.

How to read it: "ratio" is authmcp / bare (median, or CPU per call); "+µs" is the absolute difference of the
medians, what authmcp adds to one call. p90 shows the tail. No call waits on the database: the connection view
re-reads an entry in the background once it is `connection_cache_seconds` (default 60) old.

    .venv/bin/python bench/overhead.py [--calls 2000] [--http-calls 1000] [--warmup 100] [--http/--no-http]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from importlib.metadata import version
from pathlib import Path
from typing import Literal

import anyio
from mcp import Client
from mcp.server.mcpserver import MCPServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import ERAS, run_latency
from bench.servers import JwtIssuer, authmcp_server, bare_server, in_process_runtime

MODES: tuple[Literal["auto", "legacy"], ...] = ("auto", "legacy")  # auto lands on 2026-07-28
BLOCK = 50  # calls per block; blocks alternate between the servers
USER = "bench-user"


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


def stats(samples: list[int]) -> tuple[float, float]:
    """Median and p90, in µs."""
    return statistics.median(samples) / 1000, statistics.quantiles(samples, n=10)[8] / 1000


async def in_process(calls: int, warmup: int) -> list[tuple[str, list[int], list[int]]]:
    """(configuration, bare samples, authmcp samples) for each era, with `Client(server)`."""
    bare_server_ = MCPServer("bare", log_level="WARNING")
    bare_server_.add_tool(echo, name="echo", description="Return the text.")
    rows = []
    async with in_process_runtime(USER) as (runtime, auth_tool):
        for mode in MODES:
            async with Client(bare_server_, mode=mode) as bc, Client(runtime.mcp, mode=mode) as ac:
                bare, auth = Target(bc, "echo"), Target(ac, auth_tool)
                await measure(bare, auth, calls, warmup)
                rows.append((f"in-process {ac.protocol_version}", bare.samples, auth.samples))
    return rows


async def over_http(calls: int, warmup: int) -> list[tuple[str, str, list[int], float]]:
    """(era, server, samples, server CPU µs per call) for bare and authmcp with a static token and with a JWT."""
    rows = []
    issuer = JwtIssuer()
    try:
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            async with AsyncExitStack() as stack:
                servers = [
                    stack.enter_context(bare_server(tmp / "bare")),
                    await stack.enter_async_context(
                        authmcp_server(tmp / "static", f"sqlite:///{tmp / 'static.db'}", 1, name="authmcp static token")
                    ),
                    await stack.enter_async_context(
                        authmcp_server(tmp / "jwt", f"sqlite:///{tmp / 'jwt.db'}", 1, name="authmcp JWT", issuer=issuer)
                    ),
                ]
                for era in ERAS:
                    before = [server.cpu() for server in servers]
                    samples = run_latency(
                        [server.target(0, era) for server in servers], calls=calls, warmup=warmup, block=BLOCK
                    )
                    for server, cpu, timed in zip(servers, before, samples):
                        rows.append((era, server.name, timed, (server.cpu() - cpu) / (calls + warmup) * 1e6))
    finally:
        issuer.close()
    return rows


async def main(calls: int, http_calls: int, warmup: int, http: bool) -> None:
    print(
        f"mcp {version('mcp')}, authmcp {version('authmcp')}, Python {sys.version.split()[0]}; latency of one "
        f"tools/call in µs",
        flush=True,
    )
    report_in_process(await in_process(calls, warmup), calls)
    if http:
        report_http(await over_http(http_calls, warmup), http_calls)


def report_in_process(rows: list[tuple[str, list[int], list[int]]], calls: int) -> None:
    head = ("configuration", "bare p50", "authmcp p50", "ratio", "+µs", "bare p90", "authmcp p90")
    print(f"\n{head[0]:<32}" + "".join(f"{h:>12}" for h in head[1:]))
    for name, bare, auth in rows:
        (b50, b90), (a50, a90) = stats(bare), stats(auth)
        print(
            f"{name + f' (n={calls})':<32}{b50:>12.0f}{a50:>12.0f}{a50 / b50:>12.2f}{a50 - b50:>+12.0f}"
            f"{b90:>12.0f}{a90:>12.0f}"
        )


def report_http(rows: list[tuple[str, str, list[int], float]], calls: int) -> None:
    print(
        f"\nover Streamable HTTP, bearer auth on, one call at a time from a separate process (n={calls}); "
        "ratios to bare in the same era"
    )
    head = ("era", "server", "p50", "p90", "ratio", "+µs", "CPU/call", "CPU ratio")
    print(f"{head[0]:<12}{head[1]:<22}" + "".join(f"{h:>10}" for h in head[2:]))
    bare: dict[str, tuple[float, float]] = {}
    for era, name, samples, cpu in rows:
        p50, p90 = stats(samples)
        if name == "bare":
            bare[era] = (p50, cpu)
        b50, bcpu = bare[era]
        print(
            f"{era:<12}{name:<22}{p50:>10.0f}{p90:>10.0f}{p50 / b50:>10.2f}{p50 - b50:>+10.0f}{cpu:>10.0f}"
            f"{cpu / bcpu:>10.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per server in-process")
    parser.add_argument("--http-calls", type=int, default=1000, help="timed calls per server over HTTP, each era")
    parser.add_argument("--warmup", type=int, default=100, help="untimed calls per server before each configuration")
    parser.add_argument("--http", action=argparse.BooleanOptionalAction, default=True, help="also measure over HTTP")
    args = parser.parse_args()
    if args.calls < 2 or args.http_calls < 2 or args.warmup < 0:
        parser.error("--calls and --http-calls must be at least 2 (a p90 needs 2 samples) and --warmup >= 0")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("mcp_server.vault.keys").setLevel(logging.ERROR)  # "created a new key" in the tmp dir
    try:
        anyio.run(main, args.calls, args.http_calls, args.warmup, args.http)
    except* UnexpectedResult as group:
        error: BaseException = group
        while isinstance(error, BaseExceptionGroup):  # nested by the SDK's and anyio's task groups
            error = error.exceptions[0]
        sys.exit(f"benchmark aborted: {error}")
