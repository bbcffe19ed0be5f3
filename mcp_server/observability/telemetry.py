"""OpenTelemetry traces, on only when the standard `OTEL_*` environment configures an OTLP exporter.

Off (the default) nothing of the OpenTelemetry SDK or exporter is imported, `span()` hands back one shared
no-op context manager and `traced` functions call straight through: one global check per call.

On, spans nest under the caller's trace: `TraceHTTP` continues a W3C `traceparent` header, and the MCP SDK
continues one sent in a request's `_meta` (its own `tools/call` span parents ours). Span attributes are names
and outcomes only: a tool's name, a provider id, an error class. Never a token, secret, code, state, argument
value or flow id; exceptions are recorded by class, not message, and routes by template, not path.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar, cast

from mcp_server.errors import ConfigError

__all__ = ["TraceHTTP", "configured", "enabled", "setup", "shutdown", "span", "trace_id", "traced"]

_tracer: Any = None  # an opentelemetry Tracer once `setup` installed one
_provider: Any = None
_current_span: Callable[[], Any] | None = None
_NOOP = nullcontext()

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for OTLP trace export (an endpoint is set, the SDK is not disabled)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = [e.strip() for e in environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(",")]
    if "otlp" not in exporters:
        return False
    return bool(environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def enabled() -> bool:
    return _tracer is not None


def setup(environ: Mapping[str, str] = os.environ) -> bool:
    """Install a tracer provider exporting OTLP over HTTP if the environment configures one. Returns whether
    traces are on. The exporter, sampler, resource and batching read their own standard `OTEL_*` variables.

    Raises:
        ConfigError: Configured, but for another protocol or without the SDK installed.
    """
    global _tracer, _provider, _current_span
    if _tracer is not None or not configured(environ):
        return _tracer is not None
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol not in (None, "", "http/protobuf"):
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol} is not supported: authmcp exports OTLP over HTTP; "
            f"set it to http/protobuf (or unset it) and point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's "
            f"HTTP port (usually 4318)."
        )
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ConfigError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is not installed: "
            "pip install 'authmcp[otel]', or unset the OTEL_* variables."
        ) from None
    named = environ.get("OTEL_SERVICE_NAME") or "service.name=" in environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    resource = Resource.create({} if named else {"service.name": "authmcp"})  # the variables win when set
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    _tracer = provider.get_tracer("authmcp")
    _current_span = trace.get_current_span
    return True


def shutdown() -> None:
    """Export the spans still buffered (at exit)."""
    if _provider is not None:
        _provider.shutdown()


def span(name: str, **attributes: str | int | float | bool | None) -> AbstractContextManager[Any]:
    """A child span of the current one, or a shared no-op when traces are off. Attributes: names, never values."""
    if _tracer is None:
        return _NOOP
    return cast(
        "AbstractContextManager[Any]",
        _tracer.start_as_current_span(
            name,
            attributes={k: v for k, v in attributes.items() if v is not None},
            record_exception=False,  # an exception's message may quote what it was given
            set_status_on_exception=False,
        ),
    )


def trace_id() -> str | None:
    """The current trace's id (32 hex digits), for the audit trail; None outside a span or when off."""
    if _current_span is None:
        return None
    context = _current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


# Which argument of a traced function names what, and how to read the name off it.
_NAMED_BY: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "provider_id": ("authmcp.provider", lambda v: v),
    "provider": ("authmcp.provider", lambda v: getattr(v, "id", None)),
    "requirement": ("authmcp.provider", lambda v: getattr(v, "id", None)),
    "definition": ("authmcp.tool", lambda v: getattr(v, "api_name", None)),
    "params": ("authmcp.tool", lambda v: getattr(v, "name", None)),
}


def traced(name: str) -> Callable[[F], F]:
    """Run an async function in a span named `name`, with the provider or tool it acts on as attributes."""

    def decorate(fn: F) -> F:
        parameters = list(inspect.signature(fn).parameters)
        named = [(parameters.index(p), p, *_NAMED_BY[p]) for p in parameters if p in _NAMED_BY]

        async def in_span(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            attributes: dict[str, Any] = {}
            for index, parameter, attribute, read in named:
                value = args[index] if index < len(args) else kwargs.get(parameter)
                if value is not None and isinstance(read(value), str):
                    attributes[attribute] = read(value)
            with span(name, **attributes) as current:
                try:
                    return await fn(*args, **kwargs)
                except BaseException as exc:
                    _failed(current, exc)
                    raise

        # not itself a coroutine function: off, it hands back fn's own coroutine, adding no frame to the call
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Awaitable[Any]:
            if _tracer is None:
                return fn(*args, **kwargs)
            return in_span(args, kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _failed(current: Any, exc: BaseException) -> None:
    from opentelemetry.trace import StatusCode

    current.set_attribute("error.type", type(exc).__name__)
    current.set_status(StatusCode.ERROR)


# Paths that carry an id (a flow's, a connection's) are named by their template; unknown paths are not named.
_ROUTE_PREFIXES = (
    ("/connect/", "/connect/{flow_id}"),
    ("/approve/", "/approve/{flow_id}"),
    ("/v1/admin/user_connections/", "/v1/admin/user_connections/{id}"),
    ("/messages/", "/messages/"),
)
_ROUTES = frozenset(
    {
        "/mcp",
        "/sse",
        "/healthz",
        "/oauth/callback",
        "/metrics",
        "/v1/health",
        "/v1/tools",
        "/v1/tools/authorize",
        "/v1/tools/execute",
        "/v1/auth/authorize",
        "/v1/auth/status",
        "/v1/auth/confirm_user",
        "/v1/admin/user_connections",
        "/v1/admin/audit",
    }
)


def route_of(path: str) -> str:
    if path in _ROUTES:
        return path
    for prefix, template in _ROUTE_PREFIXES:
        if path.startswith(prefix):
            return template + ("/done" if template.endswith("}") and path.endswith("/done") else "")
    if path.startswith("/v1/tools/"):
        return "/v1/tools/{name}"
    return "other"


class TraceHTTP:
    """ASGI middleware: one SERVER span per HTTP request, continuing the caller's `traceparent` header.

    The MCP SDK carries the request's context to the task that handles the message, so a tool call's spans
    nest under this one (unless the request's `_meta` names another parent, which then wins).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or _tracer is None:
            await self.app(scope, receive, send)
            return
        from opentelemetry import propagate
        from opentelemetry.trace import SpanKind

        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope.get("headers", ())
            if key in (b"traceparent", b"tracestate")
        }
        route = route_of(scope.get("path", ""))
        method = scope.get("method", "GET")
        with _tracer.start_as_current_span(
            f"{method} {route}",
            context=propagate.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": route},
            record_exception=False,
            set_status_on_exception=False,
        ) as current:

            async def send_status(message: Any) -> None:
                if message["type"] == "http.response.start":
                    current.set_attribute("http.response.status_code", message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_status)
            except BaseException as exc:
                _failed(current, exc)
                raise
