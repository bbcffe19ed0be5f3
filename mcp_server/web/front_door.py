"""The front door's HTTP side: the MCP SDK's OAuth routes around `FrontDoor`, and the pages of a sign-in.

The SDK's `create_auth_routes` serves `/authorize`, `/token`, `/register` and `/revoke`; here its metadata route
is replaced by the RFC 8414 document this server means (public clients, metadata-document clients), and
registration is bounded (a body cap, a rate per address, a total). `/authorize` parks the request and sends the
browser to `/authorize/continue`: without a session to the `sign_in` provider (`/sign-in/callback` comes back
with one), then to the consent page, which names the client and offers Approve and Deny as a form bound to the
session (a CSRF token derived from it). A client this person approved before is not asked about again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.routes import build_metadata, cors_middleware, create_auth_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server.front_door.clients import registration_source
from mcp_server.front_door.provider import REQUEST_TTL, FrontDoor
from mcp_server.front_door.sign_in import CALLBACK_PATH, SignIn, SignInError
from mcp_server.vault import Flow
from mcp_server.web.hosts import send_plain
from mcp_server.web.pages import BROWSER_HEADERS, page, retry_page_on_outage

__all__ = ["SignInFirst", "create_front_door_routes", "session_cookie_name", "session_gate"]

MAX_REGISTRATION_BYTES = 16 * 1024
SESSION_TTL = 12 * 3600.0
_SECURE_COOKIE = "__Host-authmcp_session"
_LOOPBACK_COOKIE = "authmcp_session"
_SIGN_IN_COOKIE = "authmcp_sign_in"  # binds a sign-in to the browser that started it

_CONSENT_FORM = """<p>{details}</p>
<form method="post" action="/authorize/decide">
<input type="hidden" name="request" value="{request}"><input type="hidden" name="csrf" value="{csrf}">
<p><button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button></p></form>"""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def session_cookie_name(public_url: str) -> str:
    return _LOOPBACK_COOKIE if urlsplit(public_url).scheme == "http" else _SECURE_COOKIE


class _BoundedRegistration:
    """Pure ASGI in front of `/register`: a body cap, and the caller's address for the per-address rate."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for key, value in scope["headers"]:
            if key == b"content-length" and (not value.isdigit() or int(value) > MAX_REGISTRATION_BYTES):
                await send_plain(send, 413, b"A registration is at most 16 KiB.")
                return
        received = 0

        async def bounded() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_REGISTRATION_BYTES:
                raise _TooLarge
            return message

        client = scope.get("client")
        token = registration_source.set(str(client[0]) if client else "")
        try:
            await self.app(scope, bounded, send)
        except _TooLarge:
            await send_plain(send, 413, b"A registration is at most 16 KiB.")
        finally:
            registration_source.reset(token)


class _TooLarge(Exception):
    pass


class _PublicRevocation:
    """Pure ASGI in front of `/revoke`: the SDK's revocation request requires a `client_secret` field, which a
    public client (RFC 7009 §2.1 with `token_endpoint_auth_method = "none"`) does not send; an empty one is added
    (client authentication is still the SDK's: a confidential client without its secret is refused)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_REGISTRATION_BYTES:
                await send_plain(send, 413, b"A revocation request is at most 16 KiB.")
                return
        if b"client_secret=" not in body:
            body += b"&client_secret=" if body else b"client_secret="
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)


def metadata_document(issuer: str) -> dict[str, Any]:
    """RFC 8414: the SDK's document, for public clients (PKCE, no secret) and Client ID Metadata Documents too."""
    metadata = build_metadata(
        AnyHttpUrl(issuer), None, ClientRegistrationOptions(enabled=True), RevocationOptions(enabled=True)
    )
    document = metadata.model_dump(mode="json", exclude_none=True)
    methods = ["none", "client_secret_post", "client_secret_basic"]
    document.update(
        issuer=issuer,  # as configured: no trailing slash added by the URL type
        token_endpoint_auth_methods_supported=methods,
        revocation_endpoint_auth_methods_supported=methods,
        client_id_metadata_document_supported=True,
        authorization_response_iss_parameter_supported=True,
    )
    return document


