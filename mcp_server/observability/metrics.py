"""Prometheus metrics, fed by the audit trail's events (`AuditLog.observers`): one implementation of "an event
happened". Off unless `[metrics]` sets a port (a listener of its own) or a token (`/metrics` on the main app).

Labels are tool names, provider ids and fixed outcomes: never a user, a value or an id that grows without end.
Open flows and pending revocations are counted in the vault when scraped.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

import anyio
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcp_server.config import MetricsSettings
from mcp_server.errors import ConfigError
from mcp_server.observability.audit import AuditEvent, AuditLog
from mcp_server.vault.flow_records import OPEN_STATUSES
from mcp_server.vault.schema import flows, revocations

__all__ = ["Metrics"]

logger = logging.getLogger(__name__)

_REFRESH_OUTCOMES = {"connection.refreshed": "ok", "connection.needs_reauth": "needs_reauth"}


class Metrics:
    def __init__(self, settings: MetricsSettings, audit: AuditLog, engine: AsyncEngine) -> None:
        try:
            import prometheus_client as prom
        except ImportError:
            raise ConfigError(
                "[metrics] is configured but prometheus-client is not installed: pip install 'authmcp[metrics]', "
                "or remove [metrics]."
            ) from None
        self._prom = prom
        self.settings = settings
        self._engine = engine
        self.registry = registry = prom.CollectorRegistry()
        self.tool_calls = prom.Counter(
            "authmcp_tool_calls", "Tool calls by tool and outcome.", ["tool", "outcome"], registry=registry
        )
        self.call_seconds = prom.Histogram(
            "authmcp_tool_call_duration_seconds",
            "How long tools ran, by tool.",
            ["tool"],
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.authorizations = prom.Counter(
            "authmcp_authorizations",
            "Finished authorizations by provider and outcome.",
            ["provider", "outcome"],
            registry=registry,
        )
        self.refreshes = prom.Counter(
            "authmcp_refreshes", "Token refreshes by provider and outcome.", ["provider", "outcome"], registry=registry
        )
        self.webhooks = prom.Counter(
            "authmcp_webhook_deliveries", "Webhook delivery attempts by outcome.", ["outcome"], registry=registry
        )
        self.open_flows = prom.Gauge("authmcp_open_flows", "Authorization flows not finished yet.", registry=registry)
        self.pending_revocations = prom.Gauge(
            "authmcp_pending_revocations", "Tokens waiting to be revoked at their provider.", registry=registry
        )
        dropped = prom.Gauge(
            "authmcp_audit_events_dropped",
            "Audit events dropped because the queue was full, since start.",
            registry=registry,
        )
        dropped.set_function(lambda: audit.dropped)
        audit.observers.append(self.observe)

    def observe(self, event: AuditEvent) -> None:
        name = event.event
        if name == "tool.call" and event.tool:
            self.tool_calls.labels(event.tool, event.outcome or "unknown").inc()
            if event.duration_ms is not None:
                self.call_seconds.labels(event.tool).observe(event.duration_ms / 1000)
        elif name in ("authorization.completed", "authorization.failed") and event.provider_id:
            self.authorizations.labels(event.provider_id, name.removeprefix("authorization.")).inc()
        elif name in _REFRESH_OUTCOMES and event.provider_id:
            self.refreshes.labels(event.provider_id, _REFRESH_OUTCOMES[name]).inc()
        elif name == "webhook.delivery":
            self.webhooks.labels(event.outcome or "unknown").inc()

    async def render(self) -> bytes:
        """The exposition text, with the vault's gauges read now (kept as they were if the vault is slow)."""
        try:
            with anyio.fail_after(2):
                open_flows = (
                    select(func.count())
                    .select_from(flows)
                    .where(flows.c.status.in_(OPEN_STATUSES), flows.c.expires_at > time.time())
                )
                async with self._engine.execution_options(authmcp_read_only=True).connect() as conn:
                    self.open_flows.set((await conn.execute(open_flows)).scalar_one())
                    count = select(func.count()).select_from(revocations)
                    self.pending_revocations.set((await conn.execute(count)).scalar_one())
        except (TimeoutError, SQLAlchemyError, OSError) as exc:
            logger.warning("metrics: could not count flows and revocations (%s)", type(exc).__name__)
        return bytes(self._prom.generate_latest(self.registry))

    async def endpoint(self, request: Request) -> Response:
        token = self.settings.token
        assert token is not None  # routed only with a token
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
            return Response(
                "metrics need Authorization: Bearer <[metrics] token>\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(await self.render(), media_type=self._prom.CONTENT_TYPE_LATEST)

    def routes(self) -> list[Route]:
        """`/metrics` on the main app, behind the bearer token (only when a token is configured)."""
        return [Route("/metrics", self.endpoint, methods=["GET"])] if self.settings.token is not None else []

    def own_app(self) -> Any:
        """The app of the listener of its own: `/metrics`, no token (it binds 127.0.0.1 by default)."""
        from starlette.applications import Starlette

        async def open_endpoint(request: Request) -> Response:
            return Response(await self.render(), media_type=self._prom.CONTENT_TYPE_LATEST)

        return Starlette(routes=[Route("/metrics", open_endpoint, methods=["GET"])])
