"""DNS-rebinding and cross-origin defence for every HTTP route: the `Host` must be ours, and an `Origin`, if sent,
must be this very server: the origin of the request's own Host, or the public URL's (behind a proxy).

A page on another loopback port is another origin (another program, perhaps another user's), even though the
browser shares cookies across ports: it is refused like any other site."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["HostCheck", "allowed_hosts", "send_plain"]

logger = logging.getLogger(__name__)

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
# probes answer a Host that is an address (kubelet and load balancers call the pod's IP): a rebound name cannot
# be one, and they tell nothing worth reading
PROBES = frozenset({"/healthz", "/readyz"})


def allowed_hosts(public_url: str, extra: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """The Host values to accept (the public URL's, loopback on any port, and `extra` hosts) and the Origins
    besides the request's own (the public URL's, and `extra` hosts' over https).

    A pattern ending in ":*" accepts any port.
    """
    public = urlsplit(public_url)
    hosts = [f"{h}:*" for h in _LOOPBACK] + list(_LOOPBACK) + [public.netloc, *extra]
    origins = [f"{public.scheme}://{public.netloc}"] + [f"https://{h}" for h in extra]
    return list(dict.fromkeys(hosts)), list(dict.fromkeys(origins))


def _matches(value: str, patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        if value == pattern or (
            pattern.endswith(":*") and value.startswith(pattern[:-1]) and value[len(pattern) - 1 :].isdigit()
        ):
            return True
    return False


class HostCheck:
    """Pure ASGI middleware: 421 for a foreign `Host`, 403 for a foreign `Origin`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: Sequence[str],
        origins: Sequence[str],
        ip_literals: bool = False,
        public_metadata: bool = False,
    ) -> None:
        self.app = app
        # the RFC 9728 document open to every origin (the front door's browser-based clients need to read it)
        self.public_metadata = public_metadata
        self.hosts = list(hosts)
        self.origins = list(origins)
        # an IP address as Host cannot be a rebound name: a listener scraped by address (metrics) accepts it
        self.ip_literals = ip_literals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host, origin = "", None
            for key, value in scope["headers"]:
                if key == b"host":
                    host = value.decode("latin-1")
                elif key == b"origin":
                    origin = value.decode("latin-1")
            by_address = self.ip_literals or scope["path"] in PROBES
            if not _matches(host, self.hosts) and not (by_address and _is_ip_literal(host)):
                logger.warning("refused a request for host %r", host[:100])
                await send_plain(send, 421, b"Misdirected request: this server does not answer for that host.")
                return
            same_origin = origin == f"{scope.get('scheme', 'http')}://{host}"
            if (
                origin is not None
                and not same_origin
                and not _matches(origin, self.origins)
                and not _own_form(origin, scope)
                and not (self.public_metadata and _is_public_metadata(scope["path"]))
            ):
                logger.warning("refused a request from origin %r", origin[:100])
                await send_plain(send, 403, b"Forbidden: requests from that origin are not accepted.")
                return
        await self.app(scope, receive, send)


def _is_ip_literal(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


# the front door's endpoints for OAuth clients, which browser-based clients (the MCP Inspector) call from their
# own origin: they take no cookie, so another origin gains nothing a direct request would not; each answers CORS
# with `Access-Control-Allow-Origin: *` and no credentials (docs/security.md, the front door)
_OAUTH_ENDPOINTS = frozenset({"/token", "/register", "/revoke", "/.well-known/oauth-authorization-server"})
_PUBLIC_METADATA = "/.well-known/oauth-protected-resource"  # RFC 9728, at this prefix plus the resource's path


def _is_public_metadata(path: str) -> bool:
    return path == _PUBLIC_METADATA or path.startswith(f"{_PUBLIC_METADATA}/")


def _own_form(origin: str, scope: Scope) -> bool:
    """Our pages send `Referrer-Policy: no-referrer`, so a browser posts the secret form on `/connect/<id>` with
    `Origin: null`. That route does not rely on Origin: it needs the flow's SameSite=Lax, HttpOnly cookie (which a
    cross-site POST does not carry) and a CSRF token derived from it. The Host check above still applies."""
    if scope["path"] in _OAUTH_ENDPOINTS:
        return True
    return origin == "null" and scope["method"] == "POST" and scope["path"].startswith("/connect/")


async def send_plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
