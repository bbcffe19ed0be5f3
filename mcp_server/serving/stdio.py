"""The stdio transport's process: MCP on stdin/stdout, the authorization pages beside it, and its lifetime.

- The pages are served from the port this process holds, or, when another authmcp on the same data dir holds
  it, taken over as soon as that one goes; a holder that does not prove itself gets no links (shared_pages.py).
- When the client goes (stdin closes) while flows still wait for a browser, the listening socket is handed to
  a detached `authmcp keep-pages`, which serves those links until the flows finish or expire; this process
  exits at once either way.
- SIGTERM and SIGINT end the process at once, even while a thread is blocked reading stdin.
- The background work (maintenance passes, the audit writer, metrics) starts once the first `tools/list` has
  been answered, or with the first other request: a cold start's first answers do not share the CPU with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp

from mcp_server.serving.listeners import QuietServer
from mcp_server.serving.shared_pages import SharedPages, hand_over

if TYPE_CHECKING:
    from mcp_server.serving.runtime import Runtime

__all__ = ["after_the_first_tool_list", "serve_pages_while_flows_wait", "serve_stdio"]

logger = logging.getLogger(__name__)

_FLOWS_CHECK = 0.5  # seconds between looks at the flows still waiting, in `authmcp keep-pages`
_BACKGROUND_AT_THE_LATEST = 5.0  # seconds into the session: a client that sends nothing still gets it
_HANDSHAKE = frozenset({"initialize", "notifications/initialized", "server/discover", "ping"})


class _Pages:
    """The web routes: served from the socket we hold, or once the port's holder has gone (`shared`)."""

    def __init__(self, app: ASGIApp, log_level: str, shared: SharedPages | None = None) -> None:
        self.server = QuietServer.for_app(app, log_level)
        self.shared = shared
        self.sock: socket.socket | None = None
        self._waiting = anyio.CancelScope()

    async def run(self, sock: socket.socket | None, withdraw: Callable[[], Awaitable[int]] | None = None) -> None:
        if sock is None:
            assert self.shared is not None and withdraw is not None
            with self._waiting:
                sock = await self.shared.take_over_when_free(withdraw)
            if sock is None or self.server.should_exit:
                return
        self.sock = sock
        await self.server.serve(sockets=[sock])

    def stop(self) -> None:
        self._waiting.cancel()
        self.server.should_exit = True  # a graceful stop: a cancelled uvicorn logs a CancelledError traceback


async def serve_stdio(runtime: Runtime, app: ASGIApp, shared: SharedPages, *, config_file: Path | None) -> None:
    """MCP on stdio until the client goes; the pages `app` on the port `shared` holds, or takes over later."""
    pages = _Pages(app, runtime.settings.log_level, shared)
    where = (
        "at"
        if shared.sock is not None
        else "(held by another program) at"
        if shared.stranger
        else "served by another authmcp at"
    )
    logger.info(
        "MCP on stdio as user %r; authorization pages %s %s", runtime.settings.user_id, where, runtime.public_url
    )
    _exit_on_signals(runtime)
    background = anyio.CancelScope()
    async with anyio.create_task_group() as tg:
        tg.start_soon(pages.run, shared.sock, runtime.service.flows.withdraw_links)
        due = after_the_first_tool_list(runtime.mcp)
        tg.start_soon(_run_in, background, due, runtime.service.maintain, runtime.observability.run)
        await runtime.mcp.run_stdio_async()
        # The client has gone (and may kill our process group in a moment): the links it showed must keep working.
        waiting, _ = await runtime.vault.open_flows()
        if waiting and pages.sock is not None:
            hand_over(pages.sock, config_file, runtime.settings.data_dir)
            logger.info("the MCP client has gone; a detached authmcp serves the pages of %d pending flow(s)", waiting)
        background.cancel()
        pages.stop()


async def serve_pages_while_flows_wait(runtime: Runtime, app: ASGIApp, sock: socket.socket) -> None:
    """Serve the pages `app` on `sock` until no flow waits for a browser any more."""
    pages = _Pages(app, runtime.settings.log_level)
    background = anyio.CancelScope()
    async with anyio.create_task_group() as tg:
        tg.start_soon(pages.run, sock)
        tg.start_soon(_run_in, background, None, runtime.service.maintain)
        while (await runtime.vault.open_flows())[0]:
            await anyio.sleep(_FLOWS_CHECK)
        logger.info("no flow waits for a browser any more; stopping")
        background.cancel()
        pages.stop()


def after_the_first_tool_list(mcp: MCPServer[Any]) -> anyio.Event:
    """Set once the first `tools/list` has been answered, or when any request but the handshake arrives (a
    call's audit row is then written as usual); the watch leaves the MCP server's middleware once it has fired."""
    due = anyio.Event()
    chain = mcp.middleware

    async def watch(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method in _HANDSHAKE:
            return await call_next(ctx)
        if ctx.method != "tools/list":
            due.set()
        try:
            return await call_next(ctx)
        finally:
            due.set()
            if watch in chain:
                chain.remove(watch)

    chain.append(watch)
    return due


async def _run_in(
    scope: anyio.CancelScope, due: anyio.Event | None, *fns: Callable[[], Coroutine[Any, Any, None]]
) -> None:
    """Run background loops until `scope` is cancelled; with `due`, from when it is set (or a little later)."""
    with scope:
        if due is not None:
            with anyio.move_on_after(_BACKGROUND_AT_THE_LATEST):
                await due.wait()
        async with anyio.create_task_group() as tg:
            for fn in fns:
                tg.start_soon(fn)


def _exit_on_signals(runtime: Runtime) -> None:
    """SIGTERM or SIGINT: exit now. A clean unwinding would wait for the thread blocked reading stdin."""
    loop = asyncio.get_running_loop()

    def exit_now(name: str) -> None:
        logger.info("%s: stopping", name)
        runtime.vault.notices.forget_now()
        os._exit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread, or no such support
            loop.add_signal_handler(sig, exit_now, sig.name)
