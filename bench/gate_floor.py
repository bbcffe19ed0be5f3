"""Where the time of one gated tool call goes, in process: the SDK's floor for an extension, and each piece of the gate.

Part 1 times one `tools/call` (client-observed, `Client(server)` in process, 2026-07-28) on three servers,
in blocks of 50 calls that rotate order so machine noise hits all alike, every result checked. Beside the
wall time it gives this process's CPU time per call (client and server share it), which a busy machine
disturbs less:

  bare      a plain `MCPServer` with `echo(text) -> text`
  no-op     the same server with one `Extension` whose `intercept_tool_call` only calls `call_next`:
            the cost of the SDK's interceptor chain itself, which any gate pays
  authmcp   the same echo as an authmcp tool requiring OAuth, with a fresh stored token (the gate's fast path)

Part 2 times the gate's own pieces, each called directly N times in a loop (best of 5 rounds, µs per call):
the whole gate (`intercept_tool_call`: user, connection, context, the SDK's argument validation, the tool,
the audit record, the SDK's result conversion), and pieces of it, beside the per-call work of the SDK's
`tools/call` handler that the gate does not do (the `Context` object `MCPServer` builds for every call).

    .venv/bin/python bench/gate_floor.py [--blocks 60] [--loops 20000]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Extension, MCPServer
from mcp.server.mcpserver.context import Context
from mcp_types import CallToolRequestParams

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import in_process_runtime
from mcp_server.calls.gate import AuthGate
from mcp_server.calls.orchestration import tool_context

USER = "bench-user"
BLOCK = 50


async def echo(text: str) -> str:
    return text


class NoOp(Extension):
    identifier = "dev.example/no-op"

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        return await call_next(ctx)


async def calls(
    targets: list[tuple[str, Client, str]], blocks: int
) -> tuple[dict[str, list[int]], dict[str, list[float]]]:
    """Each call's wall time (ns), and each block's CPU time per call (ns) of this process, by server."""
    wall: dict[str, list[int]] = {name: [] for name, _, _ in targets}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    for block in range(blocks + 4):  # the first 4 blocks warm up
        shift = block % len(targets)
        for name, client, tool in targets[shift:] + targets[:shift]:
            results = []
            block_cpu = time.process_time_ns()
            for _ in range(BLOCK):
                start = time.perf_counter_ns()
                results.append(await client.call_tool(tool, {"text": "ping"}))
                if block >= 4:
                    wall[name].append(time.perf_counter_ns() - start)
            if block >= 4:
                cpu[name].append((time.process_time_ns() - block_cpu) / BLOCK)
            for result in results:
                if result.is_error or result.structured_content != {"result": "ping"}:
                    sys.exit(f"benchmark aborted: {name} answered {result!r}")
    return wall, cpu


async def per_call(loops: int, fn: Callable[[], Awaitable[Any]]) -> float:
    """µs per call of `fn`, best of 5 rounds of `loops` calls."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(loops):
            await fn()
        rounds.append((time.perf_counter_ns() - start) / loops / 1000)
    return min(rounds)


async def main(blocks: int, loops: int) -> None:
    bare = MCPServer("bare", log_level="WARNING")
    bare.add_tool(echo, name="echo", description="Return the text.")
    no_op = MCPServer("no-op", log_level="WARNING", extensions=[NoOp()])
    no_op.add_tool(echo, name="echo", description="Return the text.")
    async with in_process_runtime(USER) as (runtime, name):
        definition = runtime.catalog.get(name)
        async with Client(bare) as b, Client(no_op) as n, Client(runtime.mcp) as a:
            wall, cpu = await calls([("bare", b, "echo"), ("no-op", n, "echo"), ("authmcp", a, name)], blocks)
        pieces = await measure_pieces(runtime, definition, loops, bare)
        runtime.service.audit._queue.clear()  # the events of part 2 are not calls to keep
    report(wall, cpu, pieces)


async def measure_pieces(runtime: Any, definition: Any, loops: int, bare: MCPServer[Any]) -> dict[str, float]:
    gate = next(e for e in runtime.mcp._extensions if isinstance(e, AuthGate))
    tool = runtime.mcp._tool_manager.get_tool(definition.mcp_name)
    params = CallToolRequestParams(name=definition.mcp_name, arguments={"text": "ping"})
    connection = await runtime.service.connections.connection_for(USER, definition.requirement)
    audit = runtime.service.audit

    async def call_next(ctx: Any) -> None:  # never reached: the gate runs its tools itself
        raise AssertionError("the gate passed a catalogued tool on")

    async def gated() -> None:
        await gate.intercept_tool_call(params, None, call_next)
        audit._queue.clear()

    async def context() -> None:
        tool_context(USER, definition, connection, {}, runtime.environment)

    async def record() -> None:
        audit.record(
            "tool.call",
            user_id=USER,
            tool=definition.api_name,
            provider_id="demo",
            scopes="profile",
            outcome="ok",
            error_kind=None,
            duration_ms=0.1,
            arguments={"text": "ping"},
            actor="user",
        )
        audit._queue.clear()

    async def validate() -> None:
        tool.fn_metadata.validate_arguments({"text": "ping"})

    async def convert() -> None:
        tool.fn_metadata.convert_result("ping")

    bare_params = CallToolRequestParams(name="echo", arguments={"text": "ping"})

    async def handler() -> None:
        await bare._handle_call_tool(None, bare_params)  # type: ignore[arg-type]

    async def sdk_context() -> None:
        Context(request_context=None, mcp_server=runtime.mcp, input_params=params)

    return {
        "the gate, whole (validation to result)": await per_call(loops, gated),
        "  connection lookup (cached)": await per_call(
            loops, lambda: runtime.service.connections.connection_for(USER, definition.requirement)
        ),
        "  ToolContext": await per_call(loops, context),
        "  audit record": await per_call(loops, record),
        "the SDK's tools/call handler, whole (bare)": await per_call(loops, handler),
        "SDK: argument validation": await per_call(loops, validate),
        "SDK: result conversion": await per_call(loops, convert),
        "SDK: Context object": await per_call(loops, sdk_context),
    }


def report(wall: dict[str, list[int]], cpu: dict[str, list[float]], pieces: dict[str, float]) -> None:
    base, base_cpu = statistics.median(wall["bare"]) / 1000, statistics.median(cpu["bare"]) / 1000
    print(f"one tools/call in process (2026-07-28), {len(wall['bare'])} calls per server; CPU: median of the blocks")
    print(f"{'server':<10}{'p50 µs':>9}{'ratio':>8}{'+µs':>8}{'CPU µs':>9}{'ratio':>8}{'+µs':>8}")
    for name in wall:
        median, median_cpu = statistics.median(wall[name]) / 1000, statistics.median(cpu[name]) / 1000
        print(
            f"{name:<10}{median:>9.1f}{median / base:>8.3f}{median - base:>+8.1f}"
            f"{median_cpu:>9.1f}{median_cpu / base_cpu:>8.3f}{median_cpu - base_cpu:>+8.1f}"
        )
    print("\npieces, called directly (µs per call, best of 5)")
    for name, value in pieces.items():
        print(f"{name:<40}{value:>8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=60, help="timed blocks of 50 calls per server")
    parser.add_argument("--loops", type=int, default=20000, help="calls per round when timing a piece")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("mcp_server.vault.keys").setLevel(logging.ERROR)  # "created a new key" in the tmp dir
    anyio.run(main, args.blocks, args.loops)
