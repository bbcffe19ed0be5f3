"""A load generator that is not the bottleneck: raw keep-alive sockets, pre-built request bytes, own processes.

Each simulated user holds one HTTP/1.1 keep-alive connection and sends the exact Streamable HTTP wire form of its
protocol era, built once:

  2026-07-28  one POST per call, no session: the `Mcp-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers and
              the `_meta` envelope `mcp.Client` sends; the answer is a JSON body.
  2025-11-25  a stateful session: `initialize`, `notifications/initialized`, then POSTs carrying `Mcp-Session-Id`;
              the answer is one SSE event in a chunked body.

A user's first answer is parsed and checked in full (the echoed text, no error); later answers must be the same
bytes (same request id, same answer), or are parsed and checked again, so a wrong answer is never counted. The
check happens after the clock is read.

The parent (`run_load`, `run_latency`) starts the generator processes (`python bench/loadgen.py`), gives each its
users as JSON on stdin, waits for all to say "ready" (connected, sessions open) and then says when to start, so
set-up never falls in the measured window. Each process reports its answers, their latencies and its own CPU time.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PING = {"text": "ping"}
META_2026 = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
ERAS = ("2026-07-28", "2025-11-25")


class BadAnswer(Exception):
    """An answer that is not the echoed text: the run stops rather than time an error path."""


# ------------------------------------------------------------------ one user's connection (generator side)


def _request(host: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Accept: application/json, text/event-stream",
        "Content-Type: application/json",
        f"Content-Length: {len(data)}",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items() if value]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _messages(body: bytes) -> list[dict[str, Any]]:
    """The JSON-RPC messages in a JSON body or in the `data:` lines of an SSE body."""
    text = body.decode()
    if text.lstrip().startswith("{"):
        return [json.loads(text)]
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]


def _excerpt(body: bytes) -> str:
    """The start of an unexpected answer, for the error; an authorization link's flow id is cut off."""
    return re.sub(r"/connect/([\w-]{6})[\w-]*", r"/connect/\1...", body[:300].decode(errors="replace"))


