"""Ports for the servers tests and benchmarks start, chosen below the kernel's ephemeral range.

`bind(("127.0.0.1", 0))` hands out a port from the ephemeral range, the same range every outgoing connection
takes its source port from. Between the moment a helper closes that socket and the moment the server it was
meant for binds the port, a connection to PostgreSQL or to a provider can take it, and the server exits with
"address already in use" (seen on a busy CI machine). Ports below the range are never given out that way, so
only another listener can hold one, and binding the port first checks that none does.
"""

from __future__ import annotations

import itertools
import os
import random
import socket

_LOWEST = 10000


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
            return int(ports.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default when /proc cannot be read


_HIGHEST = _ephemeral_floor()
# Each process (a test run, a benchmark, an xdist worker) walks the range from its own starting point, so two of
# them seldom try the same port, and one never hands out a port twice.
_cursor = itertools.count(random.Random(os.getpid()).randrange(1 << 16))


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on and that no outgoing connection will take."""
    span = _HIGHEST - _LOWEST
    if span < 1000:  # an unusual ephemeral range leaves no room below it: fall back to the kernel's choice
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    for _ in range(span):
        port = _LOWEST + next(_cursor) % span
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # a listener (or a connection in TIME_WAIT) holds it: the next one
        return port
    raise RuntimeError(f"no free port on 127.0.0.1 between {_LOWEST} and {_HIGHEST}")
