"""Notion's API on the toolkit HTTP layer (the pinned `Notion-Version`, cursor pagination) and input checks.

Reference: https://developers.notion.com/reference/intro (version header, pagination with `start_cursor`,
`next_cursor` and `has_more`, `page_size` at most 100), https://developers.notion.com/reference/status-codes
(400 validation_error, 401 unauthorized, 403 restricted_resource, 404 object_not_found, 409 conflict_error,
429 rate_limited with Retry-After, 5xx). Version 2022-06-28 is pinned: the one the provider catalogue's
userinfo request uses, and the last before databases were split into data sources (2025-09-03); a database
with several data sources cannot be queried through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from mcp_server import ProviderAPI, ToolExecutionError, iso_datetime

__all__ = [
    "MAX_PAGE_SIZE",
    "NOTION_VERSION",
    "NotionAPI",
    "check_id",
    "check_limit",
    "iso",
]

DEFAULT_API_BASE_URL = "https://api.notion.com"
NOTION_VERSION = "2022-06-28"
MAX_PAGE_SIZE = 100
# A Notion id is a UUID, written with or without hyphens; a page's URL ends with it.
_HEX32 = re.compile(r"([0-9a-fA-F]{32})(?:[?#].*)?$")


def check_id(value: Any, name: str) -> str:
    """A page, block or database id (UUID with or without hyphens, or a notion.so URL ending in one),
    returned in the hyphenated form."""
    text = value.strip() if isinstance(value, str) else ""
    match = _HEX32.search(text.replace("-", "")) if text else None
    compact = match.group(1).lower() if match else ""
    if not compact or (not text.startswith("http") and len(text.replace("-", "")) != 32):
        raise ToolExecutionError(
            f"{name} {value!r} is not a Notion id: give the id from Notion_Search (e.g. "
            f"'59833787-2cf9-4fdf-8782-e53db20768a5') or the page's URL."
        )
    return f"{compact[:8]}-{compact[8:12]}-{compact[12:16]}-{compact[16:20]}-{compact[20:]}"


def check_limit(value: Any, *, maximum: int, name: str = "limit") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ToolExecutionError(f"{name} {value!r} is not valid: give a whole number from 1 to {maximum}.")
    return value


class NotionAPI(ProviderAPI):
    """Notion's API for one tool call, at the pinned version."""

    name = "Notion"
    default_base_url = DEFAULT_API_BASE_URL
    path_prefix = "/v1"
    headers: ClassVar[Mapping[str, str]] = {"Notion-Version": NOTION_VERSION}

    async def paginate(
        self, method: str, path: str, *, what: str, limit: int, body: Mapping[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Follow `next_cursor` (while `has_more`) until `limit` results or the last page; cursor and page size
        go in the query of a GET and in the body of a POST, as Notion's pagination asks.
        Returns (results, more_available)."""
        return await self.paginate_tokens(
            path,
            what=what,
            limit=limit,
            method=method,
            json=None if method == "GET" else dict(body or {}),
            # Bounded: the pages `limit` needs at 100 each, plus a few in case Notion answers shorter pages.
            max_pages=limit // MAX_PAGE_SIZE + 4,
            items_key="results",
            token_param="start_cursor",
            next_token=lambda page: page.get("next_cursor") if page.get("has_more") else None,
            size_param="page_size",
            page_size=MAX_PAGE_SIZE,
        )


def iso(value: Any) -> str | None:
    """Notion's `2022-03-01T19:05:00.000Z` as ISO 8601 with an explicit offset; dates stay dates."""
    if isinstance(value, str) and len(value) == 10:  # a date without a time (a date property) has no zone to add
        return value
    return iso_datetime(value)
