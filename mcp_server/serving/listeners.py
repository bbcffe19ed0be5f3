"""uvicorn as authmcp runs it: no access log (a callback's query string holds a code and state); a variant that
leaves signals to the process (stdio); and the HTTP server's, which stops gracefully on SIGTERM.

On SIGTERM `GracefulServer` stops accepting connections, runs `on_stop` (the process turns not ready and callers
waiting on a consent are told to retry), lets the requests in flight finish for up to `grace` seconds, and returns:
the process exits 0 (uvicorn itself would raise the signal again once done, ending the process by it)."""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Callable, Iterator
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

__all__ = ["GracefulServer", "QuietServer", "uvicorn_config"]


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


class GracefulServer(uvicorn.Server):
    """uvicorn stopping as a replica should on SIGTERM (see the module's docstring)."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self.on_stop = on_stop
        self.stopped_by_signal = False

    @classmethod
    def for_app(
        cls, app: ASGIApp, log_level: str, *, grace: float, on_stop: Callable[[], None] | None = None
    ) -> GracefulServer:
        return cls(uvicorn_config(app, log_level, grace=grace), on_stop)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopped_by_signal = True
        if sig == signal.SIGTERM and not self.should_exit:
            self.should_exit = True  # uvicorn's loop sees it within 0.1 s and calls `shutdown`
            return
        super().handle_exit(sig, frame)  # Ctrl-C, or a second SIGTERM: uvicorn's own way

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.on_stop is not None:
            self.on_stop()
        await super().shutdown(sockets)
