"""The demo provider's HTTP side on Starlette: the consent page, the OAuth endpoints and /_admin/."""

from __future__ import annotations

import asyncio
import html
import json
import secrets
import time
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from joserfc import jwk, jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_server.demo.authserver_oauth import (
    _USERNAME,
    ADVERTISED_SCOPES,
    CLIENT_AUTH_METHODS,
    HANG_SECONDS,
    ID_TOKEN_BEHAVIORS,
    ISS_BEHAVIORS,
    REVOCATION_BEHAVIORS,
    TOKEN_BEHAVIORS,
    WRONG_ISSUER,
    AccessToken,
    AuthorizationCodeGrant,
    Client,
    IdTokens,
    Incoming,
    RefreshTokenGrant,
    Revocation,
    Server,
    Settings,
    Store,
    StrictCodeChallenge,
    User,
    log,
)

PROVIDER_NAME = "Demo provider"
_STYLE = """
:root { color-scheme: light dark; --accent: #2457d6; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; padding: 1.5rem 1rem; }
main { max-width: 26rem; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: 0 0 1rem; }
label { display: block; margin: 1rem 0; }
input { display: block; width: 100%; box-sizing: border-box; margin-top: .3rem; padding: .6rem;
        font: inherit; border: 1px solid #8889; border-radius: 6px; }
button { font: inherit; padding: .6rem 1.2rem; border-radius: 6px; border: 1px solid var(--accent);
         margin-right: .5rem; cursor: pointer; background: transparent; color: inherit; }
button[value="allow"] { background: var(--accent); color: #fff; }
[role="alert"] { color: #b3261e; }
code { overflow-wrap: anywhere; }
"""


def _page(title: str, body: str, status: int) -> HTMLResponse:
    text = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(text, status_code=status)


def _consent_page(request: Request, client_id: str, scope: str, problem: str = "", status: int = 200) -> Response:
    action = html.escape(f"{request.url.path}?{request.url.query}", quote=True)  # the same parameters come back
    scopes = html.escape(scope) if scope else "no particular scope"
    problem_html = f'<p role="alert">{html.escape(problem)}</p>' if problem else ""
    body = (
        f"<p><b>{html.escape(client_id)}</b> asks for: {scopes}</p>{problem_html}"
        f'<form method="post" action="{action}">'
        '<label>Username <input type="text" name="username" autocomplete="username" autofocus></label> '
        '<button type="submit" name="consent" value="allow">Allow</button> '
        '<button type="submit" name="consent" value="deny">Deny</button>'
        "</form>"
    )
    return _page(f"Sign in to the {PROVIDER_NAME}", body, status)


async def _incoming(request: Request) -> Incoming:
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
    return Incoming(request.method, str(request.url), request.headers, list(request.query_params.multi_items()), form)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def _with_issuer(answer: Response, issuer: str, behavior: str) -> Response:
    """RFC 9207: every redirect back to the client, error or not, names this issuer (unless a test says otherwise:
    `behavior` "omit" sends no `iss`, "wrong" another issuer's)."""
    location = answer.headers.get("location")
    if answer.status_code == 302 and location and behavior != "omit":
        sent = issuer if behavior == "send" else WRONG_ISSUER
        answer.headers["location"] = add_params_to_uri(location, [("iss", sent)])
    return answer


