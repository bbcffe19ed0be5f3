"""Bearer auth for the MCP endpoints (`/mcp`, `/sse`, `/messages/`): one pure-ASGI step in front of each.

A request whose `Authorization: Bearer` token `Identities` accepts goes on as its `Caller`: in the scope
(`user`, `auth`), where the SDK's transports bind sessions to it, and in the SDK's auth context, where
`get_access_token()` finds it. Any other request gets the RFC 9728 challenge: 401 with
`WWW-Authenticate: Bearer error="invalid_token", ..., resource_metadata="<public URL>/.well-known/
oauth-protected-resource/mcp"`, the metadata served by `metadata_routes`. The token is never logged.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_server.calls.identity import Identities

__all__ = ["BearerAuth", "metadata_routes"]

_PREFIX = b"bearer "


class BearerAuth:
    """Pure ASGI: let through only requests with a token `identities` accepts, as that caller."""

    def __init__(self, app: ASGIApp, *, identities: Identities) -> None:
        self.app = app
        self.identities = identities
        # the refusal is the same for every request: built once (as the SDK's RequireAuthMiddleware words it)
        error, description = "invalid_token", "Authentication required"
        metadata = build_resource_metadata_url(identities.resource)  # type: ignore[arg-type]
        challenge = f'Bearer error="{error}", error_description="{description}", resource_metadata="{metadata}"'
        body = json.dumps({"error": error, "error_description": description}).encode()
        self._refusal: tuple[Message, Message] = (
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                ],
            },
            {"type": "http.response.body", "body": body},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                if value[:7].lower() == _PREFIX:
                    caller = await self.identities.identify(value[7:])
                break
        if caller is None:
            start, body = self._refusal
            await send(start)
            await send(body)
            return
        scope["user"], scope["auth"] = caller, caller.credentials
        context = auth_context_var.set(caller)
        try:
            await self.app(scope, receive, send)
        finally:
            auth_context_var.reset(context)


def metadata_routes(identities: Identities) -> list[Route]:
    """`/.well-known/oauth-protected-resource/mcp` (RFC 9728): this resource and the server issuing its tokens.

    With static tokens alone no authorization server issues them, so none is named (the member is optional in
    RFC 9728, though the SDK's model requires one): naming this server would send OAuth clients to register at
    an authorization server that is not there ("Registration failed: 404"), instead of saying a token is needed.
    """
    if identities.issuer is None:
        metadata = {"resource": identities.resource, "bearer_methods_supported": ["header"]}

        async def static_only(request: Request) -> Response:
            return JSONResponse(metadata, headers={"Cache-Control": "public, max-age=3600"})

        path = urlsplit(str(build_resource_metadata_url(identities.resource))).path  # type: ignore[arg-type]
        return [Route(path, static_only, methods=["GET"])]
    # strings, validated by the SDK's model: an `AnyHttpUrl` made here would gain a trailing slash
    return create_protected_resource_routes(
        resource_url=identities.resource,  # type: ignore[arg-type]
        authorization_servers=[identities.issuer],  # type: ignore[list-item]
    )
