"""A stand-in of the GitHub REST API for the unit tests: records every request and answers from a handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from mcp_server import ToolAuthorization, ToolContext, ToolExecutionError, UpstreamError

BASE = "https://api.test"
Handler = Callable[[httpx2.Request], httpx2.Response]


class Standin:
    """Records every request and answers from a routing function."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.handler(request)


def make_context(handler: Handler, scopes: tuple[str, ...] = ("repo",)) -> tuple[ToolContext, Standin]:
    standin = Standin(handler)
    context = ToolContext(
        user_id="u1",
        authorization=ToolAuthorization(provider_id="github", token="tok-github-1", scopes=scopes),
        http=httpx2.AsyncClient(transport=httpx2.MockTransport(standin)),
        settings={"api_base_url": BASE},
    )
    return context, standin


def assert_github_request(request: httpx2.Request, method: str, path: str, query: dict[str, str] | None = None) -> None:
    assert request.method == method
    assert request.url.host == "api.test"
    assert request.url.path == path
    assert dict(request.url.params) == (query or {})
    assert request.headers["authorization"] == "Bearer tok-github-1"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx2.Response(status, json=body, headers=headers)


def never(request: httpx2.Request) -> httpx2.Response:
    raise AssertionError(f"no request expected, got {request.method} {request.url}")


async def assert_refused_before_any_request(call: Callable[[ToolContext], Any], expected: str) -> None:
    """`call` fails with a ToolExecutionError (not an upstream one) whose message holds `expected`, and sends
    nothing."""
    context, standin = make_context(never)
    with pytest.raises(ToolExecutionError) as caught:
        await call(context)
    assert expected in str(caught.value)
    assert not isinstance(caught.value, UpstreamError)
    assert standin.requests == []
