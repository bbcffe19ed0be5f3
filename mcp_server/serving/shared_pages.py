"""One set of authorization pages for every `authmcp serve` on one data dir, whichever process serves them.

Claude Desktop, an editor and the Inspector each start their own stdio process; the links they hand out must
all point at one port. The first process binds it; the others find it busy, ask whoever listens there to prove
it is an authmcp on the same data dir, and hand out links to it. While they run they watch the port, so when
its holder goes, one of them takes it over at once (or within `TAKEOVER_INTERVAL` seconds).

The proof: every data dir holds a random secret (`<data_dir>/instance`, mode 0600) that only the processes
able to read that directory know; `/.well-known/authmcp?nonce=N` answers HMAC-SHA256(secret, N and the address
the connection reached). A program that is not an authmcp, an authmcp on another data dir, or a relay in front
of an authmcp on another address cannot answer it.

Whoever holds the port may change under a process that does not hold it: when the holder dies, any program can
bind the port before the others do. So the proof is asked again on a new connection before every link is handed
out (`SharedPages.ready`), and the watcher keeps a proven connection to the holder open, whose end says that the
holder went: it then tries to take the port over, or asks the new holder for the proof. Towards a holder that
cannot prove itself, a process

- hands out no link: the tool answers with an error that names the port and says to stop whatever holds it
  (serving the pages on another port instead would not help: the provider sends the browser back to the
  registered redirect URI, on this port, with the authorization code);
- withdraws the links handed out before (their flows fail), so a flow id that reaches that program is worth
  nothing, even once an authmcp holds the port again;
- keeps trying the port, and serves the pages itself once that program is gone.

Nothing but a random nonce is ever sent to a holder that has not proved itself.

When a stdio process's client goes while flows still wait for a browser, the client may kill the process's whole
group a moment later. The listening socket is handed to `authmcp keep-pages`, started in a session of its own,
which serves those links until the flows finish or expire and then exits (logging to `<data_dir>/pages.log`).
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import logging
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import anyio.abc
import h11
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcp_server.errors import ConfigError, PagesUnavailable, StorageUnavailable
from mcp_server.vault.local_secret import local_secret

__all__ = ["IDENTITY_PATH", "SharedPages", "bind", "hand_over", "identity_route", "instance_secret"]

logger = logging.getLogger(__name__)

IDENTITY_PATH = "/.well-known/authmcp"
TAKEOVER_INTERVAL = 0.5  # seconds between tries at a port whose holder has not proved itself
RECHECK_INTERVAL = 30.0  # seconds a proven connection to the holder stands for the proof, at most (uvicorn
# closes it idle after 5 s, so the watcher asks again about then)
_CLAIM_WAIT = 20.0  # how long a peer that has bound the port may take to start answering
_PROBE_TIMEOUT = 2.0
_MAX_ANSWER = 4096  # bytes of an answer to the proof, headers and body


def instance_secret(data_dir: Path) -> bytes:
    """The data dir's secret, created on first use (atomically: concurrent first starts agree on one).

    Raises:
        ConfigError: The data dir cannot be created or read.
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return local_secret(data_dir / "instance")
    except OSError as exc:
        raise ConfigError(
            f"Cannot use the data dir {data_dir} ({exc.strerror or exc}); set data_dir to a folder you can write."
        ) from None


def proof(secret: bytes, nonce: str, address: tuple[str, int]) -> str:
    """The answer to `nonce` of a server listening on `address` (ip, port): bound to it, so a relay on another
    address, passing the question on to a real authmcp, passes on an answer that does not fit."""
    message = f"{nonce} {address[0]} {address[1]}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def identity_route(secret: bytes) -> Route:
    """`GET /.well-known/authmcp?nonce=<hex>`: proof that this server serves the caller's data dir."""

    async def identity(request: Request) -> Response:
        nonce = request.query_params.get("nonce", "")
        if not 16 <= len(nonce) <= 128 or not all(c in "0123456789abcdef" for c in nonce):
            return JSONResponse({"error": "nonce must be 16 to 128 hex digits"}, status_code=400)
        server = request.scope.get("server") or ("", 0)
        return JSONResponse({"server": "authmcp", "proof": proof(secret, nonce, (str(server[0]), int(server[1] or 0)))})

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
        raise ConfigError(
            f"Cannot listen on {host}:{port} ({exc.strerror}); choose another --host or --port."
        ) from None
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


