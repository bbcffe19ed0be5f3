"""The OAuth 2.0 client side (RFC 6749 authorization code grant, RFC 7636 PKCE), on authlib's async client.

Every function talks to one provider within a total deadline and a cap on the answer's size (`_http`), and
translates what can go wrong into
`OAuthError` (the provider said no, with its RFC error code) or `ProviderUnavailable` (it did not answer,
or answered with a server error). Provider-supplied error text is never passed on: a provider may echo
the code or token it was sent.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp_server._http import ResponseTooLarge, capped_transport, deadline, httpx2, provider_client
from mcp_server.errors import OAuthError, ProviderUnavailable
from mcp_server.observability.telemetry import traced
from mcp_server.providers.registry import Provider
from mcp_server.toolkit.answers import answer_error

if TYPE_CHECKING:  # authlib (and the JOSE library under it) loads with the first flow, not at start-up
    from authlib.integrations.httpx_client import AsyncOAuth2Client

__all__ = [
    "TokenSet",
    "authorization_url",
    "exchange_code",
    "fetch_user_info",
    "parse_expires_in",
    "parse_scopes",
    "refresh",
    "revoke",
]

logger = logging.getLogger(__name__)

_SCOPE_SEPARATORS = re.compile(r"[\s,]+")  # GitHub answers "repo,gist"; everyone else uses spaces
MAX_EXPIRES_IN = 400 * 86400.0  # a longer lifetime is taken as this: the 401 path covers an early end
_EXPIRES_IN = "authmcp_expires_in"  # where the provider's expires_in waits, out of authlib's strict int() parse


@dataclass(frozen=True)
class TokenSet:
    """A token endpoint's answer, with `expires_at` made absolute at the moment it was received."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"
    expires_at: float | None = None
    scopes: tuple[str, ...] | None = None  # None: the provider did not say (RFC 6749 §5.1: as requested)
    extras: dict[str, str] = field(default_factory=dict)  # the provider's `token_extras` found in the answer
    id_token: str | None = field(default=None, repr=False)  # OpenID Connect: for the sign-in to verify, never stored


def parse_scopes(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    parts = _SCOPE_SEPARATORS.split(value) if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(p for p in parts if p))


def parse_expires_in(value: Any) -> float | None:
    """A token's lifetime in seconds from a provider's `expires_in`, leniently: an integer, a float or a numeric
    string. None (unknown: the token is used until the provider refuses it) when missing, zero, negative or not a
    number; a lifetime past `MAX_EXPIRES_IN` is taken as that bound."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return None
    return min(float(value), MAX_EXPIRES_IN)


def _set_aside_expiry(response: httpx2.Response) -> httpx2.Response:
    """authlib turns `expires_in` into an int and fails on "3600.0" or "NaN", after the provider may already have
    rotated the refresh token: move the value aside, for `parse_expires_in`."""
    try:
        body = response.json()
    except ValueError:
        return response
    if not isinstance(body, dict) or "expires_in" not in body:
        return response
    body[_EXPIRES_IN] = body.pop("expires_in")
    return httpx2.Response(response.status_code, json=body, request=response.request)


def _client(provider: Provider, *, timeout: float, redirect_uri: str | None = None) -> AsyncOAuth2Client:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    client = AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method=provider.token_endpoint_auth_method,
        redirect_uri=redirect_uri,
        code_challenge_method="S256" if provider.pkce else None,
        timeout=timeout,
        follow_redirects=False,
        headers={"Accept": "application/json"},
        transport=capped_transport(),
    )
    client.register_compliance_hook("access_token_response", _set_aside_expiry)
    client.register_compliance_hook("refresh_token_response", _set_aside_expiry)
    return client


def authorization_url(
    provider: Provider, *, redirect_uri: str, scopes: Sequence[str], state: str, code_verifier: str
) -> str:
    """The provider's authorization URL for this request (RFC 6749 §4.1.1, RFC 7636 §4.3)."""
    client = _client(provider, timeout=1, redirect_uri=redirect_uri)
    extra: dict[str, Any] = dict(provider.authorize_params)
    if scopes:
        extra[provider.scope_param] = provider.scope_delimiter.join(scopes)
    assert provider.authorize_url is not None
    url, _ = client.create_authorization_url(
        provider.authorize_url, state=state, code_verifier=code_verifier if provider.pkce else None, **extra
    )
    return str(url)


