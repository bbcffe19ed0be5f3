"""The authorization service: one object for every front door (the MCP gate, the `/v1` API, the pages, the CLI).

It is a thin facade over the two halves of the work:

- `connections.ConnectionService`: the per-call check (cached lookup, single-flight refresh, revocation).
- `flows.FlowService`: authorization and secret flows, from the link to the stored connection, and waiting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from mcp_server.authorization.connections import ConnectionService
from mcp_server.authorization.flows import (
    CallbackError,
    FlowRefused,
    FlowService,
    FlowUnavailable,
    UserMismatch,
    WrongBrowser,
)
from mcp_server.authorization.verification import Mode
from mcp_server.errors import ProviderNotConfigured
from mcp_server.observability.audit import AuditLog
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.vault import Vault

__all__ = [
    "AuthorizationService",
    "CallbackError",
    "FlowRefused",
    "FlowUnavailable",
    "ProviderNotConfigured",
    "UserMismatch",
    "WrongBrowser",
]


class AuthorizationService:
    def __init__(
        self,
        *,
        vault: Vault,
        providers: ProviderRegistry,
        public_url: str,
        flow_ttl: float = 600.0,
        http_timeout: float = 10.0,
        cache_seconds: float = 5.0,
        verification: Mode = "none",
        verifier_url: str | None = None,
        idp: Provider | None = None,
        revocation_retry_seconds: float = 60.0,
        max_open_flows: int = 20,
        flow_retention_seconds: float = 7 * 86400.0,
        audit: AuditLog | None = None,
        instance_id: str | None = None,
        run_dir: Path | None = None,
        pages_ready: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.vault = vault
        self.providers = providers
        self.audit = audit or AuditLog.disabled()
        self.connections = ConnectionService(
            vault=vault,
            providers=providers,
            audit=self.audit,
            http_timeout=http_timeout,
            cache_seconds=cache_seconds,
            revocation_retry_seconds=revocation_retry_seconds,
            instance_id=instance_id,
            run_dir=run_dir,
        )
        self.flows = FlowService(
            connections=self.connections,
            public_url=public_url,
            flow_ttl=flow_ttl,
            http_timeout=http_timeout,
            verification=verification,
            verifier_url=verifier_url,
            idp=idp,
            max_open_flows=max_open_flows,
            retention_seconds=flow_retention_seconds,
            pages_ready=pages_ready,
        )
        self.revocation_retry_seconds = revocation_retry_seconds
        connections, flows = self.connections, self.flows
        # the connection side
        self.provider = connections.provider
        self.connection_for = connections.connection_for
        self.refresh = connections.refresh
        self.forget = connections.forget
        self.user_secret = connections.user_secret
        self.disconnect = connections.disconnect
        self.maintenance_pass = connections.maintenance_pass
        self.flush_touches = connections.flush_touches
        self.retry_revocations = connections.retry_revocations
        # the flow side
        self.connect_url = flows.connect_url
        self.link = flows.link
        self.withdraw_links = flows.withdraw_links
        self.start_flow = flows.start_flow
        self.start_secret_flow = flows.start_secret_flow
        self.submit_secret = flows.submit_secret
        self.open_in_browser = flows.open_in_browser
        self.browser_cookie = flows.browser_cookie
        self.browser_matches = flows.browser_matches
        self.done_url = flows.done_url
        self.redirect = flows.redirect
        self.complete = flows.complete
        self.confirm_user = flows.confirm_user
        self.finish_sign_in = flows.finish_sign_in
        self.finish_confirmation = flows.finish_confirmation
        self.on_complete = flows.on_complete
        self.wait = flows.wait
        self.flow_status = flows.flow_status

    async def maintain(self) -> None:
        """The background work, run in the server's task group until cancelled: expiring flows, retrying
        revocations, purging old flows, writing the audit trail."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.connections.maintain)
            tg.start_soon(self.flows.maintain, self.revocation_retry_seconds)
            tg.start_soon(self.audit.run)

    @property
    def public_url(self) -> str:
        return self.flows.public_url

    @property
    def verifier_url(self) -> str | None:
        return self.flows.verifier_url

    @property
    def verification(self) -> Mode:
        return self.flows.verification

    @property
    def redirect_uri(self) -> str:
        return self.flows.redirect_uri
