"""Cold start over stdio: from spawning the server to the first `tools/list` answer, bare vs authmcp.

What is measured: the wall time from `subprocess.Popen` of the server to the moment its answer to
`tools/list` has been read from its stdout, as an MCP client that launches a server sees it. The client is a
minimal JSON-RPC client on the process's pipes (no SDK in this process, so nothing here competes with the
server's start-up): it writes `initialize` (2025-11-25, the handshake every launcher sends), then
`notifications/initialized` and `tools/list` once the `initialize` answer is in, and checks the answers.

  bare     a plain `MCPServer` with one tool (`echo`), started by `python bare_server.py`, `run("stdio")`
  authmcp  `python -m mcp_server serve` (what `authmcp serve` runs) with its default toolkits (or only
           `--toolkit`s), on a fresh data dir; the first start there creates the key file and the database
           and runs the migrations (timed once, as "first start"), the timed runs find them in place

One untimed warm-up of each (authmcp on a data dir of its own) fills the bytecode caches, in a folder of the
benchmark's own, as pip writes them at install time. Then the runs alternate bare/authmcp, `--runs` of each;
the figures are medians. "CPU s" is the server's own user + system time when its `tools/list` answer
arrived (from /proc; steadier than wall time on a busy machine). "RSS idle" is the server's resident set
(VmRSS) once it has answered and sat idle for `--idle` seconds; then its stdin is closed and it must exit.

    .venv/bin/python bench/coldstart.py [--runs 10] [--idle 0.5] [--toolkit toolkits.gmail ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

BARE_SERVER = '''
from mcp.server.mcpserver import MCPServer

mcp = MCPServer("bare", log_level="WARNING")


@mcp.tool()
async def echo(text: str) -> str:
    """Return the text."""
    return text


mcp.run("stdio")
'''
TIMEOUT = 60.0  # seconds for one start; a server that takes longer is broken, not slow


class StartFailed(Exception):
    """A server did not answer `tools/list` correctly: its time would be of a failure."""


@dataclass
class Start:
    seconds: float
    cpu_seconds: float
    tools: int
    rss_kib: int


def _send(stdin: IO[bytes], message: dict[str, Any]) -> None:
    stdin.write(json.dumps(message).encode() + b"\n")
    stdin.flush()


def _answer(stdout: IO[bytes], request_id: int) -> dict[str, Any]:
    """Read lines until the response to `request_id` (skipping notifications such as log messages)."""
    while True:
        line = stdout.readline()
        if not line:
            raise StartFailed("the server closed stdout before answering")
        message = json.loads(line)
        if message.get("id") == request_id:
            if "result" not in message:
                raise StartFailed(f"request {request_id} failed: {message.get('error')}")
            return message["result"]  # type: ignore[no-any-return]


def _cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far (/proc/<pid>/stat; clock ticks, usually 10 ms)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_once(command: list[str], env: dict[str, str], idle: float, log: IO[bytes]) -> Start:
    """Spawn `command`, time it to the first `tools/list` answer, read its idle RSS, and let it exit."""
    begin = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env)
    assert process.stdin is not None and process.stdout is not None
    try:
        _send(
            process.stdin,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "coldstart", "version": "1"},
                },
            },
        )
        _answer(process.stdout, 1)
        _send(process.stdin, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(process.stdin, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        tools = _answer(process.stdout, 2)["tools"]
        seconds = time.perf_counter() - begin
        cpu = _cpu_seconds(process.pid)
        if not tools:
            raise StartFailed("tools/list answered with no tools")
        time.sleep(idle)
        rss = _rss_kib(process.pid)
        process.stdin.close()
        if process.wait(TIMEOUT) != 0:
            raise StartFailed(f"the server exited with status {process.returncode} after stdin closed")
        return Start(seconds, cpu, len(tools), rss)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def main(runs: int, idle: float, toolkits: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="authmcp-coldstart-") as tmp:
        bare_script = Path(tmp, "bare_server.py")
        bare_script.write_text(BARE_SERVER)
        only = f"toolkits = {json.dumps(toolkits)}\n" if toolkits else ""
        for name in ("warm-up", "authmcp"):
            Path(tmp, f"{name}.toml").write_text(
                f'data_dir = "{Path(tmp, name)}"\nlog_level = "WARNING"\nuser_id = "bench-user"\n{only}'
            )
        # bytecode caches on, in a folder of their own: an installed authmcp has its .pyc files (pip writes them),
        # and a start that compiles every module from source would time the compiler, not the start
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHMCP_") and k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp, "pycache"))
        bare = [sys.executable, str(bare_script)]
        serve = [sys.executable, "-m", "mcp_server", "serve", "--transport", "stdio", "--port", "0", "--config"]
        authmcp = [*serve, str(Path(tmp, "authmcp.toml"))]
        with Path(tmp, "servers.log").open("w+b") as log:
            try:
                start_once(bare, env, 0, log)
                start_once([*serve, str(Path(tmp, "warm-up.toml"))], env, 0, log)
                first = start_once(authmcp, env, 0, log)  # creates the key file, the database, runs migrations
                samples: dict[str, list[Start]] = {"bare": [], "authmcp": []}
                for i in range(runs):
                    order = (("bare", bare), ("authmcp", authmcp))
                    for name, command in order if i % 2 == 0 else reversed(order):
                        samples[name].append(start_once(command, env, idle, log))
            except (StartFailed, subprocess.TimeoutExpired) as exc:
                log.seek(0)
                sys.exit(f"benchmark aborted: {exc}\n{log.read().decode(errors='replace')[-4000:]}")
    report(samples, first, runs)


def report(samples: dict[str, list[Start]], first: Start, runs: int) -> None:
    print(
        f"mcp {version('mcp')}, authmcp {version('authmcp')}, Python {sys.version.split()[0]}; "
        f"stdio spawn to first tools/list answer, median of {runs}"
    )
    print(f"{'server':<10}{'tools':>7}{'median s':>10}{'min s':>8}{'max s':>8}{'CPU s':>8}{'RSS idle MiB':>14}")
    medians, cpu = {}, {}
    for name, starts in samples.items():
        times = [s.seconds for s in starts]
        medians[name] = statistics.median(times)
        cpu[name] = statistics.median(s.cpu_seconds for s in starts)
        rss = statistics.median(s.rss_kib for s in starts) / 1024
        print(
            f"{name:<10}{starts[0].tools:>7}{medians[name]:>10.3f}{min(times):>8.3f}{max(times):>8.3f}"
            f"{cpu[name]:>8.2f}{rss:>14.1f}"
        )
    print(f"first start of authmcp (new database, migrations): {first.seconds:.3f} s")
    print(
        f"ratio authmcp/bare: {medians['authmcp'] / medians['bare']:.2f} wall, {cpu['authmcp'] / cpu['bare']:.2f} CPU"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="timed starts of each server")
    parser.add_argument("--idle", type=float, default=0.5, help="seconds idle before reading the RSS")
    parser.add_argument(
        "--toolkit",
        action="append",
        default=[],
        help="serve only this toolkit (a module name or .py path; repeatable); default: all bundled",
    )
    args = parser.parse_args()
    if args.runs < 1 or args.idle < 0:
        parser.error("--runs must be at least 1 and --idle >= 0")
    main(args.runs, args.idle, args.toolkit)
