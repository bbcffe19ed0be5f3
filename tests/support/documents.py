"""An HTTP server on 127.0.0.1 serving Client ID Metadata Documents, and the ones a front door must refuse.

- `/client.json`: a good document (its `client_id` is its own URL), `Cache-Control: max-age=600`; each GET counted
- `/redirect.json`: 302 to http://169.254.169.254/latest/meta-data/ (the cloud metadata address)
- `/large.json`: a document of 200 KB
- `/trickle.json`: a document sent one byte every half second (it would take a minute), until the client leaves

Over https with `tls` (a server context, tests/support/tls.py); `host` is the name its URLs use (it listens on
127.0.0.1 whatever the name). The `Host` header of every request is kept in `hosts`.
"""

from __future__ import annotations

import json
import ssl
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.support.receiver import serve_in_thread, stop_server

__all__ = ["DocumentServer"]


class DocumentServer:
    def __init__(self, redirect_uri: str, *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.redirect_uri = redirect_uri
        self.tls, self.host = tls, host
        self.gets: dict[str, int] = {}
        self.hosts: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"{'https' if self.tls else 'http'}://{self.host}:{self._server.server_address[1]}"

    def document(self, path: str, **extra: Any) -> bytes:
        return json.dumps(
            {
                "client_id": f"{self.url}{path}",
                "client_name": "Document client",
                "redirect_uris": [self.redirect_uri],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                **extra,
            }
        ).encode()

    def start(self) -> DocumentServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.gets[self.path] = server.gets.get(self.path, 0) + 1
                server.hosts.append(self.headers.get("Host", ""))
                if self.path == "/redirect.json":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/large.json":
                    body = server.document(self.path, padding="x" * 200_000)
                elif self.path in ("/client.json", "/trickle.json"):
                    body = server.document(self.path)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=600")
                self.end_headers()
                if self.path != "/trickle.json":
                    self.wfile.write(body)
                    return
                try:
                    for byte in body[:120]:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.5)  # the point of this document: it is slow
                except (BrokenPipeError, ConnectionResetError):
                    return

        self._server = serve_in_thread(Handler, tls=self.tls)
        return self

    def stop(self) -> None:
        stop_server(self._server)
        self._server = None

    def __enter__(self) -> DocumentServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
