"""Who is calling: the local user (stdio, unauthenticated loopback HTTP) or a verified bearer token.

The user id always comes from the authenticated request: never from a tool argument, a header the client
chooses, or the session id. `Identities` turns a bearer token into a `Caller`, built once: static tokens from
configuration are prebuilt at start-up, JWTs from a configured issuer are verified against its JWKS (audience
= this server) once and then kept, by the token's SHA-256 digest, until they expire. No `Caller` holds the
token itself. The HTTP layer that asks is `mcp_server.web.bearer`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials

from mcp_server._http import deadline, httpx2, provider_client
from mcp_server.observability.telemetry import traced

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

JWT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


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


class JwtVerifier:
    """JWTs from one issuer, checked against its JWKS: signature, `iss`, `aud`, `exp`, `nbf`, `sub`.

    The JWKS is fetched by one request at a time (others wait for its answer), at most every
    JWKS_MIN_INTERVAL seconds whatever the outcome, and after a failure not again before a back-off that doubles
    up to JWKS_MAX_BACKOFF: a down issuer costs one fetch and one warning per back-off, not one per token.

    `caller` keeps each accepted token's `Caller` (at most CACHE_SIZE, by digest) until the token's `exp`, while
    the keys that verified it are the current ones: keys older than JWKS_MAX_AGE, or a JWKS that changed, send
    the token through verification again. Refusals are not kept (a token with a new key may pass after a refetch).

    `clock` (monotonic: the keys' age, the refetch limits) and `now` (wall time: a token's `exp`) are the real
    ones unless given; a test moves its own instead of waiting.
    """

    JWKS_MAX_AGE = 300.0  # seconds before keys are fetched again
    JWKS_MIN_INTERVAL = 30.0  # an unknown `kid` (or a failed fetch) refetches at most this often
    JWKS_MAX_BACKOFF = 600.0
    CACHE_SIZE = 4096

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str,
        audience: str,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ):
        self.clock = clock
        self.now = now
        self._issuer = issuer
        self._jwks_url = jwks_url
        self._audience = audience
        self._timeout = timeout
        self._keys: KeySet | None = None
        self._jwks: Any = None  # the JSON the keys came from: an unchanged JWKS keeps the same KeySet
        self._fetched_at = 0.0  # monotonic time of the last attempt, successful or not
        self._failures = 0
        self._lock = anyio.Lock()
        self._cache: dict[bytes, _Verified] = {}  # token digest -> verified caller, oldest first
        self.fetches = 0  # attempts so far, for operators and tests

    async def caller(self, token: bytes, digest: bytes) -> Caller | None:
        """The token's caller: kept from an earlier verification while still good, else verified now."""
        kept = self._cache.get(digest)
        if kept is not None:
            if self.now() < kept.expires_at and kept.keys is self._keys and self._too_soon(self.JWKS_MAX_AGE):
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

    async def verified_claims(self, token: str) -> dict[str, Any] | None:
        """A JWT's claims once its signature, `iss`, `aud`, `exp` and `sub` are checked (an ID token), or None."""
        verified = await self._checked(token)
        return verified[0] if verified is not None else None

    async def _verify(self, token: str) -> tuple[AccessToken, KeySet] | None:
        checked = await self._checked(token)
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
            resource=self._audience,
            claims={"iss": claims.get("iss")},
        ), keys

    async def _checked(self, token: str) -> tuple[dict[str, Any], KeySet] | None:
        from joserfc import jwt  # here, not at import: only a configured issuer needs it
        from joserfc.errors import JoseError

        try:
            keys = await self._key_set(refresh=False)
            try:
                decoded = jwt.decode(token, keys, algorithms=list(JWT_ALGORITHMS))
            except JoseError:
                # Perhaps the issuer rotated its keys: look again, at most every JWKS_MIN_INTERVAL seconds.
                if self._too_soon(self.JWKS_MIN_INTERVAL):
                    raise
                keys = await self._key_set(refresh=True)
                decoded = jwt.decode(token, keys, algorithms=list(JWT_ALGORITHMS))
            claims = decoded.claims
            jwt.JWTClaimsRegistry(
                leeway=30,
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self._audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError) as exc:
            logger.info("bearer JWT refused: %s", type(exc).__name__)
            return None
        except _JwksUnavailable:
            return None
        return dict(claims), keys

    def _too_soon(self, interval: float) -> bool:
        return self.clock() - self._fetched_at < interval

    def _backoff(self) -> float:
        return float(min(self.JWKS_MAX_BACKOFF, self.JWKS_MIN_INTERVAL * 2 ** max(0, self._failures - 1)))

    async def _key_set(self, *, refresh: bool) -> KeySet:
        attempted = self._fetched_at
        async with self._lock:  # one fetch in flight; who waited for it uses its outcome
            if self._fetched_at != attempted and self._failures == 0 and self._keys is not None:
                return self._keys
            if self._failures and self._too_soon(self._backoff()):
                if self._keys is not None:
                    return self._keys  # the last good keys meanwhile
                raise _JwksUnavailable
            stale = not self._too_soon(self.JWKS_MAX_AGE)
            if self._keys is None or stale or (refresh and not self._too_soon(self.JWKS_MIN_INTERVAL)):
                await self._fetch()
            assert self._keys is not None
            return self._keys

    async def _fetch(self) -> None:
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        self.fetches += 1
        self._fetched_at = self.clock()
        try:
            async with provider_client(self._timeout) as client, deadline(self._timeout):
                response = await client.get(self._jwks_url, headers={"Accept": "application/json"})
                response.raise_for_status()
                body: Any = response.json()
            keys = KeySet.import_key_set(body) if body != self._jwks or self._keys is None else self._keys
        except (httpx2.HTTPError, ValueError, JoseError) as exc:
            self._failures += 1
            logger.warning(
                "cannot fetch the JWKS at %s: %s; next try in %.0f s",
                self._jwks_url,
                type(exc).__name__,
                self._backoff(),
            )
            if self._keys is None:
                raise _JwksUnavailable from None
            return
        self._keys, self._jwks, self._failures = keys, body, 0


@dataclass(frozen=True, slots=True)
class _Verified:
    caller: Caller
    expires_at: float
    keys: KeySet  # the keys that verified it: current while they are the verifier's


class _JwksUnavailable(Exception):
    """No keys to check a token with (the JWKS fetch failed and is backing off)."""


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