def create_app(clients: dict[str, Client], settings: Settings) -> tuple[Starlette, Store]:
    store = Store(clients)
    server = Server(store, settings)
    key = jwk.RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True, auto_kid=True)

    impostor = jwk.RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)

    def sign_id_token(claims: dict[str, Any], forged: bool) -> str:
        # forged: another key's signature under our key's id, as a token made by someone without our key looks
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, impostor if forged else key)

    server.register_grant(
        AuthorizationCodeGrant, [StrictCodeChallenge(required=True), IdTokens(sign_id_token, settings.issuer, store)]
    )
    refresh_grant = type(
        "RefreshTokenGrant", (RefreshTokenGrant,), {"INCLUDE_NEW_REFRESH_TOKEN": settings.rotate_refresh}
    )
    server.register_grant(refresh_grant)
    server.register_endpoint(Revocation)
    base = settings.base_url
    metadata = {
        "issuer": settings.issuer,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "revocation_endpoint": f"{base}/revoke",
        "jwks_uri": f"{base}/jwks",
        "scopes_supported": list(settings.scopes) if settings.scopes is not None else ADVERTISED_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "authorization_response_iss_parameter_supported": True,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }

    async def discovery(request: Request) -> Response:
        return JSONResponse(metadata)

    async def jwks(request: Request) -> Response:
        return JSONResponse({"keys": [key.as_dict(private=False)]})

    async def authorize(request: Request) -> Response:
        incoming = await _incoming(request)
        try:
            grant = server.get_consent_grant(incoming, end_user=None)
        except OAuth2Error as error:
            if error.redirect_uri:  # set by authlib only once the client and its redirect_uri are known good
                return _with_issuer(server.handle_error_response(None, error), settings.issuer, store.iss_behavior)
            description = html.escape(error.description or "")
            text = f"<p><code>{html.escape(error.error or '')}</code></p><p>{description}</p>"
            return _page("Authorization error", text, 400)
        client_id, scope = grant.client.client_id, grant.request.scope or ""
        if request.method == "GET":
            return _consent_page(request, client_id, scope)
        form = dict(reversed(incoming.form))
        decision = form.get("consent")
        if decision not in ("allow", "deny"):
            return _consent_page(request, client_id, scope, "Choose Allow or Deny.", 400)
        user = None
        if decision == "allow":
            username = form.get("username", "").strip()
            if not _USERNAME.fullmatch(username):
                problem = "Enter a username: letters, digits, '.', '_' or '-'."
                return _consent_page(request, client_id, scope, problem, 400)
            user = User(username)
        answer = server.create_authorization_response(grant.request, grant_user=user, grant=grant)
        return _with_issuer(answer, settings.issuer, store.iss_behavior)

    async def token(request: Request) -> Response:
        incoming = await _incoming(request)
        form = dict(reversed(incoming.form))
        sent = form.get("code") or form.get("refresh_token") or ""
        store.token_requests[form.get("grant_type") or "(none)"] += 1
        behavior = store.token_behavior
        if behavior == "hang":
            await asyncio.sleep(HANG_SECONDS)
            return _page("504 Gateway Time-out", "<p>The upstream server did not answer.</p>", 504)
        if behavior == "error_400_echo":
            return JSONResponse({"error": "invalid_request", "error_description": f"bad code {sent}"}, 400)
        if behavior == "error_500_html":
            return _page("500 Internal Server Error", f"<p>Could not process code {html.escape(sent)}</p>", 500)
        answer: Response = server.create_token_response(incoming)
        return answer

    async def revoke(request: Request) -> Response:
        incoming = await _incoming(request)
        store.revocations += 1
        if store.revocation_behavior == "error_503":
            return JSONResponse({"error": "temporarily_unavailable"}, 503)
        answer: Response = server.create_endpoint_response(Revocation.ENDPOINT_NAME, incoming)
        return answer

    async def userinfo(request: Request) -> Response:
        store.userinfo_requests += 1
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        access_token: AccessToken | None = store.access_tokens.get(value) if scheme.lower() == "bearer" else None
        if access_token is None or access_token.is_expired() or access_token.is_revoked():
            # One answer for missing, unknown, expired and revoked tokens (RFC 6750 §3.1).
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return JSONResponse({"error": "invalid_token"}, 401, headers=headers)
        username = access_token.authorization.username
        return JSONResponse(
            {
                "sub": username,
                "name": username.capitalize(),
                "email": f"{username}@example.test",
                "preferred_username": username,
            }
        )

    async def stats(request: Request) -> Response:
        token_requests = {"authorization_code": 0, "refresh_token": 0, **store.token_requests}
        return JSONResponse(
            {
                "token_requests": token_requests,
                "revocations": store.revocations,
                "userinfo_requests": store.userinfo_requests,
            }
        )

    async def reset_stats(request: Request) -> Response:
        store.token_requests.clear()
        store.revocations = store.userinfo_requests = 0
        return JSONResponse({})

    async def behavior(request: Request) -> Response:
        body = await _json_body(request)
        unknown = set(body) - {"token_endpoint", "revocation_endpoint", "authorization_response_iss", "id_token"}
        if unknown:
            return _bad_request(f"unknown keys: {sorted(unknown)}")
        token_behavior = body.get("token_endpoint")
        revocation_behavior = body.get("revocation_endpoint")
        iss_behavior = body.get("authorization_response_iss")
        if token_behavior is not None and token_behavior not in TOKEN_BEHAVIORS:
            return _bad_request(f"token_endpoint must be one of {sorted(TOKEN_BEHAVIORS)}")
        if revocation_behavior is not None and revocation_behavior not in REVOCATION_BEHAVIORS:
            return _bad_request(f"revocation_endpoint must be one of {sorted(REVOCATION_BEHAVIORS)}")
        if iss_behavior is not None and iss_behavior not in ISS_BEHAVIORS:
            return _bad_request(f"authorization_response_iss must be one of {sorted(ISS_BEHAVIORS)}")
        store.token_behavior = token_behavior or store.token_behavior
        store.revocation_behavior = revocation_behavior or store.revocation_behavior
        store.iss_behavior = iss_behavior or store.iss_behavior
        id_token_behavior = body.get("id_token")
        if id_token_behavior is not None and id_token_behavior not in ID_TOKEN_BEHAVIORS:
            return _bad_request(f"id_token must be one of {sorted(ID_TOKEN_BEHAVIORS)}")
        store.id_token_behavior = id_token_behavior or store.id_token_behavior
        return JSONResponse(
            {
                "token_endpoint": store.token_behavior,
                "revocation_endpoint": store.revocation_behavior,
                "authorization_response_iss": store.iss_behavior,
                "id_token": store.id_token_behavior,
            }
        )

    async def revoke_user(request: Request) -> Response:
        username = (await _json_body(request)).get("username")
        if not isinstance(username, str):
            return _bad_request("username is required")
        mine = [a for a in store.authorizations if a.username == username and not a.revoked]
        for authorization in mine:
            authorization.revoked = True
        return JSONResponse({"revoked_grants": len(mine)})

    async def expire_access_tokens(request: Request) -> Response:
        username = (await _json_body(request)).get("username")
        now = time.monotonic()
        matching = [
            t
            for t in store.access_tokens.values()
            if (username is None or t.authorization.username == username) and not t.is_expired()
        ]
        for access_token in matching:
            access_token.expires_at = now
        return JSONResponse({"expired": len(matching)})

    async def mint_jwt(request: Request) -> Response:
        body = await _json_body(request)
        sub, aud, scope = body.get("sub"), body.get("aud"), body.get("scope", "mcp")
        expires_in, extra = body.get("expires_in", 3600), body.get("claims", {})
        if not isinstance(sub, str) or not (isinstance(aud, str) or isinstance(aud, list)):
            return _bad_request("sub (string) and aud (string or list) are required")
        if not isinstance(expires_in, int) or not isinstance(extra, dict) or not isinstance(scope, (str, type(None))):
            return _bad_request("expires_in must be an integer, scope a string, claims an object")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": settings.issuer,
            "sub": sub,
            "aud": aud,
            "iat": now if expires_in > 0 else now + expires_in - 60,
            "exp": now + expires_in,
            "jti": secrets.token_urlsafe(16),
        }
        if scope:
            claims["scope"] = scope
        claims.update(extra)
        header = {"alg": "RS256", "kid": key.kid, "typ": body.get("typ", "at+jwt")}
        return JSONResponse({"token": jwt.encode(header, claims, key)})

    routes = [
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", discovery, methods=["GET"]),
        Route("/jwks", jwks, methods=["GET"]),
        Route("/authorize", authorize, methods=["GET", "POST"]),
        Route("/token", token, methods=["POST"]),
        Route("/revoke", revoke, methods=["POST"]),
        Route("/userinfo", userinfo, methods=["GET", "POST"]),
        Route("/_admin/stats", stats, methods=["GET"]),
        Route("/_admin/reset_stats", reset_stats, methods=["POST"]),
        Route("/_admin/behavior", behavior, methods=["POST"]),
        Route("/_admin/revoke_user", revoke_user, methods=["POST"]),
        Route("/_admin/expire_access_tokens", expire_access_tokens, methods=["POST"]),
        Route("/_admin/mint_jwt", mint_jwt, methods=["POST"]),
    ]
    return Starlette(routes=routes), store


class RequestLog:
    """One log line per request: method, path and status; query strings stay out of the log on principle."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                log.info("%s %s %s", scope["method"], scope["path"], message["status"])
            await send(message)

        await self.app(scope, receive, sending)