class Connection:
    """One user: a keep-alive socket to one server, and the call it repeats."""

    def __init__(self, target: dict[str, str]) -> None:
        self.target = target
        url = urlsplit(target["url"])
        self.host, self.port, self.path = url.hostname or "127.0.0.1", url.port or 80, url.path
        self.authority = url.netloc
        self.auth = f"Bearer {target['token']}" if target["token"] else ""
        self.call_bytes = b""
        self.session_headers: dict[str, str] = {}
        self.expected: bytes | None = None

    async def open(self) -> None:
        await self._connect()
        era, tool = self.target["era"], self.target["tool"]
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": PING}}
        if era == "2026-07-28":
            call["params"]["_meta"] = META_2026  # type: ignore[index]
            headers = {
                "Mcp-Protocol-Version": era,
                "Mcp-Method": "tools/call",
                "Mcp-Name": tool,
                "Authorization": self.auth,
            }
        else:
            init = {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {"protocolVersion": era, "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
            }
            status, head, body = await self._exchange(
                _request(self.authority, self.path, {"Authorization": self.auth}, init)
            )
            session = next(
                (
                    line.split(b":", 1)[1].strip().decode()
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"mcp-session-id:")
                ),
                None,
            )
            if status != 200 or session is None:
                raise BadAnswer(f"initialize answered {status} without a session: {_excerpt(body)}")
            headers = {"Mcp-Session-Id": session, "Mcp-Protocol-Version": era, "Authorization": self.auth}
            self.session_headers = headers
            status, _, body = await self._exchange(
                _request(self.authority, self.path, headers, {"jsonrpc": "2.0", "method": "notifications/initialized"})
            )
            if status != 202:
                raise BadAnswer(f"notifications/initialized answered {status}: {_excerpt(body)}")
        self.call_bytes = _request(self.authority, self.path, headers, call)

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def _exchange(self, request: bytes) -> tuple[int, bytes, bytes]:
        try:
            return await self._round_trip(request)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            # The server closed an idle keep-alive connection (uvicorn does after 5 s, which K=500 sessions'
            # set-up can take): reconnect once and resend, as HTTP clients do. A session outlives its socket.
            self.writer.close()
            await self._connect()
            return await self._round_trip(request)

    async def _round_trip(self, request: bytes) -> tuple[int, bytes, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lower = head.lower()
        if b"transfer-encoding: chunked" in lower:
            parts = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                parts.append((await self.reader.readexactly(size + 2))[:-2])
            await self.reader.readline()  # the blank line after the last chunk (no trailers)
            body = b"".join(parts)
        else:
            at = lower.find(b"content-length:")
            length = int(lower[at + 15 : lower.find(b"\r\n", at)]) if at >= 0 else 0
            body = await self.reader.readexactly(length)
        return int(head[9:12]), head, body

    async def call(self) -> tuple[int, bytes]:
        status, _, body = await self._exchange(self.call_bytes)
        return status, body

    def check(self, status: int, body: bytes) -> None:
        """Raise BadAnswer unless this is the echo's correct answer; remember it for a byte comparison."""
        if status == 200 and body == self.expected:
            return
        try:
            answer = next(m for m in _messages(body) if m.get("id") == 1) if status == 200 else {}
        except (ValueError, StopIteration):
            answer = {}
        result = answer.get("result", {})
        if result.get("isError") or result.get("structuredContent") != {"result": "ping"}:
            raise BadAnswer(f"{self.target['tool']} answered {status}: {_excerpt(body)}")
        self.expected = body

    async def close(self) -> None:
        """End the session as a client does (DELETE), so sessions do not pile up in the server across runs."""
        if self.session_headers:
            lines = [f"DELETE {self.path} HTTP/1.1", f"Host: {self.authority}", "Content-Length: 0"]
            lines += [f"{name}: {value}" for name, value in self.session_headers.items() if value]
            try:
                await self._exchange(("\r\n".join(lines) + "\r\n\r\n").encode())
            except (OSError, asyncio.IncompleteReadError):
                pass  # the measurement is over; the server ends idle sessions itself
        self.writer.close()


# ------------------------------------------------------------------ the generator process


async def _open_all(targets: list[dict[str, str]]) -> list[Connection]:
    connections = [Connection(t) for t in targets]
    for start in range(0, len(connections), 50):  # not all at once: the listen backlog and the server's accept
        await asyncio.gather(*(c.open() for c in connections[start : start + 50]))
    return connections


async def _load(connections: list[Connection], begin: float, end: float) -> dict[str, Any]:
    """Every user calls in a loop until `end`; answers completed within [begin, end) count (perf_counter ns)."""
    latencies: list[int] = []
    cpu: list[float] = []

    spread = max(0.0, (begin - time.perf_counter_ns()) / 1e9)

    async def user(connection: Connection) -> None:
        # Users start at random moments of the warm-up: started together, K=500 users whose calls take longer
        # than the window would answer in waves, and a window could fall between two waves.
        await asyncio.sleep(random.uniform(0, spread))
        clock = time.perf_counter_ns
        while (start := clock()) < end:
            status, body = await connection.call()
            stop = clock()
            connection.check(status, body)
            if begin <= stop < end:
                latencies.append(stop - start)

    async def sample_cpu() -> None:
        for moment in (begin, end):
            await asyncio.sleep(max(0.0, (moment - time.perf_counter_ns()) / 1e9))
            cpu.append(time.process_time())

    await asyncio.gather(sample_cpu(), *(user(c) for c in connections))
    return {"latencies": latencies, "cpu": cpu[1] - cpu[0]}


async def _latency(connections: list[Connection], calls: int, warmup: int, block: int) -> dict[str, Any]:
    """One call at a time, in blocks that alternate the targets (A B C, C B A, ...) so noise hits all alike."""
    samples: list[list[int]] = [[] for _ in connections]
    for connection in connections:
        for _ in range(warmup):
            connection.check(*await connection.call())
    order = list(range(len(connections)))
    for number in range(-(-calls // block)):
        for i in order if number % 2 == 0 else order[::-1]:
            connection = connections[i]
            for _ in range(min(block, calls - number * block)):
                start = time.perf_counter_ns()
                status, body = await connection.call()
                samples[i].append(time.perf_counter_ns() - start)
                connection.check(status, body)
    return {"samples": samples}


async def _main() -> None:
    spec = json.loads(sys.stdin.readline())
    connections = await _open_all(spec["targets"])
    print("ready", flush=True)
    go = json.loads(await asyncio.to_thread(sys.stdin.readline))
    if spec["mode"] == "load":
        offset = time.perf_counter_ns() - time.time_ns()  # wall-clock start and end, shared by all generators
        result = await _load(connections, go["begin"] * 1e9 + offset, go["end"] * 1e9 + offset)
    else:
        result = await _latency(connections, spec["calls"], spec["warmup"], spec["block"])
    for start in range(0, len(connections), 50):
        await asyncio.gather(*(c.close() for c in connections[start : start + 50]))
    print(json.dumps(result), flush=True)


# ------------------------------------------------------------------ the parent side


@dataclass
class LoadResult:
    calls: int
    seconds: float
    latencies_ns: list[int]
    generator_cpu: float  # CPU seconds of all generator processes within the window

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


class Generators:
    """Generator processes, each given its share of the targets, started and ready (connected)."""

    def __init__(self, spec: dict[str, Any], shares: list[list[dict[str, str]]]) -> None:
        self.processes = [
            subprocess.Popen(
                [sys.executable, str(Path(__file__))], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for _ in shares
        ]
        for process, share in zip(self.processes, shares):
            assert process.stdin is not None
            process.stdin.write(json.dumps({**spec, "targets": share}) + "\n")
            process.stdin.flush()
        for process in self.processes:
            self._expect(process, "ready")

    def go(self, **values: float) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(json.dumps(values) + "\n")
            process.stdin.flush()

    def results(self) -> list[dict[str, Any]]:
        results = [json.loads(self._expect(process, "{")) for process in self.processes]
        for result in results:
            if "error" in result:
                self.close()
                raise SystemExit(f"load generator failed: {result['error']}")
        return results

    def _expect(self, process: subprocess.Popen[str], prefix: str) -> str:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith(prefix):
            self.close()
            raise SystemExit(f"load generator failed (see its error above): {line.strip()[:300]}")
        return line

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


def run_load(
    targets: list[dict[str, str]], *, processes: int, seconds: float, warmup: float, on_window: Any = None
) -> LoadResult:
    """All `targets` (one per user) call at once for `warmup` + `seconds`; `on_window(begin, end)` runs in this
    process meanwhile (it samples the servers' CPU) and its return value is ignored."""
    shares = [targets[i::processes] for i in range(min(processes, len(targets)))]
    generators = Generators({"mode": "load"}, shares)
    try:
        begin = time.time() + warmup
        end = begin + seconds
        generators.go(begin=begin, end=end)
        if on_window is not None:
            on_window(begin, end)
        results = generators.results()
    finally:
        generators.close()
    latencies = [ns for r in results for ns in r["latencies"]]
    return LoadResult(len(latencies), seconds, latencies, sum(r["cpu"] for r in results))


def run_latency(targets: list[dict[str, str]], *, calls: int, warmup: int, block: int = 50) -> list[list[int]]:
    """Sequential calls to each target (ABBA blocks) from one generator process; nanoseconds per call, per target."""
    generators = Generators({"mode": "latency", "calls": calls, "warmup": warmup, "block": block}, [targets])
    try:
        generators.go()
        return list(generators.results()[0]["samples"])
    finally:
        generators.close()


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


if __name__ == "__main__":
    try:
        asyncio.run(_main())
    except (BadAnswer, OSError, asyncio.IncompleteReadError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        print(json.dumps({"error": str(exc)[:300]}), flush=True)
        sys.exit(1)
