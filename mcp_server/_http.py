"""The one place authmcp imports its HTTP client library (httpx2, the client the MCP SDK and authlib use), and
the two limits every request to a provider keeps: a total deadline and a cap on the answer's size.

httpx's own timeouts apply to each connect, write and read: a server trickling one byte per second keeps such a
request open for ever. `deadline` bounds the whole request instead; `capped_transport` stops reading an answer
as soon as it passes `MAX_RESPONSE_BYTES`, before the rest is buffered.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx2

__all__ = ["MAX_RESPONSE_BYTES", "ResponseTooLarge", "capped_transport", "deadline", "httpx2", "provider_client"]

MAX_RESPONSE_BYTES = 1 << 20  # no token, userinfo, discovery or JWKS answer comes near 1 MiB


class ResponseTooLarge(httpx2.TransportError):
    """The answer passed the size cap; the rest of it was not read."""


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, limit: int, request: httpx2.Request) -> None:
        self._stream = stream
        self._limit = limit
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        async for chunk in self._stream:
            received += len(chunk)
            if received > self._limit:
                raise ResponseTooLarge(f"the answer is larger than {self._limit} bytes", request=self._request)
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Made once per process: loading the CA bundle costs tens of milliseconds of CPU, which every new client
    # (a refresh, a discovery) used to pay again. httpx's own default, `SSL_CERT_FILE` and the like included.
    return httpx2.create_ssl_context()


class _CappedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, limit: int) -> None:
        self._inner = httpx2.AsyncHTTPTransport(verify=_tls_context())
        self._limit = limit

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self._limit:
            await response.aclose()
            raise ResponseTooLarge(f"the answer is larger than {self._limit} bytes", request=request)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, self._limit, request),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def capped_transport(limit: int = MAX_RESPONSE_BYTES) -> httpx2.AsyncBaseTransport:
    """A transport that refuses answers larger than `limit` bytes, while they stream in."""
    return _CappedTransport(limit)


def provider_client(timeout: float, **options: object) -> httpx2.AsyncClient:
    """An HTTP client for talking to a provider: per-step timeouts and the size cap (use with `deadline`)."""
    return httpx2.AsyncClient(timeout=timeout, transport=capped_transport(), **options)  # type: ignore[arg-type]


@asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """Bound everything inside (connect, send, every read) to `seconds` in all; past it, httpx2.TimeoutException."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise httpx2.TimeoutException(f"no complete answer within {seconds:g} s") from None