@asynccontextmanager
async def _token_request(provider: Provider, what: str) -> AsyncIterator[None]:
    """Translate the failures of one token-endpoint request; `what` says what was being exchanged."""
    from authlib.integrations.httpx_client import OAuthError as AuthlibOAuthError

    try:
        yield
    except AuthlibOAuthError as exc:
        error = str(exc.error or "invalid_request")
        if not re.fullmatch(r"[a-z_]{1,64}", error):  # not an RFC error code: do not repeat it
            error = "invalid_response"
        raise OAuthError(error, f"{provider.name} refused the {what}") from None
    except httpx2.TimeoutException:
        raise ProviderUnavailable(f"{provider.name} did not answer in time") from None
    except ResponseTooLarge:
        raise ProviderUnavailable(f"{provider.name} sent an oversized answer to the {what}") from None
    except httpx2.HTTPStatusError as exc:
        status = exc.response.status_code
        if status >= 500:
            raise ProviderUnavailable(f"{provider.name} had a server error (HTTP {status})") from None
        raise OAuthError("invalid_response", f"{provider.name} refused the {what} (HTTP {status})") from None
    except httpx2.TransportError:
        raise ProviderUnavailable(f"{provider.name} could not be reached") from None
    except ValueError:  # malformed JSON that authlib could not read
        raise OAuthError("invalid_response", f"{provider.name} sent an unreadable answer for the {what}") from None


def _token_set(provider: Provider, raw: dict[str, Any], received_at: float) -> TokenSet:
    # extras are read at the top level, before a nested user token is taken (Salesforce's instance_url)
    extras = {name: str(raw[name]) for name in provider.token_extras if isinstance(raw.get(name), (str, int))}
    if provider.token_response_key:
        # Slack puts a user token under `authed_user` after consent, but at the top level after a refresh
        nested = raw.get(provider.token_response_key)
        if isinstance(nested, dict) and nested.get("access_token"):
            raw = nested
    access_token = raw.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise OAuthError("invalid_response", "the provider's token response had no access_token")
    lifetime = parse_expires_in(raw.get(_EXPIRES_IN, raw.get("expires_in")))
    expires_at = received_at + lifetime if lifetime is not None else None  # relative: clock skew cannot shorten it
    refresh_token = raw.get("refresh_token")
    scope = raw.get("scope")
    return TokenSet(
        access_token=access_token,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        token_type=str(raw.get("token_type") or "Bearer"),
        expires_at=expires_at,
        scopes=parse_scopes(scope) if isinstance(scope, (str, list)) else None,
        extras={name: value[:2048] for name, value in extras.items()},
        id_token=raw["id_token"] if isinstance(raw.get("id_token"), str) else None,
    )


@traced("authmcp.provider.token")
async def exchange_code(
    provider: Provider, *, code: str, redirect_uri: str, code_verifier: str, timeout: float
) -> TokenSet:
    """Exchange an authorization code for tokens (RFC 6749 §4.1.3)."""
    assert provider.token_url is not None
    async with _client(provider, timeout=timeout, redirect_uri=redirect_uri) as client:
        async with _token_request(provider, "authorization code"), deadline(timeout):
            received_at = time.time()
            raw = await client.fetch_token(
                provider.token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier if provider.pkce else None,
            )
    return _token_set(provider, dict(raw), received_at)


