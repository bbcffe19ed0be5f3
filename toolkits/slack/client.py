"""The few HTTP helpers the Slack tools share: one Web API call, cursor pagination, and Slack timestamps.

Slack answers most failures with HTTP 200 and `{"ok": false, "error": "<code>"}`
(https://docs.slack.dev/apis/web-api/#responses). The catalogue says so for the Slack provider
(`error_style = "ok_flag"`), and `raise_for_upstream_status(..., context=)` turns such answers, like HTTP-level
errors (429 with `Retry-After`, 5xx), into authmcp's errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mcp_server import ToolContext, ToolExecutionError, UpstreamError, raise_for_upstream_status

API_BASE_URL = "https://slack.com/api"

#: Upper bound on pages followed for one listing (each page up to PAGE_SIZE items).
MAX_PAGES = 10
PAGE_SIZE = 200


def _base_url(context: ToolContext) -> str:
    return (context.get_setting("api_base_url", API_BASE_URL) or API_BASE_URL).rstrip("/")


async def call(
    context: ToolContext,
    method: str,
    *,
    what: str,
    params: Mapping[str, Any] | None = None,
    json: Mapping[str, Any] | None = None,
    post: bool = False,
) -> dict[str, Any]:
    """Call one Web API method: GET with `params` as the query, or POST (a JSON body when `json` is given).

    Returns the answer's JSON object once `ok` is true; raises the matching authmcp error otherwise.
    """
    if context.http is None:
        raise ToolExecutionError("This tool needs an HTTP client, but none was given in its context.")
    url = f"{_base_url(context)}/{method}"
    headers = {"Authorization": f"Bearer {context.get_auth_token_or_empty()}"}
    query = {k: v for k, v in (params or {}).items() if v is not None}
    if json is not None or post:
        response = await context.http.post(url, headers=headers, params=query or None, json=dict(json or {}))
    else:
        response = await context.http.get(url, headers=headers, params=query or None)
    raise_for_upstream_status(response, what=what, context=context)
    try:  # with Slack's error style the answer is already known to be an object with "ok": true
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise UpstreamError(f"Slack answered {what} with an unexpected shape.", status_code=502)
    return body


async def paginate(
    context: ToolContext,
    method: str,
    key: str,
    *,
    what: str,
    params: Mapping[str, Any] | None = None,
    max_items: int | None = None,
    page_size: int = PAGE_SIZE,
    max_pages: int = MAX_PAGES,
) -> tuple[list[dict[str, Any]], bool]:
    """Follow `response_metadata.next_cursor` (at most `max_pages` pages, `max_items` items).

    Returns the items under `key` and whether more remained when it stopped.
    """
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(max_pages):
        wanted = page_size if max_items is None else min(page_size, max_items - len(items))
        body = await call(context, method, what=what, params={**(params or {}), "limit": wanted, "cursor": cursor})
        items.extend(item for item in body.get(key) or [] if isinstance(item, dict))
        cursor = ((body.get("response_metadata") or {}).get("next_cursor") or "").strip() or None
        if max_items is not None and len(items) >= max_items:
            return items[:max_items], cursor is not None or len(items) > max_items
        if cursor is None:
            return items, False
    return items, cursor is not None


def ts_to_iso(ts: Any) -> str | None:
    """A Slack timestamp ("1512085950.000216") as ISO 8601 in UTC ("2017-11-30T23:52:30+00:00")."""
    try:
        seconds = float(str(ts))
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(int(seconds), tz=UTC).isoformat()
