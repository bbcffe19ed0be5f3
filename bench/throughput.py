"""Throughput: tool calls per second over Streamable HTTP with K concurrent users, and what each call costs the server.

Servers (each its own process, one uvicorn worker, all started once and left running side by side):

  bare              a plain `MCPServer` with `echo(text) -> text`, no authentication
  authmcp sqlite    `authmcp serve --transport http`, the same echo as a tool requiring OAuth, bearer auth on: every
                    user has their own static token ([mcp_auth] tokens) and their own stored connection
  authmcp postgres  the same on PostgreSQL (a fresh database, dropped afterwards)

Load: K users (K = 1, 10, 100, 500), each on its own keep-alive connection, calling in a loop, from generator
processes apart from the servers (bench/loadgen.py: raw sockets, pre-built requests, every answer checked). Both
protocol eras: 2026-07-28 (stateless: one POST per call) and 2025-11-25 (a stateful session per user). Each
measurement is `--warmup` seconds then `--seconds` measured; `--rounds` rounds, the server order reversed every
round, so a slow spell of a shared machine falls on all servers alike.

Printed per era, K and server: calls/s, p50 and p99 latency, the server's CPU per call (its process's CPU time over
the window, from /proc, divided by the calls answered), the cores the server and the generators used, and the
ratios to bare measured in the same run. The generator is not the bottleneck when its cores stay well below the
server's; with one uvicorn process a server is saturated at ~1.0 core, and then "CPU per call" is the figure to
compare (on a small machine it is also the one least disturbed by other load).

    .venv/bin/python bench/throughput.py [--seconds 3] [--warmup 2] [--rounds 2] [--users 1,10,100,500]
        [--eras 2026-07-28,2025-11-25] [--databases sqlite,postgres] [--generators 1]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test]

The token lookup at 1M stored connections is bench/lookup.py.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import ERAS, LoadResult, run_load, wait_until
from bench.servers import DEFAULT_POSTGRES, Server, authmcp_server, bare_server, postgres_database


@dataclass
class Cell:
    """One (era, K, server): the rounds added up."""

    calls: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    generator_cpu: float = 0.0
    latencies: list[int] = field(default_factory=list)

    def add(self, result: LoadResult, server_cpu: float) -> None:
        self.calls += result.calls
        self.seconds += result.seconds
        self.server_cpu += server_cpu
        self.generator_cpu += result.generator_cpu
        self.latencies += result.latencies_ns

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    def percentile(self, p: int) -> float:
        """In ms."""
        if len(self.latencies) < 2:
            return self.latencies[0] / 1e6 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100)[p - 1] / 1e6

    @property
    def cpu_per_call(self) -> float:
        """In µs."""
        return self.server_cpu / self.calls * 1e6 if self.calls else float("nan")


def measure(server: Server, era: str, users: int, args: argparse.Namespace) -> tuple[LoadResult, float]:
    """One measurement; returns the load result and the server's CPU seconds within the window."""
    cpu: list[float] = []

    def sample(begin: float, end: float) -> None:
        for moment in (begin, end):
            wait_until(moment)
            cpu.append(server.cpu())

    result = run_load(
        [server.target(u, era) for u in range(users)],
        processes=args.generators,
        seconds=args.seconds,
        warmup=args.warmup,
        on_window=sample,
    )
    return result, cpu[1] - cpu[0]


