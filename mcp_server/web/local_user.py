"""In single-user mode the HTTP surface is only for the OS user who started authmcp.

Loopback is not the same as "this user": every account on the machine reaches 127.0.0.1. Without this check
another user could list the local user's connections, run their tools over `/mcp` or revoke their accounts.

On Linux the kernel says which uid owns each socket: `SameUserOnly` asks it (a sock_diag netlink query for the
one socket at the other end of the connection, in this network namespace, which is where every loopback peer
is) and answers 403 unless that socket belongs to the uid authmcp runs as, or to root (who can read the data
dir anyway). A peer that cannot be found is refused too. Where the OS does not tell (macOS, Windows) the check
cannot be made: `peer_check_available()` says so and the server warns at start (docs/security.md).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import struct

from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server.web.hosts import send_plain

__all__ = ["SameUserOnly", "peer_check_available", "peer_uid"]

logger = logging.getLogger(__name__)

_NETLINK_SOCK_DIAG = 4  # linux/netlink.h; the socket module does not name it
_SOCK_DIAG_BY_FAMILY = 20  # the message type of a query and of its answer
_NLM_F_REQUEST = 1  # one socket, not a dump: the kernel looks it up by its addresses
_NO_COOKIE = 0xFFFFFFFF
_UID_AT = 16 + 64  # nlmsghdr, then inet_diag_msg's family..retrans (4), its sockid (48), expires and queues (12)
_REFUSED = (
    b"Forbidden: this authmcp serves only the operating-system user who started it. Run your own "
    b"(`authmcp serve`) under your own account."
)


def peer_check_available() -> bool:
    try:
        socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG).close()
    except (AttributeError, OSError):  # no AF_NETLINK outside Linux
        return False
    return True


def _query(family: int, peer: tuple[bytes, int], ours: tuple[bytes, int]) -> int | None:
    """The uid of the TCP socket whose local end is `peer` and remote end `ours`, or None if there is none."""
    sockid = (
        struct.pack("!HH", peer[1], ours[1])
        + peer[0].ljust(16, b"\0")
        + ours[0].ljust(16, b"\0")
        + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    )  # inet_diag_sockid: ports and addresses in network order, any interface, no cookie
    request = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid  # any state
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as link:
        link.send(header + request)
        answer = link.recv(4096)
    if len(answer) < _UID_AT + 4 or struct.unpack_from("=H", answer, 4)[0] != _SOCK_DIAG_BY_FAMILY:
        return None  # NLMSG_ERROR: no such socket
    return int(struct.unpack_from("=I", answer, _UID_AT)[0])


def peer_uid(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The uid owning the socket at the other end of the connection `client` → `server`, or None if not found.

    An IPv4 connection may also come from an IPv6 socket (an IPv4-mapped address), so both are asked.
    """
    try:
        peer, ours = ipaddress.ip_address(client[0]), ipaddress.ip_address(server[0])
        family = socket.AF_INET if peer.version == 4 else socket.AF_INET6
        found = _query(family, (peer.packed, client[1]), (ours.packed, server[1]))
        if found is None and peer.version == 4 and ours.version == 4:
            mapped = (ipaddress.IPv6Address(f"::ffff:{peer}").packed, client[1])
            found = _query(socket.AF_INET6, mapped, (ipaddress.IPv6Address(f"::ffff:{ours}").packed, server[1]))
    except (ValueError, OSError):
        return None
    return found


class SameUserOnly:
    """Pure ASGI middleware: 403 for a connection from a socket another OS user owns."""

    def __init__(self, app: ASGIApp, *, uid: int | None = None) -> None:
        self.app = app
        self.allowed = {os.getuid() if uid is None else uid, 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client, server = scope.get("client"), scope.get("server")
            owner = peer_uid((client[0], client[1]), (server[0], server[1])) if client and server else None
            if owner not in self.allowed:
                if owner is None:
                    logger.warning("refused a connection whose peer socket could not be found")
                else:
                    logger.warning("refused a connection from another OS user (uid %s)", owner)
                if scope["type"] == "http":
                    await send_plain(send, 403, _REFUSED)
                else:
                    await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)
