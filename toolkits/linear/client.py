"""Linear's GraphQL API for the Linear tools: one authorized POST per operation, Linear's error conventions,
input checks and shaping.

Reference: https://linear.app/developers/graphql (endpoint `https://api.linear.app/graphql`, OAuth tokens as
`Authorization: Bearer`), the schema in linear/linear `packages/sdk/src/schema.graphql`, and the SDK's error
handling in `packages/sdk/src/error.ts`: a failed operation answers a JSON body with `errors`, each carrying
`extensions.type` ("authentication error", "forbidden", "ratelimited", "invalid input", ...), on an HTTP status
that may be 200 or 4xx. Rate limits: https://linear.app/developers/rate-limiting (`X-RateLimit-Requests-Reset`,
UTC epoch milliseconds).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from mcp_server import (
    ToolContext,
    ToolExecutionError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamServerError,
    raise_for_upstream_status,
)

__all__ = [
    "MAX_PAGE",
    "check_date",
    "check_id",
    "check_ids",
    "check_limit",
    "check_text",
    "graphql",
    "iso",
    "paginate",
]

DEFAULT_API_BASE_URL = "https://api.linear.app"
MAX_PAGE = 100  # items asked for per page; Linear's default is 50 and complexity grows with page size
# An issue's identifier is its team's key, a hyphen and its number: `ENG-123`. Ids are UUIDs.
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,9}-[1-9][0-9]{0,8}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# --- input checks ------------------------------------------------------------------------------------------


def check_id(value: Any, name: str, *, identifier: bool = False) -> str:
    """A UUID, or (with `identifier`) an issue identifier such as `ENG-123`."""
    text = value.strip() if isinstance(value, str) else ""
    if _UUID.fullmatch(text) or (identifier and _IDENTIFIER.fullmatch(text)):
        return text.upper() if identifier and _IDENTIFIER.fullmatch(text) else text.lower()
    example = "'ENG-123' or a UUID" if identifier else "a UUID such as '9cfb482a-81e3-4154-b5b9-2c805e70a02d'"
    raise ToolExecutionError(f"{name} {value!r} is not a Linear id: give {example}.")


def check_ids(values: Any, name: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, list):
        raise ToolExecutionError(f"{name} must be a list of Linear ids (UUIDs).")
    return [check_id(value, name) for value in values]


def check_limit(value: Any, *, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ToolExecutionError(f"limit {value!r} is not valid: give a whole number from 1 to {maximum}.")
    return value


def check_text(value: Any, name: str, *, maximum: int, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ToolExecutionError(f"{name} is empty: give some text, e.g. {example!r}.")
    if len(value) > maximum:
        raise ToolExecutionError(f"{name} is {len(value)} characters long; at most {maximum} are accepted.")
    return value


def check_date(value: Any, name: str) -> str:
    """A calendar date `YYYY-MM-DD` (Linear's TimelessDate)."""
    try:
        return date.fromisoformat(value.strip()).isoformat() if isinstance(value, str) else ""
    except ValueError:
        pass
    raise ToolExecutionError(f"{name} {value!r} is not a date: use YYYY-MM-DD, e.g. '2024-05-31'.")


# --- requests ----------------------------------------------------------------------------------------------


def _url(context: ToolContext) -> str:
    return (context.get_setting("api_base_url", DEFAULT_API_BASE_URL) or DEFAULT_API_BASE_URL).rstrip("/") + "/graphql"


def _raise_for_errors(response: Any, body: Any, *, what: str) -> None:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors or response.status_code >= 500:
        return  # a server error is mapped by its status
    first = errors[0] if isinstance(errors[0], dict) else {}
    kind = str((first.get("extensions") or {}).get("type") or "").lower()
    if kind == "authentication error":
        raise UpstreamAuthError()
    if kind == "ratelimited":
        reset = response.headers.get("x-ratelimit-requests-reset", "").strip()
        wait = max(0.0, int(reset) / 1000 - time.time()) if reset.isdigit() else None
        when = f" Retry in {wait:.0f} s." if wait is not None else " Retry in a little while."
        raise UpstreamRateLimitError(f"Linear is rate limiting {what}.{when}", retry_after=wait,
                                     status_code=response.status_code)
    if kind == "forbidden":
        raise UpstreamError(
            f"Linear refused access to {what}: the user's authorization does not allow it.", status_code=403
        )
    if kind in ("invalid input", "user error"):
        raise UpstreamError(
            f"Linear rejected {what}: an argument is not valid (an id or identifier that does not exist, or a "
            f"value the team does not allow).", status_code=response.status_code,
        )
    if kind in ("internal error", "lock timeout", "network error"):
        raise UpstreamServerError(f"Linear failed on {what} ({kind}); try again later.",
                                  status_code=response.status_code)
    raise UpstreamError(f"Linear could not complete {what} ({kind or 'unknown error'}).",
                        status_code=response.status_code)


async def graphql(
    context: ToolContext, query: str, variables: Mapping[str, Any] | None = None, *, what: str
) -> dict[str, Any]:
    """POST one GraphQL operation and return its `data`; Linear's errors become authmcp's errors."""
    if context.http is None:
        raise ToolExecutionError("No HTTP client is available to reach Linear.")
    response = await context.http.post(
        _url(context),
        json={"query": query, "variables": dict(variables or {})},
        headers={"Authorization": f"Bearer {context.get_auth_token_or_empty()}", "Content-Type": "application/json"},
    )
    try:
        body = response.json()
    except ValueError:
        body = None
    _raise_for_errors(response, body, what=what)
    raise_for_upstream_status(response, what=what)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ToolExecutionError(f"Linear answered {what} with an unexpected response.")
    return data


async def paginate(
    context: ToolContext, query: str, variables: Mapping[str, Any], field: str, *, what: str, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Follow `pageInfo.endCursor` of the connection `field` until `limit` nodes or the last page.

    `query` takes `$first: Int` and `$after: String`. Returns (nodes, more_available).
    """
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    # Bounded: the pages `limit` needs at MAX_PAGE each, plus a few in case Linear answers shorter pages.
    for _ in range(limit // MAX_PAGE + 4):
        first = min(MAX_PAGE, limit - len(nodes))
        data = await graphql(context, query, {**variables, "first": first, "after": after}, what=what)
        connection = data.get(field) or {}
        nodes.extend(node for node in connection.get("nodes") or [] if isinstance(node, dict))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return nodes[:limit], False
        if len(nodes) >= limit or not page.get("endCursor"):
            return nodes[:limit], True
        after = page["endCursor"]
    return nodes[:limit], True


# --- shaping -----------------------------------------------------------------------------------------------


def iso(value: Any) -> str | None:
    """Linear's `2024-05-01T09:30:00.000Z` as ISO 8601 with an explicit offset; None stays None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return value
