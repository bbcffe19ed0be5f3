"""The benchmark commands of docs/benchmarks.md, run in a tiny configuration: each exits 0 and prints every figure it
promises.

Nothing here asserts a time: only that the benchmarks run against the real servers, count correct answers, and
refuse to time a wrong one.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.loadgen import run_latency
from bench.servers import authmcp_server
from tests.conftest import REPO
from tests.support.postgres import POSTGRES_URL

pytestmark = pytest.mark.anyio

DATABASES = (
    ["--databases", "sqlite,postgres", "--postgres-url", POSTGRES_URL] if POSTGRES_URL else ["--databases", "sqlite"]
)


def run_bench(script: str, *args: str) -> list[list[str]]:
    """Run `python bench/<script> args` as docs/benchmarks.md does; its output lines, split into words."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line.split() for line in done.stdout.splitlines()]


def figures(words: list[str], count: int) -> list[float]:
    """The last `count` words of a table row, as numbers (each must be one)."""
    values = [float(w) for w in words[-count:]]
    assert all(math.isfinite(v) for v in values), words
    return values


def test_overhead_prints_both_eras_in_process_and_over_http_with_bearer_auth() -> None:
    lines = run_bench("overhead.py", "--calls", "20", "--http-calls", "20", "--warmup", "2")
    for era in ("2026-07-28", "2025-11-25"):
        in_process = [w for w in lines if w[:2] == ["in-process", era]]
        assert len(in_process) == 1
        figures(in_process[0], 6)
        over_http = {" ".join(w[1:-6]): figures(w, 6) for w in lines if w and w[0] == era}
        assert set(over_http) == {"bare", "authmcp static token", "authmcp JWT"}
        assert over_http["bare"][2] == 1.0  # the ratio column is to bare


def test_throughput_prints_calls_latency_and_cpu_per_call_for_each_server_era_and_k() -> None:
    lines = run_bench(
        "throughput.py", "--seconds", "0.3", "--warmup", "0.1", "--rounds", "2", "--users", "2", *DATABASES
    )
    servers = ["bare", "authmcp sqlite"] + (["authmcp postgres"] if POSTGRES_URL else [])
    for era in ("2026-07-28", "2025-11-25"):
        rows = {" ".join(w[2:4] if w[2] == "authmcp" else w[2:3]): w for w in lines if w[:2] == [era, "2"]}
        assert sorted(rows) == sorted(servers)
        assert figures(rows["bare"], 6)[0] > 0  # answers were counted (each one checked by the generator)
        for name in servers[1:]:
            assert figures(rows[name], 9)[0] > 0  # calls/s, latency, CPU, cores, and the three ratios


def test_gate_floor_prints_each_server_and_each_piece() -> None:
    lines = run_bench("gate_floor.py", "--blocks", "2", "--loops", "20")
    servers = {w[0]: figures(w, 6) for w in lines if w and w[0] in ("bare", "no-op", "authmcp")}
    assert sorted(servers) == ["authmcp", "bare", "no-op"] and all(v[0] > 0 for v in servers.values())
    pieces = [w for w in lines if w and w[0] in ("the", "connection", "ToolContext", "audit", "SDK:")]
    assert len(pieces) == 8 and all(figures(w, 1)[0] > 0 for w in pieces)


def test_coldstart_prints_both_servers_and_their_ratio() -> None:
    lines = run_bench("coldstart.py", "--runs", "1", "--idle", "0.1", "--toolkit", "toolkits.gmail")
    rows = {w[0]: figures(w, 6) for w in lines if w and w[0] in ("bare", "authmcp")}
    assert sorted(rows) == ["authmcp", "bare"] and all(v[1] > 0 for v in rows.values())  # a median start time
    assert any(w[:2] == ["ratio", "authmcp/bare:"] for w in lines)


def test_audit_writer_prints_the_call_paths_cost_the_flushs_and_the_longest_stretch() -> None:
    lines = run_bench("audit_writer.py", "--events", "100", "--rounds", "2")
    rows = {w[0]: figures(w, 1)[0] for w in lines if w and w[0] in ("record,", "flush,", "longest")}
    assert sorted(rows) == ["flush,", "longest", "record,"] and all(value >= 0 for value in rows.values())


def test_lookup_prints_the_gate_and_vault_percentiles() -> None:
    lines = run_bench("lookup.py", "--rows", "1000", "--samples", "20", *DATABASES)
    rows = {w[0]: figures(w, 4) for w in lines if w and w[0] in ("sqlite", "postgres")}
    assert sorted(rows) == (["postgres", "sqlite"] if POSTGRES_URL else ["sqlite"])


def test_capacity_prints_cpu_and_statements_for_each_path() -> None:
    if not POSTGRES_URL:
        pytest.skip("bench/capacity.py runs on PostgreSQL: set AUTHMCP_TEST_POSTGRES_URL")
    lines = run_bench("capacity.py", "--calls", "5", "--postgres-url", POSTGRES_URL)
    rows = {
        words[0]: figures(words, 2) for words in lines if words and words[0] in ("hit", "miss", "refresh", "consent")
    }
    assert set(rows) == {"hit", "miss", "refresh", "consent"}, lines
    assert rows["hit"][1] < 1 <= rows["miss"][1]  # a hit reads nothing; a miss reads its connection
    assert rows["refresh"][1] > rows["miss"][1] and rows["consent"][1] > rows["miss"][1]


async def test_the_load_generator_refuses_to_time_a_wrong_answer(tmp_path: Path) -> None:
    async with authmcp_server(tmp_path, f"sqlite:///{tmp_path / 'authmcp.db'}", 1) as server:
        good = server.target(0, "2026-07-28")
        assert len(run_latency([good], calls=2, warmup=1)[0]) == 2
        with pytest.raises(SystemExit, match="401"):
            run_latency([{**good, "token": "not-a-token"}], calls=2, warmup=1)
        with pytest.raises(SystemExit, match="Bench_Nope answered"):
            run_latency([{**good, "tool": "Bench_Nope"}], calls=2, warmup=1)