async def to_sign_in(door: FrontDoor, sign_in: SignIn, request_id: str) -> Response:
    """The browser off to the sign-in, with a cookie of its own that the sign-in's callback must see again."""
    browser = secrets.token_urlsafe(32)
    response = RedirectResponse(await sign_in.start(request_id, browser), status_code=303, headers=BROWSER_HEADERS)
    secure = urlsplit(door.issuer).scheme == "https"
    response.set_cookie(
        _SIGN_IN_COOKIE if not secure else f"__Host-{_SIGN_IN_COOKIE}",
        browser,
        max_age=int(REQUEST_TTL),
        httponly=True,
        secure=secure,
        samesite="lax",  # the provider's redirect back is a cross-site navigation that must carry it
        path="/",
    )
    return response


class SignInFirst:
    """The answer to a browser with no session on a page of ours: the sign-in, then back to `return_to`."""

    def __init__(self, door: FrontDoor, sign_in: SignIn) -> None:
        self.door, self.sign_in = door, sign_in

    async def __call__(self, return_to: str) -> Response:
        request_id = secrets.token_urlsafe(32)
        await self.door.store.create_request(request_id, "", {"return_to": return_to}, ttl=REQUEST_TTL)
        return await to_sign_in(self.door, self.sign_in, request_id)


def _may_return_to(path: object) -> bool:
    return isinstance(path, str) and (path.startswith(("/connect/", "/approve/")) or path in ("/", "/connections"))


def session_gate(door: FrontDoor, sign_in: SignIn) -> Callable[[Request, Flow], Awaitable[Response | None]]:
    """A flow's link (`/connect/<id>`, `/approve/<id>`) opens only in a browser signed in as the flow's user: one
    with no session signs in first and comes back; one signed in as someone else is refused, and the link stays
    unused for its user. So the browser that goes on to the provider, or answers an approval, is shown to be the
    user's, and no verification step follows."""
    cookie = session_cookie_name(door.issuer)
    sign_in_first = SignInFirst(door, sign_in)

    async def gate(request: Request, flow: Flow) -> Response | None:
        session = request.cookies.get(cookie)
        user = await door.store.session_user(session) if session else None
        if user == flow.user_id:
            return None
        if user is None and request.method == "GET":
            return await sign_in_first(request.url.path)  # the link's own path: back to it once signed in
        return page(
            "Signed in as someone else",
            "This link is for another person than the one signed in to authmcp in this browser. Nothing was changed.",
            "Open the link in the browser where that person is signed in, or sign out first.",
            status_code=403,
        )

    return gate


