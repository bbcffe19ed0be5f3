"""The demo provider's OAuth state and its authlib parts: clients, grants, tokens and the server.

authlib's framework-free `AuthorizationServer` does the protocol; `Incoming` carries what it needs of a
request (read by the Starlette views in authserver_app.py) and answers come back as Starlette responses.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, OAuth2Payload, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from starlette.responses import Response

log = logging.getLogger("authserver")

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
CODE_LIFETIME = 60.0
HANG_SECONDS = 30.0
ADVERTISED_SCOPES = ["openid", "profile", "email", "offline_access", "mcp"]
TOKEN_BEHAVIORS = {"normal", "hang", "error_400_echo", "error_500_html"}
REVOCATION_BEHAVIORS = {"normal", "error_503"}
# what authorization responses carry as `iss` (RFC 9207; the metadata always says they carry it): this issuer,
# nothing (what a mix-up attacker's response looks like), or another issuer's identifier
ISS_BEHAVIORS = {"send", "omit", "wrong"}
# how ID tokens come out: right, or wrong in one way a relying party must refuse
ID_TOKEN_BEHAVIORS = {"normal", "wrong_nonce", "wrong_audience", "expired", "bad_signature"}
WRONG_ISSUER = "https://another-issuer.example"
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
    nonce: str | None = None  # OpenID Connect: echoed in the ID token

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
    """All state. Every view reads its request first and then calls into authlib without awaiting,
    on the event loop's one thread: that is what makes "a code or a refresh token is good for one
    use" hold under concurrent requests, with no lock."""

    clients: dict[str, Client]
    codes: dict[str, AuthCode] = field(default_factory=dict)
    authorizations: list[Authorization] = field(default_factory=list)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    token_requests: Counter[str] = field(default_factory=Counter)
    revocations: int = 0
    userinfo_requests: int = 0
    token_behavior: str = "normal"
    revocation_behavior: str = "normal"
    iss_behavior: str = "send"
    id_token_behavior: str = "normal"


@dataclass(frozen=True)
class Incoming:
    """What authlib needs of one HTTP request, read before authlib runs."""

    method: str
    url: str
    headers: Mapping[str, str]
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]


class _Payload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    @cached_property
    def data(self) -> dict[str, str]:
        first: dict[str, str] = {}
        for key, value in self._pairs:
            first.setdefault(key, value)  # the query string's value wins, as in a combined view
        return first

    @cached_property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in self._pairs:
            values[key].append(value)
        return values


class _Request(OAuth2Request):
    def __init__(self, incoming: Incoming) -> None:
        super().__init__(incoming.method, incoming.url, headers=incoming.headers)
        self.payload = _Payload(incoming.query + incoming.form)
        self._incoming = incoming

    @property
    def args(self) -> dict[str, str]:
        return dict(reversed(self._incoming.query))

    @property
    def form(self) -> dict[str, str]:
        return dict(reversed(self._incoming.form))


class Server(AuthorizationServer):
    """authlib's framework-free authorization server, fed `Incoming` requests, answering Starlette responses."""

    def __init__(self, store: Store, settings: Settings) -> None:
        super().__init__(scopes_supported=list(settings.scopes) if settings.scopes is not None else None)
        self.store = store
        self.settings = settings
        ttl = settings.access_ttl
        self.register_token_generator(
            "default",
            BearerTokenGenerator(lambda **_: generate_token(42), lambda **_: generate_token(48), lambda *_: ttl),
        )

    def query_client(self, client_id: str) -> Client | None:
        return self.store.clients.get(client_id)

    def create_oauth2_request(self, request: Incoming | OAuth2Request) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else _Request(request)

    def create_json_request(self, request: Incoming) -> Any:
        raise NotImplementedError  # no endpoint here takes JSON through authlib

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        content = json.dumps(body) if isinstance(body, dict) else (body or "")
        return Response(content, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def save_token(self, token: dict[str, Any], req: OAuth2Request) -> None:
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

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: grants.AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class IdTokens:
    """OpenID Connect Core §3.1.3.3: an ID token beside the access token when the scope holds `openid`, signed by
    the key in /jwks, naming the client as audience and carrying the authorization request's nonce."""

    def __init__(self, sign: Callable[[dict[str, Any], bool], str], issuer: str, store: Store) -> None:
        self.sign, self.issuer, self.store = sign, issuer, store

    def __call__(self, grant: grants.AuthorizationCodeGrant) -> None:
        grant.register_hook("after_create_token_response", self.add)

    def add(self, grant: grants.AuthorizationCodeGrant, response: tuple[int, dict[str, Any], Any]) -> None:
        token, code = response[1], grant.request.authorization_code
        if not isinstance(code, AuthCode) or "openid" not in str(token.get("scope", "")).split():
            return
        now, username = int(time.time()), code.authorization.username
        claims = {"iss": self.issuer, "sub": username, "aud": code.client_id, "iat": now, "exp": now + 600}
        claims["email"] = f"{username}@example.test"
        if code.nonce:
            claims["nonce"] = code.nonce
        behavior = self.store.id_token_behavior
        if behavior == "wrong_nonce":
            claims["nonce"] = "a-nonce-of-another-sign-in"
        elif behavior == "wrong_audience":
            claims["aud"] = "another-client"
        elif behavior == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        token["id_token"] = self.sign(claims, behavior == "bad_signature")


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
            nonce=data.get("nonce"),
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
