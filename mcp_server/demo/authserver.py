"""The Demo provider: a strict OAuth 2.0 authorization server kept in memory, for `authmcp demo` and the tests.

    python -m mcp_server.demo.authserver --port 0 --client ID:SECRET:REDIRECT_URI [--client ...]

It prints one line, `READY http://127.0.0.1:<port>`, once its socket is listening, and then serves:

- authorization code grant (RFC 6749 §4.1) with PKCE S256 required of every client (RFC 7636),
  exact redirect URI matching, codes that live 60 s and whose reuse revokes what they produced;
- `iss` in every authorization response (RFC 9207), which tests can have left out or wrong (/_admin/behavior);
- refresh tokens that rotate (a rotated one presented again revokes the whole grant), or with
  --no-refresh-rotation stay valid and are not reissued;
- revocation (RFC 7009), userinfo, metadata (RFC 8414 and OpenID discovery), and a JWKS whose
  RS256 key also signs test JWTs minted through /_admin/mint_jwt;
- /_admin/ endpoints with which tests count requests, revoke or expire tokens, and make the
  token and revocation endpoints misbehave.

Token values are never printed or logged. It runs on Starlette and uvicorn; the protocol is authlib's
(authserver_oauth.py), the pages and endpoints are in authserver_app.py.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading

import uvicorn

from mcp_server.demo.authserver_app import RequestLog, create_app
from mcp_server.demo.authserver_oauth import Client, Settings


def _parse_client(value: str) -> tuple[str, str, str]:
    parts = value.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError("expected ID:SECRET:REDIRECT_URI")
    return parts[0], parts[1], parts[2]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _exit_on_stdin_eof() -> None:
    # os.read, not sys.stdin: a daemon thread inside a buffered read makes the interpreter abort at exit.
    while os.read(sys.stdin.fileno(), 4096):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument(
        "--client",
        type=_parse_client,
        action="append",
        required=True,
        metavar="ID:SECRET:REDIRECT_URI",
        help="register a client; repeat with the same ID and SECRET to register more redirect URIs",
    )
    parser.add_argument("--access-ttl", type=int, default=3600, help="access token lifetime in seconds (>= 1)")
    parser.add_argument("--no-refresh-rotation", action="store_true")
    parser.add_argument("--issuer", help="issuer identifier (default: this server's URL)")
    parser.add_argument("--scopes", help="space-separated scopes to accept (default: any)")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="exit when stdin closes (for a parent process)"
    )
    args = parser.parse_args(argv)
    if args.access_ttl < 1:
        parser.error("--access-ttl must be at least 1")  # authlib leaves out expires_in when it is 0

    clients: dict[str, Client] = {}
    for client_id, secret, redirect_uri in args.client:
        client = clients.setdefault(client_id, Client(client_id, secret, []))
        if client.client_secret != secret:
            parser.error(f"client {client_id} is given two different secrets")
        client.redirect_uris.append(redirect_uri)

    if not _is_loopback(args.host):
        # authlib refuses plain-http requests except on loopback; this server only speaks plain http.
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    # Bound first, so that the URLs the app announces carry the real port even when --port is 0.
    listener = socket.create_server(
        (args.host, args.port), family=socket.AF_INET6 if ":" in args.host else socket.AF_INET, backlog=128
    )
    port = listener.getsockname()[1]
    host_in_url = f"[{args.host}]" if ":" in args.host else args.host
    base_url = f"http://{host_in_url}:{port}"
    settings = Settings(
        base_url=base_url,
        issuer=args.issuer or base_url,
        access_ttl=args.access_ttl,
        rotate_refresh=not args.no_refresh_rotation,
        scopes=tuple(args.scopes.split()) if args.scopes is not None else None,
    )
    app, _ = create_app(clients, settings)
    config = uvicorn.Config(
        RequestLog(app), log_level="warning", access_log=False, timeout_graceful_shutdown=1, lifespan="off"
    )
    server = uvicorn.Server(config)
    # uvicorn handles SIGTERM itself, then raises it again with this handler back in place: exit status 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.exit_on_stdin_eof:
        threading.Thread(target=_exit_on_stdin_eof, daemon=True).start()
    # this is the provider's own process (never authmcp's stdio server): its parent reads this line to learn the URL
    print(f"READY {base_url}", flush=True)
    server.run(sockets=[listener])


if __name__ == "__main__":
    main()
