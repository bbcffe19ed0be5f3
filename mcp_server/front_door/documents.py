"""Client ID Metadata Documents: a client whose client_id is an https URL, the JSON at it describing the client.

The URL is fetched by this server on behalf of whoever names it, so it is the classic server-side request forgery
surface. Every fetch: the host's addresses are all resolved and each must be a public one (never loopback,
link-local such as 169.254.169.254, private, or otherwise reserved); one request, no redirects followed; the whole
of it within FETCH_SECONDS; at most MAX_DOCUMENT_BYTES, counted as they arrive. The document must name the same
`client_id` and be a public client (no secret: PKCE is its proof). Documents are kept as their Cache-Control
says (`max-age`, bounded by MAX_CACHE_SECONDS; `no-store`/`no-cache`: not kept).

The addresses checked are the ones connected to: the request goes to a checked address, with the URL's name kept
in `Host` and as the TLS server name (so the certificate is verified for the name), and is never resolved
again. A name that answers a public address to the check and 169.254.169.254 to the connect (DNS rebinding)
therefore reaches only the public one.

Development: when public_url is on loopback (http or https), client ids on `127.0.0.1` and `localhost` are
accepted too, over http or https, and loopback addresses with them (never the others). A test CA for such an
https document is trusted through `SSL_CERT_FILE` (mcp_server/_http.py).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import anyio
from mcp.shared.auth import OAuthClientMetadata
from pydantic import ValidationError

from mcp_server._http import capped_transport, deadline, httpx2
from mcp_server.front_door.clients import LoopbackPortClient

__all__ = ["DocumentClients", "is_document_url"]

logger = logging.getLogger(__name__)

FETCH_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_CACHE_SECONDS = 24 * 3600.0
DEFAULT_CACHE_SECONDS = 300.0
CACHE_SIZE = 1024
_MAX_AGE = re.compile(r"max-age=(\d+)")
_DEV_HOSTS = frozenset({"127.0.0.1", "localhost"})


def is_document_url(client_id: str, *, development: bool) -> bool:
    parts = urlsplit(client_id)
    if parts.path in ("", "/") or parts.fragment or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    return development and parts.scheme == "http" and parts.hostname in _DEV_HOSTS


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


class DocumentClients:
    """The clients known by their metadata documents, fetched as above and kept while their caching allows."""

    def __init__(self, *, development: bool) -> None:
        self.development = development
        self._cache: dict[str, tuple[float, LoopbackPortClient]] = {}

    async def get(self, url: str) -> LoopbackPortClient | None:
        kept = self._cache.get(url)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        self._cache.pop(url, None)
        try:
            found = await self._fetch(url)
        except _Refused as exc:
            logger.info("client metadata document refused: %s", exc)
            return None
        if found is None:
            return None
        client, keep_for = found
        if keep_for > 0:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)), None)
            self._cache[url] = (time.monotonic() + keep_for, client)
        return client

    async def _checked_addresses(self, host: str, port: int) -> list[str]:
        """The host's addresses, in the resolver's order, once each is shown to be one this server may fetch from."""
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise _Refused("its host does not resolve") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise _Refused("its host does not resolve")
        for address in addresses:
            loopback = ipaddress.ip_address(address).is_loopback
            if not (_public(address) or (self.development and loopback and host in _DEV_HOSTS)):
                raise _Refused("its host resolves to an address that is not public")
        return addresses

    async def _fetch(self, url: str) -> tuple[LoopbackPortClient, float] | None:
        parts = urlsplit(url)
        assert parts.hostname is not None
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = await self._checked_addresses(parts.hostname, port)
        try:
            async with (
                httpx2.AsyncClient(
                    timeout=FETCH_SECONDS,
                    transport=capped_transport(MAX_DOCUMENT_BYTES),
                    follow_redirects=False,
                    trust_env=False,
                ) as http,
                deadline(FETCH_SECONDS),
            ):
                response = await _get_pinned(http, httpx2.URL(url), addresses)
        except httpx2.HTTPError as exc:
            raise _Refused(f"fetching it failed ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise _Refused(f"it answered HTTP {response.status_code} (redirects are not followed)")
        try:
            body: Any = response.json()
            metadata = OAuthClientMetadata.model_validate(body)
        except (ValueError, ValidationError):
            raise _Refused("it is not a client metadata document") from None
        if not isinstance(body, dict) or body.get("client_id") != url:
            raise _Refused("its client_id is not its own URL")
        if metadata.token_endpoint_auth_method not in (None, "none"):
            raise _Refused("a metadata-document client is a public client (token_endpoint_auth_method none)")
        client = LoopbackPortClient.model_validate(
            {**metadata.model_dump(), "client_id": url, "token_endpoint_auth_method": "none", "client_secret": None}
        )
        return client, _cache_seconds(response.headers.get("cache-control", ""))


async def _get_pinned(http: httpx2.AsyncClient, url: httpx2.URL, addresses: list[str]) -> httpx2.Response:
    """GET `url` from the first of `addresses` that takes the connection, never resolving its name again."""
    headers = {"Accept": "application/json", "Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}  # the certificate names the host
    for address in addresses[:-1]:
        try:
            return await http.get(url.copy_with(host=address), headers=headers, extensions=extensions)
        except httpx2.ConnectError:
            continue  # the next checked address, as a resolver-driven connect would try it
    return await http.get(url.copy_with(host=addresses[-1]), headers=headers, extensions=extensions)


def _cache_seconds(cache_control: str) -> float:
    directives = cache_control.lower()
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    found = _MAX_AGE.search(directives)
    return min(float(found.group(1)), MAX_CACHE_SECONDS) if found else DEFAULT_CACHE_SECONDS


class _Refused(Exception):
    """Why a document was not taken, in our words (logged; the client is then unknown)."""