def create_front_door_routes(door: FrontDoor, sign_in: SignIn, *, csrf_key: bytes) -> list[Route]:
    secure = urlsplit(door.issuer).scheme == "https"  # [front_door] takes http only on loopback
    cookie = session_cookie_name(door.issuer)
    sign_in_cookie = _SIGN_IN_COOKIE if not secure else f"__Host-{_SIGN_IN_COOKIE}"
    document = metadata_document(door.issuer)

    def csrf_token(session: str, request_id: str) -> str:
        return hmac.new(csrf_key, f"consent|{session}|{request_id}".encode(), hashlib.sha256).hexdigest()

    def gone() -> Response:
        return page(
            "This sign-in has expired",
            "The request from your app is unknown, expired or already answered.",
            "Connect your app to authmcp again.",
            status_code=400,
        )

    def to_client(url: str) -> Response:
        return RedirectResponse(url, status_code=303, headers=BROWSER_HEADERS)

    async def metadata(request: Request) -> Response:
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})

    async def proceed(request: Request) -> Response:
        request_id = request.query_params.get("request", "")[:128]
        found = await door.store.get_request(request_id) if request_id else None
        if found is None or not found[0]:  # unknown, or a sign-in for a tool's link (no client)
            return gone()
        session = request.cookies.get(cookie)
        user = await door.store.session_user(session) if session else None
        if session is None or user is None:
            return await to_sign_in(door, sign_in, request_id)
        client_id = found[0]
        if await door.store.approved(user, client_id):
            url = await door.approve(request_id, user)
            return to_client(url) if url else gone()
        client = await door.get_client(client_id)
        if client is None:
            return gone()
        redirect_host = urlsplit(str(found[1]["redirect_uri"])).netloc
        named = client.client_name or "An app without a name"
        described_at = (
            f" (described at <strong>{escape(urlsplit(client_id).netloc)}</strong>)"
            if door.is_document_client(client_id)
            else ""
        )
        details = (
            f"<strong>{escape(named)}</strong>{described_at} wants to use the tools of this server as you, "
            f"<strong>{escape(user)}</strong>. After you approve, it is sent back to "
            f"<strong>{escape(redirect_host)}</strong>. Approve only an app you are connecting right now."
        )
        response = page(
            f"Connect {named}?",
            "An app asks to act for you here.",
            "Approve lets it call these tools as you; Deny sends it away.",
            extra=_CONSENT_FORM.format(
                details=details, request=escape(request_id), csrf=csrf_token(session, request_id)
            ),
            tone="wait",
            form_targets=[_origin(str(found[1]["redirect_uri"]))],  # the answer redirects there (CSP form-action)
        )
        # keep the Origin on the post (no-referrer would make it "null", which the Host/Origin check refuses)
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    async def decide(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=4)
        request_id, token = str(form.get("request", ""))[:128], str(form.get("csrf", ""))
        session = request.cookies.get(cookie)
        user = await door.store.session_user(session) if session else None
        if session is None or user is None or not hmac.compare_digest(token, csrf_token(session, request_id)):
            return page(
                "Not answered",
                "This form has expired or was not sent from this browser's sign-in.",
                "Connect your app to authmcp again.",
                status_code=403,
            )
        if form.get("decision") == "approve":
            url = await door.approve(request_id, user)
        else:
            url = await door.deny(request_id)
        return to_client(url) if url else gone()

    async def callback(request: Request) -> Response:
        try:
            signed_in = await sign_in.finish(request.query_params, request.cookies.get(sign_in_cookie))
        except SignInError as exc:
            return page(
                "Not signed in",
                str(exc),
                exc.next_step,
                status_code=exc.status,
                tone="declined" if exc.declined else None,
            )
        value = secrets.token_urlsafe(32)
        await door.store.create_session(value, signed_in.user_id, signed_in.email, ttl=SESSION_TTL)
        found = await door.store.get_request(signed_in.request_id)
        return_to = found[1].get("return_to") if found is not None else None
        if _may_return_to(return_to):  # a sign-in for a tool's link or one of the person's pages
            assert isinstance(return_to, str)
            await door.store.delete_request(signed_in.request_id)
            next_url = return_to
        else:
            next_url = f"/authorize/continue?request={signed_in.request_id}"
        response = RedirectResponse(next_url, status_code=303, headers=BROWSER_HEADERS)
        response.set_cookie(
            cookie, value, max_age=int(SESSION_TTL), httponly=True, secure=secure, samesite="lax", path="/"
        )
        response.delete_cookie(sign_in_cookie, path="/", secure=secure, httponly=True, samesite="lax")
        return response

    routes: list[Route] = []
    for route in create_auth_routes(
        door,
        AnyHttpUrl(door.issuer),
        client_registration_options=ClientRegistrationOptions(enabled=True),
        revocation_options=RevocationOptions(enabled=True),
    ):
        if route.path == "/.well-known/oauth-authorization-server":
            route = Route(route.path, cors_middleware(metadata, ["GET", "OPTIONS"]), methods=["GET", "OPTIONS"])
        elif route.path == "/register":
            route = Route(route.path, _BoundedRegistration(route.app), methods=["POST", "OPTIONS"])
        elif route.path == "/revoke":
            route = Route(route.path, _PublicRevocation(route.app), methods=["POST", "OPTIONS"])
        routes.append(route)
    return [
        *routes,
        Route("/authorize/continue", retry_page_on_outage(proceed), methods=["GET"]),
        Route("/authorize/decide", retry_page_on_outage(decide), methods=["POST"]),
        Route(CALLBACK_PATH, retry_page_on_outage(callback), methods=["GET"]),
    ]
