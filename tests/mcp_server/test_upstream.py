from __future__ import annotations

import email.utils

import httpx2
import pytest

from mcp_server import (
    RetryableToolError,
    ToolAuthorization,
    ToolContext,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamServerError,
    raise_for_upstream_status,
)
from mcp_server.toolkit.upstream import retry_after_seconds


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


# The ok-flag convention (catalogue `error_style = "ok_flag"`, Slack's Web API): HTTP 200 answers whose body says
# `"ok": false`, https://docs.slack.dev/apis/web-api/#responses.


def ok_flag_context(style: str = "ok_flag") -> ToolContext:
    return ToolContext(user_id="u", authorization=ToolAuthorization(provider_id="slack", token="t", error_style=style))


@pytest.mark.parametrize(
    ("body", "error", "status"),
    [
        pytest.param({"ok": False, "error": "invalid_auth"}, UpstreamAuthError, 401, id="auth"),
        pytest.param({"ok": False, "error": "ratelimited"}, UpstreamRateLimitError, 429, id="ratelimited"),
        pytest.param({"ok": False, "error": "channel_not_found"}, UpstreamError, 404, id="not-found"),
        pytest.param({"ok": False, "error": "missing_scope", "needed": "chat:write"}, UpstreamError, 403, id="scope"),
        pytest.param({"ok": False, "error": "internal_error"}, UpstreamServerError, 502, id="transient"),
        pytest.param({"ok": False, "error": "not_in_channel"}, UpstreamError, 400, id="other"),
        pytest.param({"ok": False, "error": "<b>free text</b>"}, UpstreamError, 400, id="not-a-code"),
        pytest.param(["not", "an", "object"], UpstreamError, 502, id="not-an-object"),
    ],
)
def test_ok_false_raises_like_the_status_it_stands_for(body: object, error: type[Exception], status: int) -> None:
    answer = httpx2.Response(200, json=body, headers={"Retry-After": "7"})
    with pytest.raises(error) as info:
        raise_for_upstream_status(answer, what="the channel C1", context=ok_flag_context())
    assert type(info.value) is error
    assert getattr(info.value, "status_code", None) == status
    assert "free text" not in str(info.value)
    if error is UpstreamRateLimitError:
        assert info.value.retry_after == 7  # type: ignore[attr-defined]


def test_ok_false_names_the_code_and_the_missing_scope() -> None:
    with pytest.raises(UpstreamError, match="lacks the scope chat:write"):
        raise_for_upstream_status(
            httpx2.Response(200, json={"ok": False, "error": "missing_scope", "needed": "chat:write"}),
            context=ok_flag_context(),
        )
    with pytest.raises(UpstreamError, match=r"the channel C1 was not found \(channel_not_found\)"):
        raise_for_upstream_status(
            httpx2.Response(200, json={"ok": False, "error": "channel_not_found"}),
            what="the channel C1",
            context=ok_flag_context(),
        )


def test_ok_true_passes_and_http_style_providers_ignore_the_body() -> None:
    good = httpx2.Response(200, json={"ok": True})
    assert raise_for_upstream_status(good, context=ok_flag_context()) is good
    odd = httpx2.Response(200, json={"ok": False, "error": "invalid_auth"})
    assert raise_for_upstream_status(odd, context=ok_flag_context("http")) is odd
    assert raise_for_upstream_status(odd) is odd  # without the context, only the status counts
