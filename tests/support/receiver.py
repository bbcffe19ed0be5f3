"""An HTTP endpoint on 127.0.0.1 that records what is POSTed to it: stands in for an OTLP/HTTP collector and for
a webhook receiver. It can be started late (on a port chosen beforehand) to play a receiver that was down, and set
`failing` to an HTTP status to play one that is up but refuses everything (what it refuses is counted in `refused`,
not recorded)."""

from __future__ import annotations

import gzip
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Received", "Receiver", "otlp_spans", "serve_in_thread", "stop_server"]


def serve_in_thread(
    handler: type[BaseHTTPRequestHandler], port: int = 0, *, tls: ssl.SSLContext | None = None
) -> ThreadingHTTPServer:
    """`handler` served on 127.0.0.1:`port` (0: a free one) by a daemon thread, until `stop_server`; over TLS with
    `tls` (a server-side context)."""
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_server(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.received: list[Received] = []
        self.failing: int | None = None  # answer every POST with this status, taking nothing
        self.refused = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                with receiver._lock:
                    status = receiver.failing or 200
                    if receiver.failing:
                        receiver.refused += 1
                    else:
                        headers = {k.lower(): v for k, v in self.headers.items()}
                        receiver.received.append(Received(self.path, headers, body))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = serve_in_thread(Handler, self.port)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        stop_server(self._server)
        self._server = None

    def bodies(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]


def otlp_spans(receiver: Receiver) -> list[dict[str, Any]]:
    """Every span the receiver got as OTLP/HTTP protobuf (`/v1/traces`), decoded with opentelemetry-proto."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    spans = []
    for received in receiver.bodies("/v1/traces"):
        request = ExportTraceServiceRequest()
        request.ParseFromString(received.body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}.get("service.name")
            for scope in resource.scope_spans:
                for span in scope.spans:
                    spans.append(
                        {
                            "service": service,
                            "name": span.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_id": span.parent_span_id.hex() or None,
                            "attributes": {a.key: _value(a.value) for a in span.attributes},
                        }
                    )
    return spans


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None
