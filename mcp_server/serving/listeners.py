"""uvicorn as authmcp runs it: no access log (a callback's query string holds a code and state), and a variant
that leaves signals to the process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["QuietServer", "http_server", "uvicorn_config"]


def uvicorn_config(app: ASGIApp, log_level: str) -> uvicorn.Config:
    # access_log off: the callback's query string holds a code and state, which must not reach a log
    return uvicorn.Config(app, log_level=log_level.lower(), access_log=False, log_config=None, lifespan="on")


class QuietServer(uvicorn.Server):
    """uvicorn leaving signals to the process: it must not swallow a SIGTERM meant to end it."""

    @classmethod
    def for_app(cls, app: ASGIApp, log_level: str) -> QuietServer:
        return cls(uvicorn_config(app, log_level))

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def http_server(app: ASGIApp, log_level: str) -> uvicorn.Server:
    return uvicorn.Server(uvicorn_config(app, log_level))
