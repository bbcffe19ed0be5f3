"""The authorization service: what every front door (the MCP gate, the `/v1` API, the pages, the CLI) holds.

It holds the two halves of the work, each called directly by whoever needs it:

- `connections`: a `connections.ConnectionService`, the per-call check (cached lookup, single-flight refresh,
  revocation).
- `flows`: a `flows.FlowService`, authorization and secret flows, from the link to the stored connection, and
  waiting.

and runs their background work together (`maintain`). `create_authorization_service` assembles it from settings.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from mcp_server.authorization.connections import ConnectionService
from mcp_server.authorization.flows import FlowService
from mcp_server.authorization.verification import Mode
from mcp_server.observability.audit import AuditLog
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.providers.id_tokens import IdTokens
from mcp_server.vault import Vault

__all__ = ["AuthorizationService", "create_authorization_service"]


class AuthorizationService:
    """The connection side and the flow side, and the vault, providers and audit trail they share."""

    def __init__(self, *, connections: ConnectionService, flows: FlowService) -> None:
        self.connections = connections
        self.flows = flows
        self.vault = connections.vault
        self.providers = connections.providers
        self.audit = connections.audit

    async def maintain(self) -> None:
        """The background work, run in the server's task group until cancelled: expiring flows, retrying
        revocations, purging old flows, writing the audit trail."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.connections.maintain)
            tg.start_soon(self.flows.maintain, self.connections.revocation_retry_seconds)
            tg.start_soon(self.audit.run)


def create_authorization_service(
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
    idp_tokens: IdTokens | None = None,
    revocation_retry_seconds: float = 60.0,
    max_open_flows: int = 20,
    flow_retention_seconds: float = 7 * 86400.0,
    audit: AuditLog | None = None,
    instance_id: str | None = None,
    run_dir: Path | None = None,
    pages_ready: Callable[[], Awaitable[None]] | None = None,
) -> AuthorizationService:
    """Both halves, wired to each other, as `serve`, the CLI commands and the tests build them."""
    connections = ConnectionService(
        vault=vault,
        providers=providers,
        audit=audit or AuditLog.disabled(),
        http_timeout=http_timeout,
        cache_seconds=cache_seconds,
        revocation_retry_seconds=revocation_retry_seconds,
        instance_id=instance_id,
        run_dir=run_dir,
    )
    flows = FlowService(
        connections=connections,
        public_url=public_url,
        flow_ttl=flow_ttl,
        http_timeout=http_timeout,
        verification=verification,
        verifier_url=verifier_url,
        idp=idp,
        idp_tokens=idp_tokens,
        max_open_flows=max_open_flows,
        retention_seconds=flow_retention_seconds,
        pages_ready=pages_ready,
    )
    return AuthorizationService(connections=connections, flows=flows)
