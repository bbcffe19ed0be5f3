"""Authorizing through `/v1`: `POST /v1/tools/authorize` and `/v1/auth/authorize` (the user's connection, or a
flow for them to finish), `GET /v1/auth/status` (waiting on a flow), `POST /v1/auth/confirm_user`."""

from __future__ import annotations

import anyio
from pydantic import BaseModel
from starlette.requests import Request

from mcp_server.authorization.errors import ConfirmationNotUsed, FlowRefused, FlowUnavailable, UserMismatch
from mcp_server.authorization.flows import FlowService
from mcp_server.calls.catalog import Catalog
from mcp_server.calls.orchestration import ToolCalls
from mcp_server.errors import OAuthError, ProviderNotConfigured, ProviderUnavailable
from mcp_server.toolkit.tool import OAuth2
from mcp_server.vault import Connection, Flow
from mcp_server.vault.flow_records import ConsentFlow, audited_as
from mcp_server.web.api.edge import ApiError, read_body, read_query
from mcp_server.web.api.models import (
    AuthAuthorizeRequest,
    AuthorizationResponse,
    ConfirmUserRequest,
    ConfirmUserResponse,
    StatusQuery,
    ToolAuthorizeRequest,
)
from mcp_server.web.api.outcomes import ALREADY_COMPLETED_ID, completed, flow_status
from mcp_server.web.api.tools import find_tool

__all__ = ["AuthEndpoints", "flow_answer"]

MAX_WAIT_SECONDS = 59  # Arcade's limit for `GET /v1/auth/status?wait=`


def flow_answer(flows: FlowService, flow: Flow) -> AuthorizationResponse:
    status = flow_status(flow)
    waiting_for_user = status == "pending" and flow.status == "pending"
    return AuthorizationResponse(
        id=flow.id,
        status=status,
        url=flows.connect_url(flow) if waiting_for_user else None,
        provider_id=audited_as(flow),  # a consent's provider, a secret's name; none for an approval
        scopes=list(flow.scopes) if isinstance(flow, ConsentFlow) else [],
        user_id=flow.user_id,
        error=(flow.error or "expired") if status == "failed" else None,
    )


def refuse_next_uri(next_uri: str | None) -> None:
    if next_uri is not None:
        raise ApiError(
            400,
            "not_supported",
            "authmcp does not take next_uri: after consent the browser sees "
            "authmcp's page (or your [api] verifier_url). Leave it out.",
        )


class AuthEndpoints:
    def __init__(self, catalog: Catalog, calls: ToolCalls) -> None:
        self.catalog = catalog
        self.calls = calls
        self.service = calls.service

    async def authorize_tool(self, request: Request) -> BaseModel:
        body = await read_body(request, ToolAuthorizeRequest)
        refuse_next_uri(body.next_uri)
        definition = find_tool(self.catalog, body.tool_name)
        if definition.requirement is None:
            return AuthorizationResponse(id=ALREADY_COMPLETED_ID, status="completed", user_id=body.user_id)
        return await self.authorization(body.user_id, definition.requirement)

    async def authorize(self, request: Request) -> BaseModel:
        body = await read_body(request, AuthAuthorizeRequest)
        refuse_next_uri(body.next_uri)
        wanted = body.auth_requirement
        provider_id = wanted.id or wanted.provider_id
        assert provider_id is not None  # the model's validator
        if self.service.providers.get(provider_id) is None:
            raise ApiError(
                404,
                "not_found",
                "No provider has this id on this server; use a provider configured "
                "under [providers.<id>] (or a catalogued one such as google or github).",
            )
        scopes = wanted.oauth2.scopes if wanted.oauth2 else []
        return await self.authorization(body.user_id, OAuth2(id=provider_id, scopes=scopes))

    async def authorization(self, user_id: str, requirement: OAuth2) -> AuthorizationResponse:
        """`completed` if the user's connection covers the requirement, else a flow for them to finish."""
        try:
            found = await self.calls.authorize(user_id, requirement)
            if isinstance(found, Connection):
                return completed(user_id, found)
        except ProviderNotConfigured as exc:
            raise ApiError(400, "provider_not_configured", str(exc)) from None
        except FlowRefused as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        except (ProviderUnavailable, OAuthError) as exc:
            raise ApiError(
                503, "provider_unavailable", f"Could not renew the user's authorization: {exc}. Try again in a moment."
            ) from None
        return flow_answer(self.service.flows, found)

    async def status(self, request: Request) -> BaseModel:
        query = read_query(request, StatusQuery)
        if query.id == ALREADY_COMPLETED_ID:
            return AuthorizationResponse(id=ALREADY_COMPLETED_ID, status="completed")
        flow = await self.service.flows.flow_status(query.id)
        if flow is None:
            raise ApiError(
                404,
                "not_found",
                "No authorization has this id; use the id that /v1/tools/authorize or /v1/auth/authorize answered.",
            )
        wait = min(query.wait, MAX_WAIT_SECONDS)
        if wait and flow_status(flow) == "pending":
            flow = await self.service.flows.wait(flow.id, timeout=wait) or flow  # woken by the callback, not by polling
        elif wait and flow_status(flow) == "failed":
            # Already over when asked. `wait_for_completion` asks again until "completed"; holding the answer
            # for `wait` keeps that loop at one request per `wait` instead of spinning.
            await anyio.sleep(wait)
        return flow_answer(self.service.flows, flow)

    # -- POST /v1/auth/confirm_user

    async def confirm_user(self, request: Request) -> BaseModel:
        body = await read_body(request, ConfirmUserRequest)
        try:
            confirmed = await self.service.flows.confirm_user(body.flow_id, body.user_id)
        except UserMismatch as exc:
            raise ApiError(403, "user_mismatch", str(exc)) from None  # what was refused, and what to do
        except ConfirmationNotUsed as exc:  # verification = "idp": not a call this server takes
            raise ApiError(400, "confirm_user_not_used", str(exc)) from None
        except FlowUnavailable as exc:
            raise ApiError(400, "flow_unavailable", str(exc)) from None
        # the grant is bound only when the browser that consented arrives at next_uri
        return ConfirmUserResponse(auth_id=confirmed.flow.id, next_uri=confirmed.next_uri)
