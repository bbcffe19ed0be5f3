"""A strict OAuth 2.0 authorization server kept in memory: the "third-party provider" of the tests.

    python tests/support/authserver.py --port 0 --client ID:SECRET:REDIRECT_URI [--client ...]

It prints one line, `READY http://127.0.0.1:<port>`, once its socket is listening, and then serves:

- authorization code grant (RFC 6749 §4.1) with PKCE S256 required of every client (RFC 7636),
  exact redirect URI matching, codes that live 60 s and whose reuse revokes what they produced;
- `iss` in every authorization response (RFC 9207);
- refresh tokens that rotate (a rotated one presented again revokes the whole grant), or with
  --no-refresh-rotation stay valid and are not reissued;
- revocation (RFC 7009), userinfo, metadata (RFC 8414 and OpenID discovery), and a JWKS whose
  RS256 key also signs test JWTs minted through /_admin/mint_jwt;
- /_admin/ endpoints with which tests count requests, revoke or expire tokens, and make the
  token and revocation endpoints misbehave.

Token values are never printed or logged.
"""

from __future__ import annotations

import argparse
import html
import ipaddress
import logging
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from joserfc import jwk, jwt
from werkzeug.serving import WSGIRequestHandler, make_server

log = logging.getLogger("authserver")

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
CODE_LIFETIME = 60.0
HANG_SECONDS = 30.0
ADVERTISED_SCOPES = ["openid", "profile", "email", "offline_access", "mcp"]
TOKEN_BEHAVIORS = {"normal", "hang", "error_400_echo", "error_500_html"}
REVOCATION_BEHAVIORS = {"normal", "error_503"}
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3
_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Settings:
    base_url: str
    issuer: str
    access_ttl: int = 3600
    rotate_refresh: bool = True
    scopes: tuple[str, ...] | None = None  # None: any syntactically valid scope is granted


@dataclass(frozen=True)
class User:
    username: str


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # so every authorization request must carry redirect_uri, as OAuth 2.1 asks

    def get_allowed_scope(self, scope: str | None) -> str | None:
        if not scope:
            return ""
        scopes = scope.split(" ")
        if not all(_SCOPE_TOKEN.fullmatch(s) for s in scopes):
            return None  # authlib answers invalid_scope
        return " ".join(dict.fromkeys(scopes))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in CLIENT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(eq=False)
class Authorization:
    """One user's consent to one client: every code, access and refresh token descends from one."""

    client_id: str
    username: str
    scope: str
    revoked: bool = False


@dataclass(eq=False)
class AuthCode(AuthorizationCodeMixin):
    client_id: str
    redirect_uri: str
    scope: str
    authorization: Authorization
    code_challenge: str
    code_challenge_method: str
    expires_at: float
    used: bool = False

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(eq=False)
class AccessToken(TokenMixin):
    client_id: str
    authorization: Authorization
    scope: str
    expires_in: int
    expires_at: float
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.monotonic() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked or self.authorization.revoked


@dataclass(eq=False)
class RefreshToken(TokenMixin):
    client_id: str
    authorization: Authorization
    scope: str
    rotated: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return self.authorization.revoked


@dataclass
class Store:
    """All state. `lock` is held by each view around everything that reads or writes the rest,
    including its calls into authlib, so the grant classes below run with it held: that is what
    makes "a code or a refresh token is good for one use" hold under concurrent requests."""

    clients: dict[str, Client]
    lock: threading.Lock = field(default_factory=threading.Lock)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    authorizations: list[Authorization] = field(default_factory=list)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    token_requests: Counter[str] = field(default_factory=Counter)
    revocations: int = 0
    userinfo_requests: int = 0
    token_behavior: str = "normal"
    revocation_behavior: str = "normal"


