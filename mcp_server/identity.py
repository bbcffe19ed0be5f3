"""Who is calling: the local user (stdio, unauthenticated loopback HTTP) or a verified bearer token.

The user id always comes from the authenticated request: never from a tool argument, a header the client
chooses, or the session id. Bearer tokens are checked by the MCP SDK's auth middleware through the
`TokenVerifier` protocol implemented here: static tokens from configuration, or JWTs from a configured
issuer, verified against its JWKS with the audience set to this server.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import anyio
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken

from mcp_server._http import deadline, httpx2, provider_client
from mcp_server.telemetry import traced

__all__ = ["JwtVerifier", "StaticTokenVerifier", "TokenVerifier", "VerifierChain", "current_user_id"]

logger = logging.getLogger(__name__)

JWT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


class TokenVerifier(Protocol):
    async def verify_token(self, token: str) -> AccessToken | None: ...


def current_user_id(local_user: str) -> str:
    """The user the current request acts for: the bearer token's subject, else the local user.

    On HTTP with verification configured the SDK's middleware has already refused unauthenticated requests,
    so the local user is only ever returned on stdio or on unauthenticated loopback HTTP.
    """
    token = get_access_token()
    if token is None:
        return local_user
    return token.subject or token.client_id


class StaticTokenVerifier:
    """Bearer tokens listed in configuration (`[mcp_auth] tokens`), each mapped to a user id."""

    def __init__(self, tokens: Mapping[str, str], *, resource: str):
        # found by digest, so a lookup costs the same with 3 tokens or 3,000 and reveals nothing of them
        self._tokens = {_digest(candidate): (candidate, user_id) for candidate, user_id in tokens.items()}
        self._resource = resource

    async def verify_token(self, token: str) -> AccessToken | None:
        found = self._tokens.get(_digest(token))
        if found is None or not hmac.compare_digest(found[0].encode(), token.encode()):
            return None
        return AccessToken(token=token, client_id="static-token", scopes=[], subject=found[1], resource=self._resource)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class JwtVerifier:
    """JWTs from one issuer, checked against its JWKS: signature, `iss`, `aud`, `exp`, `nbf`, `sub`.

    The JWKS is fetched by one request at a time (others wait for its answer), at most every
    JWKS_MIN_INTERVAL seconds whatever the outcome, and after a failure not again before a back-off that doubles
    up to JWKS_MAX_BACKOFF: a down issuer costs one fetch and one warning per back-off, not one per token.
    """

    JWKS_MAX_AGE = 300.0  # seconds before keys are fetched again
    JWKS_MIN_INTERVAL = 30.0  # an unknown `kid` (or a failed fetch) refetches at most this often
    JWKS_MAX_BACKOFF = 600.0

    def __init__(
        self, *, issuer: str, jwks_url: str, audience: str, timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._clock = clock
        self._issuer = issuer
        self._jwks_url = jwks_url
        self._audience = audience
        self._timeout = timeout
        self._keys: KeySet | None = None
        self._fetched_at = 0.0  # monotonic time of the last attempt, successful or not
        self._failures = 0
        self._lock = anyio.Lock()
        self.fetches = 0  # attempts so far, for operators and tests

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            keys = await self._key_set(refresh=False)
            try:
                decoded = jwt.decode(token, keys, algorithms=list(JWT_ALGORITHMS))
            except JoseError:
                # Perhaps the issuer rotated its keys: look again, at most every JWKS_MIN_INTERVAL seconds.
                if self._too_soon(self.JWKS_MIN_INTERVAL):
                    raise
                decoded = jwt.decode(token, await self._key_set(refresh=True), algorithms=list(JWT_ALGORITHMS))
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
        scope = claims.get("scope") or claims.get("scp") or []
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or "jwt"),
            scopes=scope.split() if isinstance(scope, str) else [str(s) for s in scope],
            subject=str(claims["sub"]),
            expires_at=int(claims["exp"]),
            resource=self._audience,
            claims={"iss": claims.get("iss")},
        )

    def _too_soon(self, interval: float) -> bool:
        return self._clock() - self._fetched_at < interval

    def _backoff(self) -> float:
        return min(self.JWKS_MAX_BACKOFF, self.JWKS_MIN_INTERVAL * 2 ** max(0, self._failures - 1))

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
        self.fetches += 1
        self._fetched_at = self._clock()
        try:
            async with provider_client(self._timeout) as client, deadline(self._timeout):
                response = await client.get(self._jwks_url, headers={"Accept": "application/json"})
                response.raise_for_status()
                body: Any = response.json()
            keys = KeySet.import_key_set(body)
        except (httpx2.HTTPError, ValueError, JoseError) as exc:
            self._failures += 1
            logger.warning(
                "cannot fetch the JWKS at %s: %s; next try in %.0f s", self._jwks_url, type(exc).__name__,
                self._backoff(),
            )
            if self._keys is None:
                raise _JwksUnavailable from None
            return
        self._keys, self._failures = keys, 0


class _JwksUnavailable(Exception):
    """No keys to check a token with (the JWKS fetch failed and is backing off)."""


class VerifierChain:
    """Accept a token if any verifier does (static tokens first: they need no network)."""

    def __init__(self, verifiers: Sequence[TokenVerifier]):
        self._verifiers = list(verifiers)

    @traced("authmcp.identity")
    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self._verifiers:
            access = await verifier.verify_token(token)
            if access is not None:
                return access
        return None
