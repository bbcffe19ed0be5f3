"""Traces, metrics and webhooks, opened together beside the runtime: each is off unless configured.

- traces: the standard `OTEL_*` environment (mcp_server/observability/telemetry.py)
- metrics: `[metrics]` port or token (mcp_server/observability/metrics.py)
- webhooks: `[webhooks]` urls and secret (mcp_server/observability/webhooks.py)
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware
from starlette.routing import Route

from mcp_server.config import Settings
from mcp_server.errors import ConfigError
from mcp_server.observability import telemetry
from mcp_server.observability.audit import AuditLog
from mcp_server.web.hosts import HostCheck, allowed_hosts

__all__ = ["Observability", "open_observability"]

logger = logging.getLogger(__name__)


@dataclass
class Observability:
    metrics: Any = None  # a metrics.Metrics when configured
    webhooks: Any = None  # a webhooks.WebhookSender when configured
    metrics_socket: socket.socket | None = None
    metrics_hosts: list[str] = field(default_factory=list)  # Host values its listener answers
    log_level: str = "INFO"

    def routes(self) -> list[Route]:
        return self.metrics.routes() if self.metrics is not None else []

    def middleware(self) -> list[Middleware]:
        return [Middleware(telemetry.TraceHTTP)] if telemetry.enabled() else []

    async def run(self) -> None:
        """The metrics listener and the webhook sender, until cancelled (returns at once when neither is on)."""
        async with anyio.create_task_group() as tg:
            if self.metrics is not None and (metrics_socket := self.metrics_socket) is not None:
                from mcp_server.serving.listeners import QuietServer

                # the same DNS-rebinding defence as the main app: loopback names, allowed_hosts, or an
                # address; no other site's Origin (a scraper sends none)
                app = HostCheck(self.metrics.own_app(), hosts=self.metrics_hosts, origins=[], ip_literals=True)
                server = QuietServer.for_app(app, self.log_level)  # SIGTERM is the main server's to handle
                server.config.lifespan = "off"
                tg.start_soon(lambda: server.serve(sockets=[metrics_socket]))
            if self.webhooks is not None:
                tg.start_soon(self.webhooks.run)


@contextlib.asynccontextmanager
async def open_observability(settings: Settings, audit: AuditLog, engine: AsyncEngine) -> AsyncIterator[Observability]:
    """Turn on what is configured.

    Raises:
        ConfigError: Configured but not installed, or the metrics port is taken.
    """
    observability = Observability(log_level=settings.log_level)
    if telemetry.setup():
        logger.info("traces: exporting OTLP over HTTP as configured by OTEL_* variables")
    if settings.metrics.enabled:
        from mcp_server.observability.metrics import Metrics

        observability.metrics = Metrics(settings.metrics, audit, engine)
        if settings.metrics.port is not None:
            from mcp_server.serving.shared_pages import bind

            try:
                observability.metrics_socket = bind(settings.metrics.host, settings.metrics.port)
            except ConfigError:
                raise ConfigError(
                    f"Cannot serve metrics on {settings.metrics.host}:{settings.metrics.port}: the port is taken "
                    f"or not allowed; choose another [metrics] port."
                ) from None
            own = [settings.metrics.host, f"{settings.metrics.host}:*", *settings.allowed_hosts]
            observability.metrics_hosts, _ = allowed_hosts("http://127.0.0.1", own)
            logger.info("metrics at http://%s:%d/metrics", settings.metrics.host, settings.metrics.port)
        if settings.metrics.token is not None:
            logger.info("metrics at /metrics, for the [metrics] bearer token")
    if settings.webhooks.urls:
        from mcp_server.observability.webhooks import WebhookSender, attach_outbox

        attach_outbox(audit, settings.webhooks)
        observability.webhooks = WebhookSender(engine, settings.webhooks, audit)
        logger.info("webhooks: %d endpoint(s)", len(settings.webhooks.urls))
    try:
        yield observability
    finally:
        if observability.metrics_socket is not None:
            observability.metrics_socket.close()
        telemetry.shutdown()
