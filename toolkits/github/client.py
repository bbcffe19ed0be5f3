"""HTTP helpers for the GitHub REST API: authorized requests, `Link` pagination, error mapping and time shaping.

Reference: https://docs.github.com/en/rest (API version 2022-11-28). Pagination:
https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api (follow `Link: <...>; rel="next"`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mcp_server import (
    ToolContext,
    ToolExecutionError,
    UpstreamError,
    UpstreamRateLimitError,
    raise_for_upstream_status,
)

__all__ = [
    "DEFAULT_API_BASE_URL",
    "MAX_PER_PAGE",
    "get_any",
    "get_json",
    "get_paginated",
    "iso",
    "login",
    "not_found_hint",
    "send",
    "send_json",
]

DEFAULT_API_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
# GitHub's list endpoints accept per_page up to 100.
MAX_PER_PAGE = 100


def _base_url(context: ToolContext) -> str:
    return (context.get_setting("api_base_url", DEFAULT_API_BASE_URL) or DEFAULT_API_BASE_URL).rstrip("/")


def _headers(context: ToolContext) -> dict[str, str]:
    return {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "Authorization": f"Bearer {context.get_auth_token_or_empty()}",
    }


def _http(context: ToolContext) -> Any:
    if context.http is None:
        raise ToolExecutionError("No HTTP client is available to reach GitHub.")
    return context.http


# --- errors ------------------------------------------------------------------------------------------------


def not_found_hint(context: ToolContext, thing: str) -> str:
    """`thing`, plus a hint when the connection cannot see private repositories (GitHub answers 404 for them)."""
    scopes = context.authorization.scopes if context.authorization is not None else ()
    if "repo" in scopes:
        return thing
    return (
        f"{thing} (if it is private, the GitHub connection needs the 'repo' scope, "
        f"e.g. by using GitHub_ListRepositories first)"
    )


# --- requests ----------------------------------------------------------------------------------------------


def _raise_for_status(response: Any, *, what: str, refusals: Mapping[int, str] | None = None) -> None:
    """raise_for_upstream_status, after recognising GitHub's rate-limit answers that it cannot tell apart.

    `refusals` gives the message for a 4xx status the operation documents with a meaning of its own (a merge
    answered 405 "not mergeable", a file write answered 409 "conflict").

    GitHub answers an exceeded rate limit with 403 *or* 429: `x-ratelimit-remaining: 0` and the reset time in
    `x-ratelimit-reset` (UTC epoch seconds) for the primary limit, `retry-after` (seconds) for a secondary one
    (https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#rate-limit-errors).
    raise_for_upstream_status would call such a 403 a refusal of access, and a 429 without `Retry-After` a
    wait of unknown length.
    """
    status = response.status_code
    if status in (403, 429):
        headers = response.headers
        retry_after = headers.get("retry-after", "").strip()
        wait: float | None = float(retry_after) if retry_after.isdigit() else None
        exhausted = headers.get("x-ratelimit-remaining", "").strip() == "0"
        reset = headers.get("x-ratelimit-reset", "").strip()
        if wait is None and exhausted and reset.isdigit():
            wait = max(0.0, float(reset) - time.time())
        if (status == 403 and (wait is not None or exhausted)) or (status == 429 and wait is not None):
            when = f" Retry in {wait:.0f} s." if wait is not None else " Retry in a little while."
            raise UpstreamRateLimitError(
                f"GitHub is rate limiting {what} (HTTP {status}).{when}", retry_after=wait, status_code=status
            )
    if refusals and status in refusals:
        raise UpstreamError(refusals[status], status_code=status)
    raise_for_upstream_status(response, what=what)


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ToolExecutionError(f"GitHub answered {what} with an unexpected response.")
    return body


async def get_any(context: ToolContext, path: str, params: Mapping[str, Any] | None = None, *, what: str) -> Any:
    """GET `path` (relative to the API base URL) and return its JSON, whatever its type; errors mapped."""
    url = f"{_base_url(context)}{path}"
    response = await _http(context).get(url, params=dict(params or {}), headers=_headers(context))
    _raise_for_status(response, what=what)
    return response.json()


async def get_json(
    context: ToolContext, path: str, params: Mapping[str, Any] | None = None, *, what: str
) -> dict[str, Any]:
    """GET `path` and return its JSON object; errors via _raise_for_status."""
    return _object(await get_any(context, path, params, what=what), what)


async def send(
    context: ToolContext,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    *,
    what: str,
    refusals: Mapping[int, str] | None = None,
) -> Any:
    """Send `method` to `path` with an optional JSON body; return the response after the error mapping."""
    response = await _http(context).request(
        method, f"{_base_url(context)}{path}", json=dict(body) if body is not None else None,
        headers=_headers(context),
    )
    _raise_for_status(response, what=what, refusals=refusals)
    return response


async def send_json(
    context: ToolContext,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    *,
    what: str,
    refusals: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """POST, PATCH or PUT a JSON body to `path` and return the JSON object answered; errors via _raise_for_status."""
    response = await send(context, method, path, body, what=what, refusals=refusals)
    return _object(response.json(), what)


async def get_paginated(
    context: ToolContext,
    path: str,
    params: Mapping[str, Any] | None,
    *,
    what: str,
    limit: int,
    keep: Any = None,
) -> tuple[list[dict[str, Any]], bool]:
    """GET a list endpoint and follow `Link: <...>; rel="next"` until `limit` kept items or the last page.

    `keep(item)` filters items (e.g. issues without pull requests). Only next links on the configured API base
    URL are followed, so the user's token is never sent elsewhere. Returns (items, more_available).
    """
    client = _http(context)
    base = _base_url(context)
    url: str | None = f"{base}{path}"
    query: dict[str, Any] | None = {**dict(params or {}), "per_page": min(MAX_PER_PAGE, max(limit, 1))}
    items: list[dict[str, Any]] = []
    # Bounded: never more pages than needed for `limit` items at 100 a page, plus a few for filtered-out items.
    for _ in range(limit // MAX_PER_PAGE + 4):
        assert url is not None
        response = await client.get(url, params=query, headers=_headers(context))
        _raise_for_status(response, what=what)
        page = response.json()
        if not isinstance(page, list):
            raise ToolExecutionError(f"GitHub answered {what} with an unexpected response.")
        for item in page:
            if keep is not None and not keep(item):
                continue
            if len(items) == limit:
                return items, True
            items.append(item)
        next_url = response.links.get("next", {}).get("url")
        if not next_url:
            return items, False
        if not next_url.startswith(base + "/"):
            return items, True  # more exists, but not on the API the token belongs to: not followed
        if len(items) == limit:
            return items, True
        url, query = next_url, None  # the next link carries every query parameter
    return items, True


# --- shaping -----------------------------------------------------------------------------------------------


def iso(value: Any) -> str | None:
    """GitHub's `2011-01-26T19:01:12Z` as ISO 8601 with an explicit offset; None stays None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return value


def login(user: Any) -> str | None:
    return user.get("login") if isinstance(user, dict) else None
