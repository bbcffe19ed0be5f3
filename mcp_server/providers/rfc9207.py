"""RFC 9207: the issuer identifier in an authorization response, a client's defence against mix-up (RFC 9700 §4.4).

One check for every authorization response authmcp receives: a provider's callback and the sign-in at the issuer
of `[api] verification = "idp"`. Without it, an authorization server that says it names itself in its responses
could have a response of another one (with that one's code) passed off as its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from mcp_server.providers.registry import Provider

__all__ = ["issuer_matches"]


def issuer_matches(provider: Provider, params: Mapping[str, str]) -> bool:
    """Whether the authorization response `params` may come from `provider` (RFC 9207 §2.4).

    A provider whose metadata says it sends `iss` (`authorization_response_iss_parameter_supported`, read into
    `sends_iss`) must have sent it; an `iss` that was sent must be the provider's issuer identifier, compared
    exactly. (With no issuer configured there is nothing to compare with, and a missing `iss` is accepted from a
    provider that never said it sends one.)
    """
    issuer = params.get("iss")
    if issuer is None:
        return not provider.sends_iss
    return provider.issuer is None or issuer == provider.issuer
