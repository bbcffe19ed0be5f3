"""JWTs signed with an issuer's published keys (its JWKS): the one check behind every JWT authmcp accepts.

A bearer token at `/mcp` (calls/identity.py, audience = this server) and an ID token from a sign-in (id_tokens.py,
audience = our client at the issuer) are both checked here: signature by the JWKS, `iss`, `aud`, `exp`, `sub`.

The JWKS is fetched by one request at a time (others wait for its answer), at most every JWKS_MIN_INTERVAL
seconds whatever the outcome, and after a failure not again before a back-off that doubles up to
JWKS_MAX_BACKOFF: a down issuer costs one fetch and one warning per back-off, not one per token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from mcp_server._http import deadline, httpx2, provider_client

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

__all__ = ["JWT_ALGORITHMS", "JwksVerifier"]

logger = logging.getLogger(__name__)

JWT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


class JwksVerifier:
    """JWTs from one issuer for one audience, checked against the issuer's JWKS.

    `clock` (monotonic: the keys' age, the refetch limits) and `now` (wall time: a token's `exp`) are the real
    ones unless given; a test moves its own instead of waiting.
    """

    JWKS_MAX_AGE = 300.0  # seconds before keys are fetched again
    JWKS_MIN_INTERVAL = 30.0  # an unknown `kid` (or a failed fetch) refetches at most this often
    JWKS_MAX_BACKOFF = 600.0
    kind = "JWT"  # what its log lines call the tokens it checks

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
        self.issuer = issuer
        self.audience = audience
        self._jwks_url = jwks_url
        self._timeout = timeout
        self._keys: KeySet | None = None
        self._jwks: Any = None  # the JSON the keys came from: an unchanged JWKS keeps the same KeySet
        self._fetched_at = 0.0  # monotonic time of the last attempt, successful or not
        self._failures = 0
        self._lock = anyio.Lock()
        self.fetches = 0  # attempts so far, for operators and tests

    def current(self, keys: KeySet) -> bool:
        """Whether `keys` (those that verified a token) are still this issuer's, and young enough to trust."""
        return keys is self._keys and self._too_soon(self.JWKS_MAX_AGE)

    async def verified_claims(self, token: str) -> dict[str, Any] | None:
        """A JWT's claims once its signature, `iss`, `aud`, `exp` and `sub` are checked, or None."""
        checked = await self.checked(token)
        return checked[0] if checked is not None else None

    async def checked(self, token: str) -> tuple[dict[str, Any], KeySet] | None:
        """The claims of a JWT that passes every check, with the keys that verified it; None for any other."""
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
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError) as exc:
            logger.info("%s refused: %s", self.kind, type(exc).__name__)
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


class _JwksUnavailable(Exception):
    """No keys to check a token with (the JWKS fetch failed and is backing off)."""
