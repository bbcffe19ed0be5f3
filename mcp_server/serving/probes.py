"""`/readyz` (may this process be sent calls?) and a replica started before its schema: it answers the probes,
not ready, until `authmcp db upgrade` has run, then opens.

`/healthz` answers 200 while the process lives (web/consent.py). `/readyz` answers 200 only when the database
answers within `READY_TIMEOUT`, its schema is at this authmcp's revision (or a newer one, as during a rolling
upgrade) and the keys are loaded; otherwise 503 with `{"status": "not_ready", "reason": ...}`, a sentence naming
the condition (never a URL, a query or a value).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mcp_server.config import Settings
from mcp_server.errors import ConfigError
from mcp_server.serving.listeners import GracefulServer
from mcp_server.vault import Vault
from mcp_server.vault.migrate import schema_behind, stored_revision

if TYPE_CHECKING:
    from mcp_server.serving.runtime import Runtime

__all__ = ["READY_TIMEOUT", "readiness_routes", "schema_problem", "wait_for_schema"]

logger = logging.getLogger(__name__)

READY_TIMEOUT = 2.0  # seconds the database has to answer a probe
SCHEMA_POLL_SECONDS = 2.0  # how often a replica waiting for `authmcp db upgrade` looks again
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def schema_problem(engine: AsyncEngine) -> str | None:
    """Why the database cannot be served now (unreachable, slow, schema behind), or None."""
    try:
        with anyio.fail_after(READY_TIMEOUT):
            async with engine.connect() as conn:
                revision = await conn.run_sync(stored_revision)
    except TimeoutError:
        return f"the database did not answer within {READY_TIMEOUT:g} s"
    except (SQLAlchemyError, OSError, ConfigError) as exc:
        logger.debug("readiness: the database cannot be used (%s)", type(exc).__name__)
        return "the database cannot be reached"
    return schema_behind(revision)


def _answer(reason: str | None) -> Response:
    if reason is None:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "not_ready", "reason": reason}, status_code=503)


def _probe_routes(readiness: Callable[[], Awaitable[str | None]]) -> list[BaseRoute]:
    async def readyz(request: Request) -> Response:
        return _answer(await readiness())

    return [Route("/readyz", readyz, methods=["GET"])]


def readiness_routes(runtime: Runtime) -> list[BaseRoute]:
    """`GET /readyz` of a serving process."""

    async def readiness() -> str | None:
        if runtime.stopping:
            return "this process is shutting down"
        if not runtime.vault.keyring.key_ids:
            return "no encryption key is loaded"
        return await schema_problem(runtime.vault.engine)

    return _probe_routes(readiness)


async def wait_for_schema(settings: Settings, sock: socket.socket) -> bool:
    """Before opening: if the database answers but its schema is behind and this process may not migrate it,
    serve `/healthz` and a 503 `/readyz` on `sock` until `authmcp db upgrade` has run.

    Returns False when a signal asked the process to stop meanwhile.
    """
    engine = Vault.create_engine(settings.resolved_database_url())
    try:
        reason = await schema_problem(engine)
        if reason is None or reason == "the database cannot be reached" or any(settings.schema_at_start()):
            return True  # ready, or opening reports the problem (or migrates) as it always did
        logger.warning("not ready: %s; waiting for it (see /readyz)", reason)
        state = {"reason": reason}

        async def healthz(request: Request) -> Response:
            return JSONResponse({"status": "ok"})

        async def readiness() -> str | None:
            return state["reason"]

        async def not_yet(request: Request) -> Response:  # every other path: the same answer as /readyz, to retry
            response = _answer(state["reason"])
            response.headers["Retry-After"] = str(int(SCHEMA_POLL_SECONDS))
            return response

        routes = [Route("/healthz", healthz, methods=["GET"]), *_probe_routes(readiness)]
        app = Starlette(routes=[*routes, Route("/{path:path}", not_yet, methods=_EVERY_METHOD)])
        server = GracefulServer(app, settings.log_level, grace=settings.shutdown_grace)
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                while True:
                    await anyio.sleep(SCHEMA_POLL_SECONDS)
                    problem = await schema_problem(engine)
                    state["reason"] = problem or "the schema is ready; this process is opening"
                    if problem is None:
                        logger.info("the database schema is at this authmcp's revision: opening")
                        server.should_exit = True
                        return

            tg.start_soon(watch)
            await server.serve(sockets=[sock.dup()])  # uvicorn closes the sockets it serves: the original stays
            tg.cancel_scope.cancel()
        return not server.stopped_by_signal
    finally:
        await engine.dispose()
