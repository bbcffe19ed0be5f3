"""Translating a provider API's error answers into authmcp's errors, once, for every toolkit."""

from __future__ import annotations

import email.utils
import time
from typing import TYPE_CHECKING, NoReturn

from mcp_server._http import httpx2
from mcp_server.errors import UpstreamAuthError, UpstreamError, UpstreamRateLimitError, UpstreamServerError
from mcp_server.toolkit.answers import AnswerError, answer_error

if TYPE_CHECKING:
    from mcp_server.toolkit.tool import ToolContext

__all__ = ["raise_for_upstream_status", "retry_after_seconds"]


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def raise_for_upstream_status(
    response: httpx2.Response, *, what: str = "the request", context: ToolContext | None = None
) -> httpx2.Response:
    """Raise the matching authmcp error for an error status; return the response otherwise.

    `what` names the thing asked for ("the message 18c2f", "repository octo/hello"), for messages such as
    "... was not found". The response body is never put in a message: it may hold the user's data.

    Given the tool's `context`, the provider's own error convention applies as well (the catalogue's
    `error_style`): for Slack, an HTTP 200 answer with `"ok": false` raises like the status its error code
    stands for (an auth code as 401, `ratelimited` as 429, `*_not_found` as 404, `missing_scope` as 403 naming
    the scope, Slack's internal errors as 5xx, any other code as 400), the code named in the message.

    Raises:
        UpstreamAuthError: 401; the gate refreshes the token once and retries the tool.
        UpstreamRateLimitError: 429, with `retry_after` from the `Retry-After` header.
        UpstreamServerError: 5xx; the call may succeed later.
        UpstreamError: any other 4xx.
    """
    status = response.status_code
    if status < 400:
        authorization = context.authorization if context is not None else None
        failure = answer_error(authorization.error_style, response) if authorization is not None else None
        if failure is not None:
            _raise_answer_error(failure, response, what)
        return response
    if status == 401:
        raise UpstreamAuthError()
    if status == 429:
        wait = retry_after_seconds(response.headers.get("retry-after"))
        when = f" Retry in {wait:.0f} s." if wait is not None else " Retry in a little while."
        raise UpstreamRateLimitError(f"The provider is rate limiting {what}.{when}", retry_after=wait)
    if status >= 500:
        wait = retry_after_seconds(response.headers.get("retry-after"))
        raise UpstreamServerError(
            f"The provider had a server error (HTTP {status}) for {what}; try again later.",
            status_code=status,
            retry_after=wait,
        )
    if status == 403:
        raise UpstreamError(
            f"The provider refused access to {what} (HTTP 403): the user's authorization does not allow it.",
            status_code=status,
        )
    if status == 404:
        raise UpstreamError(f"The provider says {what} was not found (HTTP 404).", status_code=status)
    raise UpstreamError(f"The provider rejected {what} (HTTP {status}).", status_code=status)


def _raise_answer_error(failure: AnswerError, response: httpx2.Response, what: str) -> NoReturn:
    code = failure.code
    match failure.kind:
        case "auth":
            raise UpstreamAuthError()
        case "rate_limited":
            wait = retry_after_seconds(response.headers.get("retry-after"))
            when = f" Retry in {wait:.0f} s." if wait is not None else " Retry in a little while."
            raise UpstreamRateLimitError(f"The provider is rate limiting {what}.{when}", retry_after=wait)
        case "not_found":
            raise UpstreamError(f"The provider says {what} was not found ({code}).", status_code=404)
        case "missing_scope":
            needed = failure.needed or "unknown"
            raise UpstreamError(
                f"The provider refused {what}: the user's authorization lacks the scope {needed} (missing_scope). "
                f"Authorize again granting {needed}.",
                status_code=403,
            )
        case "transient":
            raise UpstreamServerError(f"The provider failed on {what} ({code}); try again later.", status_code=502)
    if code == "invalid_response":
        raise UpstreamError(f"The provider answered {what} with an unexpected response.", status_code=502)
    raise UpstreamError(f"The provider refused {what} with the error code {code!r}.", status_code=400)
