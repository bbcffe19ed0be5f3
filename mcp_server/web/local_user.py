"""In single-user mode the HTTP surface is only for the OS user who started authmcp.

Loopback is not the same as "this user": every account on the machine reaches 127.0.0.1. Without this check
another user could list the local user's connections, run their tools over `/mcp` or revoke their accounts.

On Linux the kernel says which uid owns each TCP socket (`/proc/net/tcp` and `tcp6`, in this process's network
namespace, which is where every loopback peer is). `SameUserOnly` finds the peer's socket by the connection's
two addresses and answers 403 unless it belongs to the uid authmcp runs as, or to root (who can read the data
dir anyway). A peer that cannot be found is refused too. Where the OS does not tell (macOS, Windows) the check
cannot be made: `peer_check_available()` says so and the server warns at start (docs/security.md).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import struct
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server.web.hosts import send_plain

__all__ = ["SameUserOnly", "peer_check_available", "peer_uid"]

logger = logging.getLogger(__name__)

_TABLES = {4: Path("/proc/net/tcp"), 6: Path("/proc/net/tcp6")}
_REFUSED = (
    b"Forbidden: this authmcp serves only the operating-system user who started it. Run your own "
    b"(`authmcp serve`) under your own account."
)


def peer_check_available() -> bool:
    return _TABLES[4].is_file()


def _endpoint(address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> str:
    """An address as the kernel writes it in /proc/net/tcp*: each 32-bit word in host byte order, then the port."""
    words = struct.unpack(f"={len(address.packed) // 4}I", address.packed)
    return "".join(f"{word:08X}" for word in words) + f":{port:04X}"


def peer_uid(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The uid owning the socket at the other end of the connection `client` → `server`, or None if not found.

    That socket's local end is `client` and its remote end is `server`. An IPv4 connection may also come from an
    IPv6 socket (an IPv4-mapped address), so both tables are searched.
    """
    try:
        local, remote = ipaddress.ip_address(client[0]), ipaddress.ip_address(server[0])
    except ValueError:
        return None
    candidates = [(local.version, local, remote)]
    if isinstance(local, ipaddress.IPv4Address) and isinstance(remote, ipaddress.IPv4Address):
        candidates.append((6, ipaddress.IPv6Address(f"::ffff:{local}"), ipaddress.IPv6Address(f"::ffff:{remote}")))
    for version, peer, ours in candidates:
        wanted = f" {_endpoint(peer, client[1])} {_endpoint(ours, server[1])} "
        try:
            table = _TABLES[version].read_text()
        except OSError:
            continue
        at = table.find(wanted)
        if at != -1:
            fields = table[at : table.find("\n", at)].split()
            return int(fields[6])  # local, remote, state, queues, timer, retransmits, uid
    return None


class SameUserOnly:
    """Pure ASGI middleware: 403 for a connection from a socket another OS user owns."""

    def __init__(self, app: ASGIApp, *, uid: int | None = None) -> None:
        self.app = app
        self.allowed = {os.getuid() if uid is None else uid, 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client, server = scope.get("client"), scope.get("server")
            owner = peer_uid(tuple(client), tuple(server)) if client and server else None  # type: ignore[arg-type]
            if owner not in self.allowed:
                logger.warning("refused a connection from another OS user (uid %s)", owner)
                if scope["type"] == "http":
                    await send_plain(send, 403, _REFUSED)
                else:
                    await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)
