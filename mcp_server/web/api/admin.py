"""The admin endpoints of `/v1`: users' connections (listed, and disconnected with revocation at the provider)
and the audit trail."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request

from mcp_server.authorization.service import AuthorizationService
from mcp_server.observability.audit import AuditQuery, parse_since, read_audit
from mcp_server.web.api.edge import ApiError, read_query
from mcp_server.web.api.models import (
    AuditEventItem,
    AuditListQuery,
    AuditPage,
    ConnectionListQuery,
    UserConnection,
    UserConnectionPage,
)

__all__ = ["AdminEndpoints"]


class AdminEndpoints:
    def __init__(self, service: AuthorizationService) -> None:
        self.service = service

    async def list_connections(self, request: Request) -> BaseModel:
        query = read_query(request, ConnectionListQuery)
        rows, total = await self.service.vault.list_connections(
            query.user_id, query.provider_id, limit=query.limit, offset=query.offset
        )
        items = []
        for row in rows:
            provider = self.service.providers.get(row["provider_id"])
            items.append(
                UserConnection(
                    id=str(row["id"]),
                    connection_id=str(row["id"]),
                    connection_status=row["status"],
                    provider_id=row["provider_id"],
                    provider_type=provider.type if provider else None,
                    provider_description=provider.name if provider else None,
                    provider_user_info=row["user_info"],
                    scopes=row["scopes"].split(),
                    user_id=row["user_id"],
                )
            )
        return UserConnectionPage(
            items=items, limit=query.limit, offset=query.offset, page_count=len(items), total_count=total
        )

    async def delete_connection(self, request: Request) -> None:
        """Disconnect at once and revoke at the provider (queued and retried if it is down)."""
        raw = request.path_params["id"]
        owner = await self.service.vault.connection_owner(int(raw)) if raw.isdigit() and len(raw) < 19 else None
        if owner is None:
            raise ApiError(404, "not_found", "No connection has this id; GET /v1/admin/user_connections lists them.")
        await self.service.connections.disconnect(*owner, by="admin")

    # -- GET /v1/admin/audit

    async def list_audit(self, request: Request) -> BaseModel:
        query = read_query(request, AuditListQuery)
        try:
            since = parse_since(query.since) if query.since is not None else None
        except ValueError as exc:
            raise ApiError(400, "invalid_request", f"{exc}.") from None
        rows, total = await read_audit(
            self.service.vault.engine,
            AuditQuery(query.user_id, query.tool, query.provider_id, since, query.limit, query.offset),
        )
        items = [AuditEventItem(**{**row, "scopes": (row["scopes"] or "").split()}) for row in rows]
        return AuditPage(items=items, limit=query.limit, offset=query.offset, page_count=len(items), total_count=total)
