from __future__ import annotations

import email.utils

import httpx2
import pytest

from mcp_server import (
    RetryableToolError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamServerError,
    raise_for_upstream_status,
)
from mcp_server.upstream import retry_after_seconds


def response(status: int, **headers: str) -> httpx2.Response:
    return httpx2.Response(status, headers=headers, text="secret user data in the body")


def test_success_passes_through() -> None:
    ok = response(200)
    assert raise_for_upstream_status(ok) is ok


def test_401_asks_the_gate_to_refresh() -> None:
    with pytest.raises(UpstreamAuthError):
        raise_for_upstream_status(response(401))


def test_429_is_retryable_with_the_wait() -> None:
    with pytest.raises(UpstreamRateLimitError) as info:
        raise_for_upstream_status(response(429, **{"Retry-After": "30"}), what="the inbox")
    assert isinstance(info.value, RetryableToolError) and info.value.retry_after == 30
    assert "rate limiting the inbox" in str(info.value) and "Retry in 30 s" in str(info.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retryable(status: int) -> None:
    with pytest.raises(UpstreamServerError) as info:
        raise_for_upstream_status(response(status))
    assert isinstance(info.value, RetryableToolError) and info.value.status_code == status


@pytest.mark.parametrize(("status", "phrase"), [(403, "does not allow it"), (404, "was not found"), (400, "rejected")])
def test_other_4xx_name_the_thing_and_never_the_body(status: int, phrase: str) -> None:
    with pytest.raises(UpstreamError) as info:
        raise_for_upstream_status(response(status), what="repository octo/hello")
    assert phrase in str(info.value) and "octo/hello" in str(info.value)
    assert "secret" not in str(info.value) and not isinstance(info.value, RetryableToolError)


def test_retry_after_as_an_http_date() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds(email.utils.formatdate(now + 120, usegmt=True), now=now) == pytest.approx(120)
    assert retry_after_seconds("garbage") is None and retry_after_seconds(None) is None
