"""Running a runtime: over stdio with the pages beside it, or over HTTP; and `authmcp keep-pages`."""

from __future__ import annotations

import gc
import logging
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

import anyio

from mcp_server.calls.readiness import log_unconfigured
from mcp_server.config import Settings, is_loopback
from mcp_server.errors import ConfigError
from mcp_server.serving.listeners import GracefulServer
from mcp_server.serving.probes import wait_for_schema
from mcp_server.serving.runtime import open_runtime, toolkit_specs
from mcp_server.serving.shared_pages import SharedPages, bind
from mcp_server.serving.stdio import serve_pages_while_flows_wait, serve_stdio
from mcp_server.serving.web_app import create_http_app, create_web_app, on_a_socket

__all__ = ["keep_pages", "serve"]

logger = logging.getLogger(__name__)


async def serve(
    settings: Settings,
    *,
    transport: str,
    host: str,
    port: int,
    toolkits: Sequence[str] = (),
    stateless: bool = False,
    config_file: Path | None = None,
    on_start: Callable[[], object] = lambda: None,
) -> None:
    """Run authmcp until stdin closes (stdio) or the process is interrupted (http: SIGTERM stops it gracefully,
    see listeners.py; a database whose schema is behind is waited for, see probes.py).

    With stdio, the authorization pages on host:port are shared by every process on the same data dir, and
    outlive a client that goes while flows wait for a browser (see stdio.py and shared_pages.py).

    `on_start` is called once the configuration has proved workable, just before serving (a mistake found
    earlier is then the only thing said).

    Raises:
        ConfigError: The configuration cannot work; nothing was started.
    """
    if transport not in ("stdio", "http", "sse"):
        raise ConfigError(f"Unknown transport {transport!r}; use stdio, http or sse.")
    if not 0 <= port <= 65535:
        raise ConfigError(f"Port {port} is not a port number; choose one from 0 to 65535.")
    # stdio: None when an authmcp on the same data dir already serves the pages on that port
    pages = SharedPages(host, port, settings.data_dir) if transport == "stdio" else None
    sock = await pages.claim() if pages is not None else bind(host, port)
    try:
        actual_port = sock.getsockname()[1] if sock is not None else port
        public_url = settings.resolved_public_url(host, actual_port)
        if sock is not None and pages is None and not await wait_for_schema(settings, sock):
            return  # stopped while waiting
        async with open_runtime(
            settings, public_url=public_url, toolkits=toolkits, pages_ready=pages.ready if pages else None
        ) as runtime:
            logger.info(
                "%d tools from %s", len(runtime.catalog), ", ".join(toolkit_specs(settings, toolkits)) or "no toolkits"
            )
            log_unconfigured(runtime.catalog, runtime.service.providers)
            if pages is not None:
                on_start()
                await serve_stdio(
                    runtime, on_a_socket(create_web_app(runtime), runtime), pages, config_file=config_file
                )
            else:
                assert sock is not None
                if not runtime.multi_user:
                    if not is_loopback(host):
                        raise ConfigError(
                            f"Refusing to serve HTTP on {host} without authentication: configure [mcp_auth] tokens "
                            f"or jwt_issuer, or bind to 127.0.0.1."
                        )
                    logger.warning(
                        "no [mcp_auth] configured: serving on loopback only, every caller acts as the local user %r",
                        settings.user_id,
                    )
                on_start()
                logger.info("MCP over Streamable HTTP at %s/mcp and SSE at %s/sse", public_url, public_url)
                if stateless and not settings.request_state_keys:
                    logger.warning(
                        "--stateless without request_state_keys: a 2026-07-28 round trip must come back to this "
                        "process. Behind a load balancer give every replica the same request_state_keys."
                    )
                app = on_a_socket(create_http_app(runtime, stateless=stateless), runtime)
                # what is loaded by now lives as long as the process: out of the collector's sight, so that the
                # exit after SIGTERM does not spend seconds of CPU collecting it
                gc.freeze()

                def stop() -> None:
                    logger.info("stopping: no new connections; calls in flight have %g s", settings.shutdown_grace)
                    runtime.stopping = True
                    runtime.service.flows.stop_waiting()

                server = GracefulServer(app, settings.log_level, grace=settings.shutdown_grace, on_stop=stop)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(runtime.service.maintain)
                    tg.start_soon(runtime.observability.run)
                    await server.serve(sockets=[sock])
                    tg.cancel_scope.cancel()
    finally:
        for held in (sock, pages.sock if pages is not None else None):  # and the one taken over later
            if held is not None:
                held.close()


async def keep_pages(settings: Settings, sock: socket.socket) -> None:
    """`authmcp keep-pages`: serve the pages on a socket a stdio process handed over, while flows wait."""
    host, port = sock.getsockname()[:2]
    public_url = settings.resolved_public_url(host, port)
    async with open_runtime(settings.model_copy(update={"toolkits": []}), public_url=public_url) as runtime:
        await serve_pages_while_flows_wait(runtime, on_a_socket(create_web_app(runtime), runtime), sock)
