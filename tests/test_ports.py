"""The ports test servers get: never from the ephemeral range outgoing connections draw from, never twice."""

from __future__ import annotations

import socket

from tests.support import ports


def test_ports_come_from_below_the_ephemeral_range_and_are_not_handed_out_twice() -> None:
    given = [ports.free_port() for _ in range(200)]
    assert len(set(given)) == len(given)
    assert all(ports._LOWEST <= port < ports._HIGHEST for port in given), given


def test_a_port_something_listens_on_is_skipped() -> None:
    # Take the port the next call would try, then ask: it must come back with a different one.
    with socket.socket() as held:
        port = ports.free_port()
        held.bind(("127.0.0.1", port))
        held.listen(1)
        # Put the cursor back to that port by walking the whole span once.
        for _ in range(ports._HIGHEST - ports._LOWEST - 1):
            next(ports._cursor)
        assert ports.free_port() != port
