"""MCP clients as the front door sees them: redirect URIs compared exactly, except a loopback redirect's port.

RFC 8252 §7.3: a native client listening on 127.0.0.1 or [::1] gets a port from the operating system at each
start, so the port of such a redirect URI is not compared; the scheme, host, path and query still are.
"""

from __future__ import annotations

import contextvars
from urllib.parse import urlsplit

from mcp.shared.auth import InvalidRedirectUriError, OAuthClientInformationFull
from pydantic import AnyUrl

__all__ = ["LoopbackPortClient", "registration_source", "same_redirect"]

LOOPBACK_IPS = frozenset({"127.0.0.1", "[::1]", "::1"})

# the address a registration comes from (set by the registration route, read by `FrontDoor.register_client`)
registration_source: contextvars.ContextVar[str] = contextvars.ContextVar("registration_source", default="")


def same_redirect(registered: str, presented: str) -> bool:
    if registered == presented:
        return True
    a, b = urlsplit(registered), urlsplit(presented)
    if a.scheme != "http" or a.hostname is None or a.hostname not in LOOPBACK_IPS:
        return False
    return (a.scheme, a.hostname, a.path, a.query, a.fragment) == (b.scheme, b.hostname, b.path, b.query, b.fragment)


class LoopbackPortClient(OAuthClientInformationFull):
    """A client whose redirect URIs match exactly, or but for the port of a 127.0.0.1 / [::1] one."""

    def validate_redirect_uri(self, redirect_uri: AnyUrl | None) -> AnyUrl:
        if redirect_uri is None:
            return super().validate_redirect_uri(None)
        presented = str(redirect_uri)
        if any(same_redirect(str(uri), presented) for uri in self.redirect_uris or []):
            return redirect_uri
        raise InvalidRedirectUriError("redirect_uri is not one this client registered")