@traced("authmcp.provider.refresh")
async def refresh(provider: Provider, *, refresh_token: str, timeout: float) -> TokenSet:
    """Use a refresh token (RFC 6749 §6) at the provider's refresh URL, else its token endpoint.

    The answer's refresh token is None when the provider sent none.
    """
    url = provider.refresh_url or provider.token_url
    assert url is not None
    async with _client(provider, timeout=timeout) as client:
        async with _token_request(provider, "refresh token"), deadline(timeout):
            received_at = time.time()
            raw = await client.refresh_token(url, refresh_token=refresh_token)
    return _token_set(provider, dict(raw), received_at)


@traced("authmcp.provider.userinfo")
async def fetch_user_info(provider: Provider, *, access_token: str, timeout: float) -> dict[str, Any]:
    """Who the user is at the provider, or {} if it has no userinfo endpoint or does not say."""
    if not provider.userinfo_url:
        return {}
    try:
        async with provider_client(timeout) as client, deadline(timeout):
            response = await client.request(
                provider.userinfo_method,
                provider.userinfo_url,
                headers={
                    "Authorization": f"Bearer {access_token}",
                    "Accept": "application/json",
                    **provider.userinfo_headers,
                },
            )
        if response.status_code != 200:
            logger.warning("userinfo request to %s answered HTTP %s", provider.id, response.status_code)
            return {}
        body = response.json()
    except (httpx2.HTTPError, ValueError) as exc:
        logger.warning("userinfo request to %s failed: %s", provider.id, type(exc).__name__)
        return {}
    return body if isinstance(body, dict) else {}


@traced("authmcp.provider.revoke")
async def revoke(provider: Provider, *, token: str, token_type_hint: str, timeout: float) -> bool:
    """Revoke a token at the provider: RFC 7009, or the provider's documented alternative.

    A 200 is success even for a token the provider no longer knows (RFC 7009 §2.2). Returns False when the
    provider offers no way to revoke.

    Raises:
        ProviderUnavailable: The provider could not be reached or failed (5xx, 429): try again later.
        OAuthError: The provider refused the request for good (another 4xx): retrying will not help.
    """
    try:
        if provider.revocation == "github_grant":
            # GitHub deletes the whole grant of an OAuth app: DELETE /applications/{client_id}/grant
            async with provider_client(timeout) as client, deadline(timeout):
                response = await client.request(
                    "DELETE",
                    f"https://api.github.com/applications/{provider.client_id}/grant",
                    auth=(provider.client_id or "", provider.client_secret or ""),
                    json={"access_token": token},
                    headers={"Accept": "application/vnd.github+json"},
                )
        elif provider.revocation == "rfc7009" and provider.revocation_url:
            async with _client(provider, timeout=timeout) as client, deadline(timeout):
                response = await client.revoke_token(
                    provider.revocation_url, token=token, token_type_hint=token_type_hint
                )
        else:
            return False  # forgetting the token is all we can do
    except httpx2.TimeoutException:
        raise ProviderUnavailable(f"{provider.name} did not answer the revocation in time") from None
    except httpx2.TransportError:
        raise ProviderUnavailable(f"{provider.name} could not be reached to revoke the token") from None
    status = response.status_code
    if status >= 500 or status == 429:
        raise ProviderUnavailable(f"{provider.name} could not revoke the token now (HTTP {status})")
    if status >= 400 and not (provider.revocation == "github_grant" and status == 404):
        raise OAuthError("invalid_request", f"{provider.name} refused to revoke the token (HTTP {status})")
    failure = answer_error(provider.error_style, response) if status < 300 else None
    if failure is not None:  # e.g. Slack's HTTP 200 {"ok": false}: not revoked
        if failure.kind in ("transient", "rate_limited"):
            raise ProviderUnavailable(f"{provider.name} could not revoke the token now ({failure.code})")
        raise OAuthError("invalid_request", f"{provider.name} refused to revoke the token ({failure.code})")
    return True
