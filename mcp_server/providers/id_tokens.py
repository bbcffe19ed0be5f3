"""OpenID Connect ID tokens (Core §3.1.3.7): who signed in, as the issuer signed it for our client and this sign-in.

One check for both sign-ins authmcp makes: the front door's (front_door/sign_in.py) and that of
`[api] verification = "idp"` (authorization/verification.py). The token's signature is checked against the
issuer's JWKS, and its `iss`, its `aud` (our client id at the issuer), its `exp` and its `nonce`.

The nonce is derived from the sign-in's PKCE verifier, which each sign-in already keeps sealed until the browser
comes back: nothing more is stored, and only the browser's own sign-in can have the value the token must carry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from mcp_server._http import deadline, httpx2, provider_client
from mcp_server.errors import ConfigError
from mcp_server.providers.jwks import JwksVerifier
from mcp_server.providers.registry import Provider

__all__ = ["IdTokenRefused", "IdTokens", "id_tokens_for", "nonce_for"]


class IdTokenRefused(Exception):
    """An ID token that does not show who signed in here; the message says why, in a person's words."""


def nonce_for(code_verifier: str) -> str:
    """The nonce sent with a sign-in's authorization request: one-way from its PKCE verifier (which the browser
    never sees), so the request carries no secret and the token's nonce is checked against nothing stored."""
    mac = hashlib.sha256(b"authmcp openid nonce|" + code_verifier.encode()).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class _IdTokenKeys(JwksVerifier):
    kind = "ID token"


class IdTokens:
    """The ID tokens one OpenID provider issues to our client."""

    def __init__(self, keys: JwksVerifier) -> None:
        self.keys = keys  # its JWKS, its issuer, our client id as the audience

    async def claims(self, id_token: str | None, *, code_verifier: str) -> dict[str, Any]:
        """The verified claims of the ID token a sign-in with this PKCE verifier was answered with.

        Raises:
            IdTokenRefused: None was sent, or it fails a check (signature, `iss`, `aud`, `exp`, `nonce`).
        """
        if not id_token:
            raise IdTokenRefused("the provider sent no ID token for this sign-in")
        claims = await self.keys.verified_claims(id_token)
        if claims is None:
            raise IdTokenRefused("its ID token failed the checks of signature, issuer, audience and expiry")
        expires = claims.get("exp")
        if not isinstance(expires, (int, float)) or expires <= self.keys.now():  # no leeway past `exp` itself
            raise IdTokenRefused("its ID token has expired")
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce, nonce_for(code_verifier)):
            raise IdTokenRefused("its ID token was not issued for this sign-in (the nonce differs)")
        return claims


async def id_tokens_for(
    provider: Provider, *, scopes: tuple[str, ...], timeout: float, jwks_url: str | None = None
) -> IdTokens | None:
    """The ID tokens of `provider` when it is an OpenID provider (an issuer, and `openid` among `scopes`), checked
    against `jwks_url` or, without one, the JWKS its metadata names; None for a plain OAuth2 provider.

    Raises:
        ConfigError: An OpenID provider whose metadata cannot be read or names no JWKS.
    """
    if provider.issuer is None or "openid" not in scopes:
        return None
    if jwks_url is None:
        try:
            async with provider_client(timeout) as client, deadline(timeout):
                response = await client.get(provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
            found = response.json().get("jwks_uri") if response.status_code == 200 else None
        except (httpx2.HTTPError, ValueError, AttributeError):
            found = None
        if not isinstance(found, str):
            raise ConfigError(
                f"{provider.name} is an OpenID provider (an issuer and the openid scope), but its metadata at "
                f"{provider.issuer} names no jwks_uri to verify ID tokens with; check its issuer."
            )
        jwks_url = found
    if provider.client_id is None:
        raise ConfigError(f"{provider.name} has no client_id: ID tokens are issued to our client; set it.")
    keys = _IdTokenKeys(issuer=provider.issuer, jwks_url=jwks_url, audience=provider.client_id, timeout=timeout)
    return IdTokens(keys)
