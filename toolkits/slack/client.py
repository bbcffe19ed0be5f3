"""Slack's Web API on the toolkit HTTP layer (one method call, cursor pagination) and Slack timestamps.

Slack answers most failures with HTTP 200 and `{"ok": false, "error": "<code>"}`
(https://docs.slack.dev/apis/web-api/#responses). The catalogue says so for the Slack provider
(`error_style = "ok_flag"`), and `raise_for_upstream_status(..., context=)` turns such answers, like HTTP-level
errors (429 with `Retry-After`, 5xx), into authmcp's errors; ProviderAPI passes the context to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mcp_server import ProviderAPI

API_BASE_URL = "https://slack.com/api"

#: Upper bound on pages followed for one listing (each page up to PAGE_SIZE items).
MAX_PAGES = 10
PAGE_SIZE = 200


class SlackAPI(ProviderAPI):
    """Slack's Web API for one tool call; its `ok: false` answers are mapped by the layer (`error_style`)."""

    name = "Slack"
    default_base_url = API_BASE_URL

    async def call(
        self,
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
        if json is not None or post:
            return await self.request("POST", f"/{method}", what=what, params=params, json=dict(json or {}))
        return await self.request("GET", f"/{method}", what=what, params=params)

    async def paginate(
        self,
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
        return await self.paginate_tokens(
            f"/{method}",
            what=what,
            params=params,
            items_key=key,
            token_param="cursor",
            next_token=lambda body: (body.get("response_metadata") or {}).get("next_cursor"),
            size_param="limit",
            page_size=page_size,
            max_pages=max_pages,
            limit=page_size * max_pages if max_items is None else max_items,
        )


def ts_to_iso(ts: Any) -> str | None:
    """A Slack timestamp ("1512085950.000216") as ISO 8601 in UTC ("2017-11-30T23:52:30+00:00")."""
    try:
        seconds = float(str(ts))
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(int(seconds), tz=UTC).isoformat()
