"""One set of authorization pages for every `authmcp serve` on one data dir, whichever process serves them.

Claude Desktop, an editor and the Inspector each start their own stdio process; the links they hand out must
all point at one port. The first process binds it; the others find it busy, ask whoever listens there to prove
it is an authmcp on the same data dir, and hand out links to it. While they run they keep trying the port, so
when its holder goes, one of them takes it over within `TAKEOVER_INTERVAL` seconds.

The proof: every data dir holds a random secret (`<data_dir>/instance`, mode 0600) that only the processes
able to read that directory know; `/.well-known/authmcp?nonce=N` answers HMAC-SHA256(secret, N). A program
that is not an authmcp, or an authmcp on another data dir, cannot answer it.

When a stdio process's client goes while flows still wait for a browser, the client may kill the process's whole
group a moment later. The listening socket is handed to `authmcp keep-pages`, started in a session of its own,
which serves those links until the flows finish or expire and then exits (logging to `<data_dir>/pages.log`).
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import logging
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcp_server._http import httpx2
from mcp_server.errors import ConfigError
from mcp_server.vault.local_secret import local_secret

__all__ = [
    "IDENTITY_PATH", "bind", "claim_port", "hand_over", "identity_route", "instance_secret", "take_over_when_free",
]

logger = logging.getLogger(__name__)

IDENTITY_PATH = "/.well-known/authmcp"
TAKEOVER_INTERVAL = 0.5  # seconds between tries at a port another process holds
_CLAIM_WAIT = 20.0  # how long a peer that has bound the port may take to start answering


def instance_secret(data_dir: Path) -> bytes:
    """The data dir's secret, created on first use (atomically: concurrent first starts agree on one).

    Raises:
        ConfigError: The data dir cannot be created or read.
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return local_secret(data_dir / "instance")
    except OSError as exc:
        raise ConfigError(f"Cannot use the data dir {data_dir} ({exc.strerror or exc}); set data_dir to a folder you can write.") from None


def proof(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, nonce.encode(), hashlib.sha256).hexdigest()


def identity_route(secret: bytes) -> Route:
    """`GET /.well-known/authmcp?nonce=<hex>`: proof that this server serves the caller's data dir."""

    async def identity(request: Request) -> Response:
        nonce = request.query_params.get("nonce", "")
        if not 16 <= len(nonce) <= 128 or not all(c in "0123456789abcdef" for c in nonce):
            return JSONResponse({"error": "nonce must be 16 to 128 hex digits"}, status_code=400)
        return JSONResponse({"server": "authmcp", "proof": proof(secret, nonce)})

    return Route(IDENTITY_PATH, identity, methods=["GET"])


def _socket(host: str, port: int) -> socket.socket | None:
    """A listening socket on host:port, or None if something already listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only for sockets created with
    # it; with protocol 0 a response written in two parts waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            return None
        raise ConfigError(f"Cannot listen on {host}:{port} ({exc.strerror}); choose another --host or --port.") from None
    except OverflowError:
        sock.close()
        raise ConfigError(f"Port {port} is not a port number; choose one from 0 to 65535.") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def bind(host: str, port: int) -> socket.socket:
    """Listen on host:port now, so a busy port is a clear start-up error and port 0 gets a real port.

    Raises:
        ConfigError: The port is busy, out of range, or not ours to bind.
    """
    sock = _socket(host, port)
    if sock is None:
        raise ConfigError(f"Cannot listen on {host}:{port} (address already in use); choose another --port.")
    return sock


async def _probe(host: str, port: int, secret: bytes) -> bool | None:
    """True: an authmcp on our data dir answers there; False: something else does; None: nothing answers yet."""
    nonce = secrets.token_hex(16)
    url = f"http://{host if ':' not in host or host.startswith('[') else f'[{host}]'}:{port}{IDENTITY_PATH}"
    try:
        async with httpx2.AsyncClient(timeout=2.0, trust_env=False) as client:
            response = await client.get(url, params={"nonce": nonce})
    except httpx2.TransportError:
        return None
    try:
        answer = response.json()
    except ValueError:
        return False
    return isinstance(answer, dict) and hmac.compare_digest(str(answer.get("proof", "")), proof(secret, nonce))


async def claim_port(host: str, port: int, data_dir: Path) -> socket.socket | None:
    """Bind the pages' port, or return None when an authmcp on this data dir already serves it.

    Raises:
        ConfigError: Another program (or an authmcp on another data dir) holds the port, or the data dir
            cannot be used.
    """
    secret = instance_secret(data_dir)
    deadline = time.monotonic() + _CLAIM_WAIT
    while True:
        sock = _socket(host, port)
        if sock is not None:
            return sock
        verdict = await _probe(host, port, secret)
        if verdict:
            return None
        if verdict is False or time.monotonic() > deadline:
            raise ConfigError(
                f"{host}:{port} is used by another program, not by an authmcp on the data dir {data_dir}; "
                f"choose another --port."
            )
        await anyio.sleep(0.2)  # the holder is starting up, or just went away


async def take_over_when_free(host: str, port: int) -> socket.socket:
    """Wait until the port's holder has gone, and return a socket listening on it."""
    while True:
        await anyio.sleep(TAKEOVER_INTERVAL)
        sock = _socket(host, port)
        if sock is not None:
            logger.info("the process that served the authorization pages has gone; serving them here now")
            return sock


def hand_over(sock: socket.socket, config_file: Path | None, data_dir: Path) -> None:
    """Start a detached `authmcp keep-pages` serving the pages on this very socket (no moment without them)."""
    args = [sys.executable, "-m", "mcp_server", "keep-pages", "--fd", str(sock.fileno())]
    if config_file is not None:
        args += ["--config", str(config_file.resolve())]
    with open(data_dir / "pages.log", "ab") as log:
        subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=[sock.fileno()], start_new_session=True
        )
