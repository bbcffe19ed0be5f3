"""uvicorn as authmcp runs it: no access log (a callback's query string holds a code and state); a variant that
leaves signals to the process (stdio); and the HTTP server's, which stops gracefully on SIGTERM.

On SIGTERM `GracefulServer` runs `on_stop` (the process turns not ready and callers waiting on a consent are told
to retry), stops accepting connections, lets the requests in flight finish for up to `grace` seconds, then shuts
down and returns: the process exits 0 (uvicorn itself would raise the signal again once done, ending the process by
it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from types import FrameType

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["GracefulServer", "QuietServer", "uvicorn_config"]

logger = logging.getLogger(__name__)


def uvicorn_config(app: ASGIApp, log_level: str, *, grace: float | None = None) -> uvicorn.Config:
    # access_log off: the callback's query string holds a code and state, which must not reach a log
    return uvicorn.Config(
        app,
        log_level=log_level.lower(),
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=int(grace) if grace is not None else None,
    )


class QuietServer(uvicorn.Server):
    """uvicorn leaving signals to the process: it must not swallow a SIGTERM meant to end it."""

    @classmethod
    def for_app(cls, app: ASGIApp, log_level: str) -> QuietServer:
        return cls(uvicorn_config(app, log_level))

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _InFlight:
    """Counts the HTTP requests in flight, the long-lived event streams (`GET /mcp`, `GET /sse`) left out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"] == "GET" and scope["path"] in _STREAMS):
            await self.app(scope, receive, send)
            return
        self.count += 1
        self.idle.clear()
        try:
            await self.app(scope, receive, send)
        finally:
            self.count -= 1
            if self.count == 0:
                self.idle.set()


_STREAMS = frozenset({"/mcp", "/sse"})


class GracefulServer(uvicorn.Server):
    """uvicorn stopping as a replica should on SIGTERM (see the module's docstring).

    uvicorn's own shutdown ends every event stream at once (the SDK's SSE responses watch for it), which would cut
    the answer of a tool call still running. So on SIGTERM the listener is closed first and the requests in flight
    are waited for (up to `grace`); only then does uvicorn's shutdown begin.
    """

    def __init__(
        self, app: ASGIApp, log_level: str, *, grace: float, on_stop: Callable[[], None] | None = None
    ) -> None:
        self.requests = _InFlight(app)
        super().__init__(uvicorn_config(self.requests, log_level, grace=grace))
        self.on_stop = on_stop
        self.grace = grace
        self.stopped_by_signal = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopped_by_signal = True
        if sig == signal.SIGTERM and self._draining is None and self._loop is not None and not self.should_exit:
            self._loop.call_soon_threadsafe(self._drain_soon)
            return
        super().handle_exit(sig, frame)  # Ctrl-C, or a second SIGTERM: uvicorn's own way, at once

    def _drain_soon(self) -> None:
        if self._draining is None:
            assert self._loop is not None
            self._draining = self._loop.create_task(self._drain())

    async def _drain(self) -> None:
        if self.on_stop is not None:
            self.on_stop()
        for server in self.servers:
            server.close()  # no new connection; those open are still answered
        try:
            async with asyncio.timeout(self.grace):
                await self.requests.idle.wait()
        except TimeoutError:
            logger.warning("shutdown_grace passed with %d requests in flight: they are cut", self.requests.count)
        self.should_exit = True  # uvicorn's loop sees it within 0.1 s and shuts down
