from __future__ import annotations

import socket

import pytest

from mcp_server.errors import ConfigError
from mcp_server.serving.shared_pages import bind


def test_bound_socket_is_tcp_so_asyncio_disables_nagle() -> None:
    # asyncio turns on TCP_NODELAY for accepted connections only when the listening socket says IPPROTO_TCP;
    # without it a response written in two parts stalls on the client's delayed ACK.
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.getsockname()[1] > 0
    finally:
        sock.close()


def test_busy_port_is_a_clear_start_up_error() -> None:
    first = bind("127.0.0.1", 0)
    try:
        with pytest.raises(ConfigError, match="choose another --port"):
            bind("127.0.0.1", first.getsockname()[1])
    finally:
        first.close()