Verdict = bool | None  # True: proven; False: something else answers; None: nothing answers (yet)


async def _prove(host: str, port: int, secret: bytes) -> tuple[Verdict, anyio.abc.SocketStream | None]:
    """Ask whoever listens on host:port for the proof, sending nothing but a fresh nonce. When proven, the
    connection it came on is returned open: its end is the end of that holder."""
    nonce = secrets.token_hex(16)
    name = host.strip("[]")
    try:
        with anyio.fail_after(_PROBE_TIMEOUT):
            stream = await anyio.connect_tcp(name, port)
    except (OSError, TimeoutError):
        return None, None
    try:
        with anyio.fail_after(_PROBE_TIMEOUT):
            address = stream.extra(anyio.abc.SocketAttribute.remote_address)
            netloc = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
            answer = await _ask(stream, netloc, f"{IDENTITY_PATH}?nonce={nonce}")
    except (TimeoutError, anyio.EndOfStream, anyio.BrokenResourceError, OSError):
        await stream.aclose()
        return None, None  # still starting up, or going away as we asked
    expected = proof(secret, nonce, (str(address[0]), int(address[1])))
    if answer is not None and hmac.compare_digest(answer, expected):
        return True, stream
    await stream.aclose()
    return False, None


async def _ask(stream: anyio.abc.SocketStream, netloc: str, target: str) -> str | None:
    """One HTTP/1.1 GET on `stream`, kept open; the `proof` of its JSON answer, or None for any other answer."""
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_ANSWER)
    await stream.send(conn.send(h11.Request(method="GET", target=target, headers=[("Host", netloc)])) or b"")
    await stream.send(conn.send(h11.EndOfMessage()) or b"")
    status, body = 0, b""
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive(_MAX_ANSWER))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_ANSWER:
                    return None
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
    except h11.ProtocolError:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("proof"), str):
        return None
    return str(answer["proof"])


