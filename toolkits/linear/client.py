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
from datetime import date
from typing import TYPE_CHECKING, Any

from mcp_server import (
    Page,
    ProviderAPI,
    ToolExecutionError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamServerError,
    collect_pages,
)

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "MAX_PAGE",
    "LinearAPI",
    "check_date",
    "check_id",
    "check_ids",
    "check_limit",
    "check_text",
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


class LinearAPI(ProviderAPI):
    """Linear's GraphQL endpoint for one tool call."""

    name = "Linear"
    default_base_url = DEFAULT_API_BASE_URL
    path_prefix = "/graphql"

    def check(self, response: httpx2.Response, *, what: str) -> None:
        """Linear's `errors` (on a 200 or a 4xx), by their `extensions.type`; a 5xx is mapped by its status."""
        try:
            body = response.json()
        except ValueError:
            return
        errors = body.get("errors") if isinstance(body, dict) else None
        if not errors or not isinstance(errors, list) or response.status_code >= 500:
            return
        first = errors[0] if isinstance(errors[0], dict) else {}
        kind = str((first.get("extensions") or {}).get("type") or "").lower()
        status = response.status_code
        if kind == "authentication error":
            raise UpstreamAuthError()
        if kind == "ratelimited":
            reset = response.headers.get("x-ratelimit-requests-reset", "").strip()
            wait = max(0.0, int(reset) / 1000 - time.time()) if reset.isdigit() else None
            when = f" Retry in {wait:.0f} s." if wait is not None else " Retry in a little while."
            raise UpstreamRateLimitError(f"Linear is rate limiting {what}.{when}", retry_after=wait, status_code=status)
        if kind == "forbidden":
            raise UpstreamError(
                f"Linear refused access to {what}: the user's authorization does not allow it.", status_code=403
            )
        if kind in ("invalid input", "user error"):
            raise UpstreamError(
                f"Linear rejected {what}: an argument is not valid (an id or identifier that does not exist, or a "
                f"value the team does not allow).",
                status_code=status,
            )
        if kind in ("internal error", "lock timeout", "network error"):
            raise UpstreamServerError(f"Linear failed on {what} ({kind}); try again later.", status_code=status)
        raise UpstreamError(f"Linear could not complete {what} ({kind or 'unknown error'}).", status_code=status)

    async def graphql(self, query: str, variables: Mapping[str, Any] | None = None, *, what: str) -> dict[str, Any]:
        """POST one GraphQL operation and return its `data`; Linear's errors become authmcp's errors."""
        body = await self.request("POST", "", what=what, json={"query": query, "variables": dict(variables or {})})
        data = body.get("data")
        if not isinstance(data, dict):
            raise self.unexpected(what)
        return data

    async def paginate(
        self, query: str, variables: Mapping[str, Any], field: str, *, what: str, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Follow `pageInfo.endCursor` of the connection `field` until `limit` nodes or the last page.

        `query` takes `$first: Int` and `$after: String`. Returns (nodes, more_available).
        """

        async def fetch(after: str | None, wanted: int) -> Page:
            data = await self.graphql(query, {**variables, "first": min(MAX_PAGE, wanted), "after": after}, what=what)
            connection = data.get(field) or {}
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor") if info.get("hasNextPage") else None
            nodes = [node for node in connection.get("nodes") or [] if isinstance(node, dict)]
            return Page(nodes, next=cursor or None, more=bool(info.get("hasNextPage")) and not cursor)

        # Bounded: the pages `limit` needs at MAX_PAGE each, plus a few in case Linear answers shorter pages.
        return await collect_pages(fetch, limit=limit, max_pages=limit // MAX_PAGE + 4)


# --- shaping -----------------------------------------------------------------------------------------------