async def main(args: argparse.Namespace) -> None:
    users_list = [int(k) for k in args.users.split(",")]
    eras = args.eras.split(",")
    print(
        f"mcp {version('mcp')}, authmcp {version('authmcp')}, Python {sys.version.split()[0]}, {os.cpu_count()} "
        f"CPUs; {args.seconds:g} s measured after {args.warmup:g} s warm-up, {args.rounds} rounds, "
        f"{args.generators} generator process(es)",
        flush=True,
    )
    cells: dict[tuple[str, int, str], Cell] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        async with AsyncExitStack() as stack:
            servers = [stack.enter_context(bare_server(tmp / "bare"))]
            for database in args.databases.split(","):
                url = (
                    f"sqlite:///{tmp / 'sqlite' / 'authmcp.db'}"
                    if database == "sqlite"
                    else await stack.enter_async_context(postgres_database(args.postgres_url))
                )
                servers.append(
                    await stack.enter_async_context(
                        authmcp_server(tmp / database, url, max(users_list), name=f"authmcp {database}")
                    )
                )
            for era in eras:
                for users in users_list:
                    for round_ in range(args.rounds):
                        for server in servers if round_ % 2 == 0 else servers[::-1]:
                            result, server_cpu = measure(server, era, users, args)
                            cells.setdefault((era, users, server.name), Cell()).add(result, server_cpu)
                    print(
                        f"  {era} K={users}: "
                        + ", ".join(f"{s.name} {cells[era, users, s.name].rate:.0f}/s" for s in servers),
                        flush=True,
                    )
            names = [s.name for s in servers]
    report(cells, eras, users_list, names)


def ratio(value: float, bare: float) -> str:
    return f"{value / bare:.2f}" if bare and math.isfinite(bare) and math.isfinite(value) else "-"


def report(cells: dict[tuple[str, int, str], Cell], eras: list[str], users_list: list[int], names: list[str]) -> None:
    print(
        "\ntools/call over Streamable HTTP; latency in ms, server CPU in µs per call; ratios are authmcp / bare "
        "(calls/s: >= 0.9 is the target; p99 and CPU: lower is better)"
    )
    head = (
        "era",
        "K",
        "server",
        "calls/s",
        "p50",
        "p99",
        "CPU/call",
        "srv cores",
        "gen cores",
        "x calls/s",
        "x p99",
        "x CPU/call",
    )
    widths = (12, 5, 18, 9, 8, 8, 10, 10, 10, 10, 8, 11)
    print("".join(f"{h:<{w}}" if i < 3 else f"{h:>{w}}" for i, (h, w) in enumerate(zip(head, widths))))
    for era in eras:
        for users in users_list:
            bare = cells[era, users, "bare"]
            for name in names:
                cell = cells[era, users, name]
                ratios = (
                    ("", "", "")
                    if name == "bare"
                    else (
                        ratio(cell.rate, bare.rate),
                        ratio(cell.percentile(99), bare.percentile(99)),
                        ratio(cell.cpu_per_call, bare.cpu_per_call),
                    )
                )
                row = (
                    era,
                    str(users),
                    name,
                    f"{cell.rate:.0f}",
                    f"{cell.percentile(50):.2f}",
                    f"{cell.percentile(99):.2f}",
                    f"{cell.cpu_per_call:.0f}",
                    f"{cell.server_cpu / cell.seconds:.2f}",
                    f"{cell.generator_cpu / cell.seconds:.2f}",
                    *ratios,
                )
                print("".join(f"{v:<{w}}" if i < 3 else f"{v:>{w}}" for i, (v, w) in enumerate(zip(row, widths))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per server, era, K and round")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each measurement")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; the server order is reversed every round")
    parser.add_argument("--users", default="1,10,100,500", help="comma-separated K values")
    parser.add_argument("--eras", default=",".join(ERAS), help="comma-separated protocol eras")
    parser.add_argument("--databases", default="sqlite,postgres", help="authmcp's databases: sqlite, postgres")
    parser.add_argument("--generators", type=int, default=1, help="load generator processes (users split evenly)")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help="a PostgreSQL server; a database is created on it for the run and dropped",
    )
    args = parser.parse_args()
    if not set(args.eras.split(",")) <= set(ERAS):
        parser.error(f"--eras takes {', '.join(ERAS)}")
    if not set(args.databases.split(",")) <= {"sqlite", "postgres"}:
        parser.error("--databases takes sqlite, postgres")
    if args.seconds <= 0 or args.warmup < 0 or args.rounds < 1 or args.generators < 1:
        parser.error("--seconds must be > 0, --warmup >= 0, --rounds and --generators >= 1")
    asyncio.run(main(args))