class SharedPages:
    """The pages' port as a stdio process sees it: held here, or by a peer that must prove itself.

    Raises:
        ConfigError: The data dir cannot be used.
    """

    def __init__(self, host: str, port: int, data_dir: Path) -> None:
        self.host, self.port, self.data_dir = host, port, data_dir
        self.secret = instance_secret(data_dir)
        self.sock: socket.socket | None = None  # set while this process holds the port
        self.stranger = False  # at start-up the port was held by a program that is not an authmcp of this data dir

    async def claim(self) -> socket.socket | None:
        """Bind the port, or return None when an authmcp on this data dir already serves it, or when another
        program (or an authmcp on another data dir) holds it: MCP still starts, so the client keeps its tools,
        and each tool that needs a link answers what to do (`ready`) until the port is free to take over.

        Raises:
            ConfigError: The port cannot be listened on at all.
        """
        deadline = time.monotonic() + _CLAIM_WAIT
        while True:
            self.sock = _socket(self.host, self.port)
            if self.sock is not None:
                return self.sock
            verdict, stream = await _prove(self.host, self.port, self.secret)
            if stream is not None:
                await stream.aclose()
            if verdict:
                return None
            if verdict is False or time.monotonic() > deadline:
                self.stranger = True
                logger.warning(
                    "%s:%d is used by another program, not by an authmcp on the data dir %s: MCP starts, but no "
                    "tool hands out a link until that port is free (or authmcp is given another --port)",
                    self.host,
                    self.port,
                    self.data_dir,
                )
                return None
            await anyio.sleep(0.2)  # the holder is starting up, or just went away

    async def ready(self) -> None:
        """Return once the pages' port is ours or its holder proved itself just now: before a link is handed out.

        Raises:
            PagesUnavailable: The holder did not prove itself; the message says what to do.
        """
        deadline = time.monotonic() + _CLAIM_WAIT  # a holder may be starting (a keeper), or nobody may hold it yet
        while self.sock is None:
            verdict, stream = await _prove(self.host, self.port, self.secret)
            if stream is not None:
                await stream.aclose()
            if verdict:
                return
            if verdict is False or time.monotonic() > deadline:
                logger.warning(
                    "no link handed out: %s:%d is held by a program that did not prove to be authmcp",
                    self.host,
                    self.port,
                )
                raise PagesUnavailable(self._taken(answers=verdict is False))
            await anyio.sleep(0.2)  # nobody listens: the watcher takes the port over in a moment

    def _taken(self, *, answers: bool) -> str:
        what = "is not" if answers else "does not answer as"
        return (
            f"No authorization link was handed out: the pages' address {self.host}:{self.port} is held by a program "
            f"that {what} an authmcp on the data dir {self.data_dir}, and it would receive what the link carries "
            f"and what is typed on its pages. Stop that program (`lsof -nP -iTCP:{self.port} -sTCP:LISTEN` names "
            f"it): authmcp takes the port over within a second; then call the tool again. Or give authmcp another "
            f"port: `authmcp install claude-desktop --port N` (or cursor, claude-code, vscode, mcp-json), restart "
            f"the client, and register http://{self.host}:N/oauth/callback as the redirect URI at each provider."
        )

    async def take_over_when_free(self, withdraw: Callable[[], Awaitable[int]]) -> socket.socket:
        """Watch the port's holder until it goes, and return a socket listening on the port.

        `withdraw()` fails the open flows (returning how many) when the port is found held by a program that does
        not prove itself: their links lead to it."""
        unproven_since: float | None = None
        withdrawn = False
        asked = -TAKEOVER_INTERVAL
        while True:
            self.sock = _socket(self.host, self.port)
            if self.sock is not None:
                logger.info("the process that served the authorization pages has gone; serving them here now")
                return self.sock
            if (pause := asked + TAKEOVER_INTERVAL - time.monotonic()) > 0:
                await anyio.sleep(pause)  # ask at most every TAKEOVER_INTERVAL; try the port meanwhile
                continue
            asked = time.monotonic()
            verdict, stream = await _prove(self.host, self.port, self.secret)
            if stream is not None:
                if withdrawn:
                    logger.info("an authmcp on this data dir serves the pages at %s:%d again", self.host, self.port)
                unproven_since, withdrawn = None, False
                async with stream:
                    with anyio.move_on_after(RECHECK_INTERVAL):
                        try:
                            await stream.receive()  # nothing comes until the holder closes the connection: it went
                        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                            pass
                continue  # at once: take the port over before another program can
            unproven_since = asked if unproven_since is None else unproven_since
            if withdrawn or (verdict is None and asked - unproven_since <= _CLAIM_WAIT):
                continue  # said already; or the holder may still be starting up
            try:
                count = await withdraw()
            except StorageUnavailable as exc:  # tried again on the next round
                logger.warning("could not withdraw the links to %s:%d yet: %s", self.host, self.port, exc)
                continue
            withdrawn = True
            logger.warning(
                "%s:%d is held by a program that does not prove to be an authmcp on this data dir: no link to it "
                "is handed out, and %d link(s) handed out before were withdrawn. Stop that program; authmcp "
                "takes the port over once it is gone.",
                self.host,
                self.port,
                count,
            )


def hand_over(sock: socket.socket, config_file: Path | None, data_dir: Path) -> None:
    """Start a detached `authmcp keep-pages` serving the pages on this very socket (no moment without them)."""
    args = [sys.executable, "-m", "mcp_server", "keep-pages", "--fd", str(sock.fileno())]
    if config_file is not None:
        args += ["--config", str(config_file.resolve())]
    with open(data_dir / "pages.log", "ab") as log:
        subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=[sock.fileno()], start_new_session=True
        )