class Server(AuthorizationServer):
    def __init__(self, app: Flask, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        super().__init__(app, query_client=store.clients.get, save_token=self._save_token)

    def _save_token(self, token: dict[str, Any], req: OAuth2Request) -> None:
        source = req.authorization_code or req.refresh_token
        authorization: Authorization = source.authorization
        client_id = req.client.client_id
        ttl = int(token["expires_in"])
        self.store.access_tokens[token["access_token"]] = AccessToken(
            client_id, authorization, token.get("scope", ""), ttl, time.monotonic() + ttl
        )
        if "refresh_token" in token:
            # A refresh token keeps the whole grant's scope even when this access token has fewer.
            self.store.refresh_tokens[token["refresh_token"]] = RefreshToken(
                client_id, authorization, authorization.scope
            )


class StrictCodeChallenge(CodeChallenge):
    """authlib's CodeChallenge(required=True) only insists on PKCE for public clients, and accepts
    "plain"; this provider insists on S256 from every client."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: grants.AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: Server

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        authorization = Authorization(request.client.client_id, request.user.username, request.scope)
        self.server.store.authorizations.append(authorization)
        data = request.payload.data
        self.server.store.codes[code] = AuthCode(
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            authorization=authorization,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            expires_at=time.monotonic() + CODE_LIFETIME,
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthCode | None:
        item = self.server.store.codes.get(code)
        if item is None or item.client_id != client.client_id:
            return None
        if item.used:
            # RFC 6749 §4.1.2: a code used twice may have been stolen; revoke what it produced.
            item.authorization.revoked = True
            log.warning("authorization code reused: its grant is revoked")
            return None
        if time.monotonic() >= item.expires_at or item.authorization.revoked:
            return None
        return item

    def delete_authorization_code(self, authorization_code: AuthCode) -> None:
        authorization_code.used = True  # kept rather than deleted, so that a second use is noticed

    def authenticate_user(self, authorization_code: AuthCode) -> User:
        return User(authorization_code.authorization.username)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # overridden by --no-refresh-rotation
    server: Server

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        item = self.server.store.refresh_tokens.get(refresh_token)
        if item is None or item.client_id != self.request.client.client_id:
            return None
        if item.rotated:
            # Two parties hold this refresh token (RFC 9700 §4.14.2): revoke the whole grant.
            item.authorization.revoked = True
            log.warning("rotated refresh token reused: its grant is revoked")
            return None
        if item.is_revoked():
            return None
        return item

    def authenticate_user(self, refresh_token: RefreshToken) -> User:
        return User(refresh_token.authorization.username)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        if self.INCLUDE_NEW_REFRESH_TOKEN:
            refresh_token.rotated = True


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: Server

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | RefreshToken | None:
        access = self.server.store.access_tokens.get(token_string)
        refresh = self.server.store.refresh_tokens.get(token_string)
        if token_type_hint == "refresh_token":
            return refresh or access
        return access or refresh

    def revoke_token(self, token: AccessToken | RefreshToken, request: OAuth2Request) -> None:
        if isinstance(token, RefreshToken):
            token.authorization.revoked = True  # RFC 7009 §2.1: with the grant's access tokens
        else:
            token.revoked = True


class AccessTokenValidator(BearerTokenValidator):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        return self.store.access_tokens.get(token_string)


class Issuer(IssuerParameter):
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer


def _page(title: str, body: str, status: int) -> Response:
    text = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(text, status=status, mimetype="text/html")


def _consent_page(client_id: str, scope: str, problem: str = "", status: int = 200) -> Response:
    action = html.escape(request.full_path, quote=True)  # the same query parameters come back
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
    return _page("Sign in to the test provider", body, status)


def create_app(clients: dict[str, Client], settings: Settings) -> tuple[Flask, Store]:
    app = Flask(__name__)
    app.config.update(
        OAUTH2_REFRESH_TOKEN_GENERATOR=True,
        OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": settings.access_ttl, "refresh_token": settings.access_ttl},
        OAUTH2_SCOPES_SUPPORTED=list(settings.scopes) if settings.scopes is not None else None,
    )
    store = Store(clients)
    server = Server(app, store, settings)
    server.register_grant(AuthorizationCodeGrant, [StrictCodeChallenge(required=True)])
    refresh_grant = type(
        "RefreshTokenGrant", (RefreshTokenGrant,), {"INCLUDE_NEW_REFRESH_TOKEN": settings.rotate_refresh}
    )
    server.register_grant(refresh_grant)
    server.register_endpoint(Revocation)
    server.register_extension(Issuer(settings.issuer))
    require_oauth = ResourceProtector()
    require_oauth.register_token_validator(AccessTokenValidator(store))
    key = jwk.RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True, auto_kid=True)
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

    @app.get("/.well-known/openid-configuration")
    @app.get("/.well-known/oauth-authorization-server")
    def discovery() -> ResponseReturnValue:
        return jsonify(metadata)

    @app.get("/jwks")
    def jwks() -> ResponseReturnValue:
        return jsonify({"keys": [key.as_dict(private=False)]})

    def authorize_error(error: OAuth2Error) -> Response:
        if error.redirect_uri:  # set by authlib only once the client and its redirect_uri are known good
            _, _, headers = error()
            location = add_params_to_uri(dict(headers)["Location"], [("iss", settings.issuer)])
            return Response("", status=302, headers={"Location": location})
        description = html.escape(error.description or "")
        return _page(
            "Authorization error", f"<p><code>{html.escape(error.error or '')}</code></p><p>{description}</p>", 400
        )

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> ResponseReturnValue:
        try:
            grant = server.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            return authorize_error(error)
        client_id, scope = grant.client.client_id, grant.request.scope or ""
        if request.method == "GET":
            return _consent_page(client_id, scope)
        decision = request.form.get("consent")
        if decision not in ("allow", "deny"):
            return _consent_page(client_id, scope, "Choose Allow or Deny.", 400)
        user = None
        if decision == "allow":
            username = request.form.get("username", "").strip()
            if not _USERNAME.fullmatch(username):
                return _consent_page(client_id, scope, "Enter a username: letters, digits, '.', '_' or '-'.", 400)
            user = User(username)
        with store.lock:
            answer: Response = server.create_authorization_response(grant_user=user, grant=grant)
        return answer

    @app.post("/token")
    def token() -> ResponseReturnValue:
        sent = request.form.get("code") or request.form.get("refresh_token") or ""
        with store.lock:
            store.token_requests[request.form.get("grant_type") or "(none)"] += 1
            behavior = store.token_behavior
        if behavior == "hang":
            time.sleep(HANG_SECONDS)
            return _page("504 Gateway Time-out", "<p>The upstream server did not answer.</p>", 504)
        if behavior == "error_400_echo":
            return jsonify({"error": "invalid_request", "error_description": f"bad code {sent}"}), 400
        if behavior == "error_500_html":
            return _page("500 Internal Server Error", f"<p>Could not process code {html.escape(sent)}</p>", 500)
        with store.lock:
            answer: Response = server.create_token_response()
        return answer

    @app.post("/revoke")
    def revoke() -> ResponseReturnValue:
        with store.lock:
            store.revocations += 1
            if store.revocation_behavior == "error_503":
                return jsonify({"error": "temporarily_unavailable"}), 503
            answer: Response = server.create_endpoint_response(Revocation.ENDPOINT_NAME)
        return answer

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo() -> ResponseReturnValue:
        with store.lock:
            store.userinfo_requests += 1
            try:
                access_token: AccessToken = require_oauth.acquire_token()
            except OAuth2Error:
                # One answer for missing, unknown, expired and revoked tokens (RFC 6750 §3.1).
                return jsonify({"error": "invalid_token"}), 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            username = access_token.authorization.username
        return jsonify(
            {
                "sub": username,
                "name": username.capitalize(),
                "email": f"{username}@example.test",
                "preferred_username": username,
            }
        )

    def json_body() -> dict[str, Any]:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}

    def bad_request(message: str) -> ResponseReturnValue:
        return jsonify({"error": message}), 400

    @app.get("/_admin/stats")
    def stats() -> ResponseReturnValue:
        with store.lock:
            token_requests = {"authorization_code": 0, "refresh_token": 0, **store.token_requests}
            return jsonify(
                {
                    "token_requests": token_requests,
                    "revocations": store.revocations,
                    "userinfo_requests": store.userinfo_requests,
                }
            )

    @app.post("/_admin/reset_stats")
    def reset_stats() -> ResponseReturnValue:
        with store.lock:
            store.token_requests.clear()
            store.revocations = store.userinfo_requests = 0
        return jsonify({})

    @app.post("/_admin/behavior")
    def behavior() -> ResponseReturnValue:
        body = json_body()
        unknown = set(body) - {"token_endpoint", "revocation_endpoint"}
        if unknown:
            return bad_request(f"unknown keys: {sorted(unknown)}")
        token_behavior = body.get("token_endpoint")
        revocation_behavior = body.get("revocation_endpoint")
        if token_behavior is not None and token_behavior not in TOKEN_BEHAVIORS:
            return bad_request(f"token_endpoint must be one of {sorted(TOKEN_BEHAVIORS)}")
        if revocation_behavior is not None and revocation_behavior not in REVOCATION_BEHAVIORS:
            return bad_request(f"revocation_endpoint must be one of {sorted(REVOCATION_BEHAVIORS)}")
        with store.lock:
            store.token_behavior = token_behavior or store.token_behavior
            store.revocation_behavior = revocation_behavior or store.revocation_behavior
            return jsonify({"token_endpoint": store.token_behavior, "revocation_endpoint": store.revocation_behavior})

    @app.post("/_admin/revoke_user")
    def revoke_user() -> ResponseReturnValue:
        username = json_body().get("username")
        if not isinstance(username, str):
            return bad_request("username is required")
        with store.lock:
            mine = [a for a in store.authorizations if a.username == username and not a.revoked]
            for authorization in mine:
                authorization.revoked = True
        return jsonify({"revoked_grants": len(mine)})

    @app.post("/_admin/expire_access_tokens")
    def expire_access_tokens() -> ResponseReturnValue:
        username = json_body().get("username")
        now = time.monotonic()
        with store.lock:
            matching = [
                t
                for t in store.access_tokens.values()
                if (username is None or t.authorization.username == username) and not t.is_expired()
            ]
            for access_token in matching:
                access_token.expires_at = now
        return jsonify({"expired": len(matching)})

    @app.post("/_admin/mint_jwt")
    def mint_jwt() -> ResponseReturnValue:
        body = json_body()
        sub, aud, scope = body.get("sub"), body.get("aud"), body.get("scope", "mcp")
        expires_in, extra = body.get("expires_in", 3600), body.get("claims", {})
        if not isinstance(sub, str) or not (isinstance(aud, str) or isinstance(aud, list)):
            return bad_request("sub (string) and aud (string or list) are required")
        if not isinstance(expires_in, int) or not isinstance(extra, dict) or not isinstance(scope, (str, type(None))):
            return bad_request("expires_in must be an integer, scope a string, claims an object")
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
        return jsonify({"token": jwt.encode(header, claims, key)})

    return app, store


class _RequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # werkzeug logs the whole request line; query strings are kept out of the log on principle.
        log.info("%s %s %s", self.command, self.path.split("?", 1)[0], code)


def _parse_client(value: str) -> tuple[str, str, str]:
    parts = value.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError("expected ID:SECRET:REDIRECT_URI")
    return parts[0], parts[1], parts[2]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _exit_on_stdin_eof() -> None:
    # os.read, not sys.stdin: a daemon thread inside a buffered read makes the interpreter abort at exit.
    while os.read(sys.stdin.fileno(), 4096):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument(
        "--client",
        type=_parse_client,
        action="append",
        required=True,
        metavar="ID:SECRET:REDIRECT_URI",
        help="register a client; repeat with the same ID and SECRET to register more redirect URIs",
    )
    parser.add_argument("--access-ttl", type=int, default=3600, help="access token lifetime in seconds (>= 1)")
    parser.add_argument("--no-refresh-rotation", action="store_true")
    parser.add_argument("--issuer", help="issuer identifier (default: this server's URL)")
    parser.add_argument("--scopes", help="space-separated scopes to accept (default: any)")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="exit when stdin closes (for a parent process)"
    )
    args = parser.parse_args(argv)
    if args.access_ttl < 1:
        parser.error("--access-ttl must be at least 1")  # authlib leaves out expires_in when it is 0

    clients: dict[str, Client] = {}
    for client_id, secret, redirect_uri in args.client:
        client = clients.setdefault(client_id, Client(client_id, secret, []))
        if client.client_secret != secret:
            parser.error(f"client {client_id} is given two different secrets")
        client.redirect_uris.append(redirect_uri)

    if not _is_loopback(args.host):
        # authlib refuses plain-http requests except on loopback; this server only speaks plain http.
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    # Bound first, so that the URLs the app announces carry the real port even when --port is 0.
    listener = socket.create_server(
        (args.host, args.port), family=socket.AF_INET6 if ":" in args.host else socket.AF_INET, backlog=128
    )
    port = listener.getsockname()[1]
    host_in_url = f"[{args.host}]" if ":" in args.host else args.host
    base_url = f"http://{host_in_url}:{port}"
    settings = Settings(
        base_url=base_url,
        issuer=args.issuer or base_url,
        access_ttl=args.access_ttl,
        rotate_refresh=not args.no_refresh_rotation,
        scopes=tuple(args.scopes.split()) if args.scopes is not None else None,
    )
    app, _ = create_app(clients, settings)
    server = make_server(args.host, port, app, threaded=True, request_handler=_RequestHandler, fd=listener.fileno())
    listener.close()  # make_server works on its own duplicate of the descriptor
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.exit_on_stdin_eof:
        threading.Thread(target=_exit_on_stdin_eof, daemon=True).start()
    # this is the provider's own process (never authmcp's stdio server): its parent reads this line to learn the URL
    print(f"READY {base_url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
