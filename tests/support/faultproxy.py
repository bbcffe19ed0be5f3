"""A fault-injecting HTTP proxy for one upstream endpoint (the test provider's token endpoint), in a thread.

    proxy = FaultProxy(upstream="http://127.0.0.1:5000/token")
    proxy.fault = "trickle"   # what the next requests meet
    ... proxy.url ...         # configure it as the provider's token_url
    proxy.close()

Faults: `pass` (forward as is); answered without forwarding: `500`, `html` (a gateway's error page with 200),
`malformed` (JSON cut in the middle), `empty` (200, no body), `huge` (a JSON body of `huge_bytes`, streamed),
`slow` (nothing for `delay` seconds, then forwarded only if the client still waits; a client that gave up
never reaches the provider); forwarded, then: `truncated` (half of the body, then the connection closes),
`trickle` (the answer one byte at a time, spread over `delay` seconds), `expires_in` (the provider's
`expires_in` replaced by `expires_in`, which may be any JSON value or left out with `...`).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import httpx2

__all__ = ["FaultProxy"]


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fault = "pass"
        self.delay = 1.0
        self.expires_in: Any = 3600
        self.huge_bytes = 300 * 1024 * 1024
        self.requests = 0  # requests that reached the proxy
        self.forwarded = 0  # requests that reached the provider
        self.bytes_sent = 0  # body bytes written to clients for `huge`
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/token"

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    # ---------------------------------------------------------------- serving

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                headers, body = _read_request(conn)
            except (OSError, ValueError):
                return
            self.requests += 1
            try:
                self._answer(conn, headers, body)
            except OSError:
                pass  # the client gave up (its deadline) or the cap closed the connection

    def _answer(self, conn: socket.socket, headers: dict[str, str], body: bytes) -> None:
        fault = self.fault
        if fault == "500":
            return _send(conn, 500, b"<html>Internal Server Error</html>", "text/html")
        if fault == "html":
            return _send(conn, 200, b"<html><body>Service temporarily unavailable</body></html>", "text/html")
        if fault == "malformed":
            return _send(conn, 200, b'{"access_token": "abc", "token_ty', "application/json")
        if fault == "empty":
            return _send(conn, 200, b"", "application/json")
        if fault == "huge":
            return self._huge(conn)
        if fault == "slow":
            time.sleep(self.delay)
            conn.setblocking(False)
            try:
                if conn.recv(1) == b"":  # the client closed: do not reach the provider for it
                    return None
            except BlockingIOError:
                pass
            finally:
                conn.setblocking(True)
        status, content_type, answer = self._forward(headers, body)
        if fault == "truncated":
            head = _head(status, len(answer), content_type)
            conn.sendall(head + answer[: len(answer) // 2])
            return None
        if fault == "trickle":
            conn.sendall(_head(status, len(answer), content_type))
            pause = self.delay / max(1, len(answer))
            for byte in answer:
                conn.sendall(bytes([byte]))
                time.sleep(pause)
            return None
        if fault == "expires_in" and status == 200:
            token = json.loads(answer)
            token.pop("expires_in", None)
            if self.expires_in is not ...:
                token["expires_in"] = self.expires_in
            answer = json.dumps(token).encode()
        return _send(conn, status, answer, content_type)

    def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        keep = {k: v for k, v in headers.items() if k in ("authorization", "content-type", "accept")}
        self.forwarded += 1
        response = httpx2.post(self.upstream, content=body, headers=keep, timeout=10, trust_env=False)
        return response.status_code, response.headers.get("content-type", "application/json"), response.content

    def _huge(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        chunk = b'{"access_token": "' + b"x" * 65536
        self.bytes_sent = 0
        while self.bytes_sent < self.huge_bytes:
            conn.sendall(chunk)
            self.bytes_sent += len(chunk)
            chunk = b"x" * 65536


def _read_request(conn: socket.socket) -> tuple[dict[str, str], bytes]:
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("closed")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("closed")
        body += chunk
    conn.settimeout(None)
    return headers, body


def _head(status: int, length: int, content_type: str) -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def _send(conn: socket.socket, status: int, body: bytes, content_type: str) -> None:
    conn.sendall(_head(status, len(body), content_type) + body)
