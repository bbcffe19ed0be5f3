"""Who is calling: the local user (stdio, unauthenticated loopback HTTP) or a verified bearer token.

The user id always comes from the authenticated request: never from a tool argument, a header the client
chooses, or the session id. `Identities` turns a bearer token into a `Caller`, built once: static tokens from
configuration are prebuilt at start-up, JWTs from a configured issuer are verified against its JWKS (audience
= this server) once and then kept, by the token's SHA-256 digest, until they expire. No `Caller` holds the
token itself. The HTTP layer that asks is `mcp_server.web.bearer`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials

from mcp_server.observability.telemetry import traced
from mcp_server.providers.jwks import JwksVerifier

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

__all__ = [
    "Caller",
    "Identities",
    "JwtVerifier",
    "StaticTokenVerifier",
    "TokenSource",
    "current_user_id",
    "token_digest",
]

logger = logging.getLogger(__name__)


def current_user_id(local_user: str) -> str:
    """The user the current request acts for: the bearer token's subject, else the local user.

    On HTTP with verification configured the bearer layer has already refused unauthenticated requests,
    so the local user is only ever returned on stdio or on unauthenticated loopback HTTP.
    """
    token = get_access_token()
    if token is None:
        return local_user
    return token.subject or token.client_id


class Caller(AuthenticatedUser):
    """A verified bearer identity, built once per token: the MCP SDK's user (its transports bind sessions to it;
    `get_access_token()` returns its `access_token`) with its Starlette credentials. `access_token.token` is
    empty: the token itself is never kept."""

    def __init__(self, access: AccessToken) -> None:
        super().__init__(access)
        self.credentials = AuthCredentials(access.scopes)


def token_digest(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


class StaticTokenVerifier:
    """Bearer tokens listed in configuration (`[mcp_auth] tokens`), each mapped to a user id."""

    def __init__(self, tokens: Mapping[str, str], *, resource: str):
        # found by digest, so a lookup costs the same with 3 tokens or 3,000 and reveals nothing of them
        self._tokens = {
            token_digest(candidate.encode()): (
                candidate.encode(),
                Caller(AccessToken(token="", client_id="static-token", scopes=[], subject=user_id, resource=resource)),
            )
            for candidate, user_id in tokens.items()
        }

    def caller(self, token: bytes, digest: bytes) -> Caller | None:
        found = self._tokens.get(digest)
        if found is None or not hmac.compare_digest(found[0], token):
            return None
        return found[1]

    async def verify_token(self, token: str) -> AccessToken | None:
        """The SDK's `TokenVerifier` protocol."""
        raw = token.encode()
        caller = self.caller(raw, token_digest(raw))
        return caller.access_token if caller is not None else None


class JwtVerifier(JwksVerifier):
    """Bearer JWTs from one issuer (providers/jwks.py checks them: signature, `iss`, `aud`, `exp`, `sub`).

    `caller` keeps each accepted token's `Caller` (at most CACHE_SIZE, by digest) until the token's `exp`, while
    the keys that verified it are the current ones: keys older than JWKS_MAX_AGE, or a JWKS that changed, send
    the token through verification again. Refusals are not kept (a token with a new key may pass after a refetch).
    """

    CACHE_SIZE = 4096

    kind = "bearer JWT"

    @functools.cached_property
    def _cache(self) -> dict[bytes, _Verified]:
        return {}  # token digest -> verified caller, oldest first

    async def caller(self, token: bytes, digest: bytes) -> Caller | None:
        """The token's caller: kept from an earlier verification while still good, else verified now."""
        kept = self._cache.get(digest)
        if kept is not None:
            if self.now() < kept.expires_at and self.current(kept.keys):
                return kept.caller
            self._cache.pop(digest, None)
        try:
            text = token.decode("ascii")
        except UnicodeDecodeError:
            return None  # not a JWT
        verified = await self._verify(text)
        if verified is None:
            return None
        access, keys = verified
        assert access.expires_at is not None
        if access.expires_at <= self.now():
            return None  # the verifier's leeway is for clock skew; an expired token is refused from its `exp` on
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)), None)
        caller = Caller(access)
        self._cache[digest] = _Verified(caller, access.expires_at, keys)
        return caller

    async def verify_token(self, token: str) -> AccessToken | None:
        """The SDK's `TokenVerifier` protocol: verify now, keep nothing."""
        verified = await self._verify(token)
        return verified[0] if verified is not None else None

    async def _verify(self, token: str) -> tuple[AccessToken, KeySet] | None:
        checked = await self.checked(token)
        if checked is None:
            return None
        claims, keys = checked
        scope = claims.get("scope") or claims.get("scp") or []
        return AccessToken(
            token="",
            client_id=str(claims.get("client_id") or claims.get("azp") or "jwt"),
            scopes=scope.split() if isinstance(scope, str) else [str(s) for s in scope],
            subject=str(claims["sub"]),
            expires_at=int(claims["exp"]),
            resource=self.audience,
            claims={"iss": claims.get("iss")},
        ), keys


@dataclass(frozen=True, slots=True)
class _Verified:
    caller: Caller
    expires_at: float
    keys: KeySet  # the keys that verified it: current while they are the verifier's


class TokenSource(Protocol):
    """Whatever issues bearer tokens of its own (the front door, mcp_server/front_door/provider.py)."""

    async def caller(self, token: bytes, digest: bytes) -> Caller | None: ...


class Identities:
    """Bearer token -> `Caller`: the static tokens first (a dictionary lookup), then the front door's own tokens,
    then the issuer's JWTs.

    `resource` is this server's MCP URL (the audience JWTs must name); `issuer` the authorization server
    announced in the protected resource metadata (RFC 9728): this server with `[front_door]`, else the JWTs'
    issuer, or None where only static tokens are taken (no authorization server issues those).
    """

    def __init__(
        self,
        *,
        resource: str,
        issuer: str | None,
        static: StaticTokenVerifier | None = None,
        jwt: JwtVerifier | None = None,
        own: TokenSource | None = None,
    ):
        self.resource = resource
        self.issuer = issuer
        self.static = static
        self.jwt = jwt
        self.own = own

    @traced("authmcp.identity")
    async def identify(self, token: bytes) -> Caller | None:
        digest = token_digest(token)
        if self.static is not None:
            caller = self.static.caller(token, digest)
            if caller is not None:
                return caller
        if self.own is not None:
            caller = await self.own.caller(token, digest)
            if caller is not None:
                return caller
        if self.jwt is not None:
            return await self.jwt.caller(token, digest)
        return None
