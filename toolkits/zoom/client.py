"""HTTP helpers for the Zoom API v2: authorized requests, `next_page_token` pagination, and meeting shaping.

Reference: https://developers.zoom.us/docs/api/meetings/ (Meetings API; user-level apps pass `me` as userId).
Pagination: https://developers.zoom.us/docs/api/pagination/ (an empty `next_page_token` means the last page).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp_server import ToolContext, ToolExecutionError, raise_for_upstream_status

__all__ = [
    "DEFAULT_API_BASE_URL",
    "MEETING_TYPES",
    "delete",
    "get_json",
    "get_pages",
    "patch",
    "post_json",
    "shape_meeting",
    "to_zone",
]

DEFAULT_API_BASE_URL = "https://api.zoom.us/v2"

# Zoom's meeting types (https://developers.zoom.us/docs/api/meetings/, "type" of a meeting object).
MEETING_TYPES = {
    1: "instant",
    2: "scheduled",
    3: "recurring, no fixed time",
    8: "recurring, fixed time",
    10: "screen share only",
}


def _base_url(context: ToolContext) -> str:
    return (context.get_setting("api_base_url", DEFAULT_API_BASE_URL) or DEFAULT_API_BASE_URL).rstrip("/")


def _headers(context: ToolContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {context.get_auth_token_or_empty()}", "Accept": "application/json"}


def _http(context: ToolContext) -> Any:
    if context.http is None:
        raise ToolExecutionError("No HTTP client is available to reach Zoom.")
    return context.http


def _json_object(response: Any, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ToolExecutionError(f"Zoom answered {what} with an unexpected response.")
    return body


async def get_json(
    context: ToolContext, path: str, *, what: str, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """GET `path` (relative to the API base URL) and return its JSON object; errors via raise_for_upstream_status."""
    response = await _http(context).get(f"{_base_url(context)}{path}", params=params, headers=_headers(context))
    raise_for_upstream_status(response, what=what)
    return _json_object(response, what)


async def post_json(context: ToolContext, path: str, body: dict[str, Any], *, what: str) -> dict[str, Any]:
    """POST a JSON body to `path` and return the JSON object Zoom answers with."""
    response = await _http(context).post(f"{_base_url(context)}{path}", json=body, headers=_headers(context))
    raise_for_upstream_status(response, what=what)
    return _json_object(response, what)


async def patch(context: ToolContext, path: str, body: dict[str, Any], *, what: str) -> None:
    """PATCH a JSON body to `path`; Zoom answers 204 No Content on success."""
    response = await _http(context).patch(f"{_base_url(context)}{path}", json=body, headers=_headers(context))
    raise_for_upstream_status(response, what=what)


async def delete(context: ToolContext, path: str, *, what: str, params: dict[str, Any] | None = None) -> None:
    """DELETE `path`; Zoom answers 204 No Content on success."""
    response = await _http(context).delete(f"{_base_url(context)}{path}", params=params, headers=_headers(context))
    raise_for_upstream_status(response, what=what)


async def get_pages(
    context: ToolContext,
    path: str,
    *,
    what: str,
    params: dict[str, Any],
    items_key: str,
    max_items: int,
    max_pages: int,
) -> tuple[list[dict[str, Any]], bool]:
    """Follow `next_page_token` until the last page, `max_items` items or `max_pages` pages.

    Returns the items and whether more were left (the result was cut short).
    """
    items: list[dict[str, Any]] = []
    token = ""
    for _ in range(max_pages):
        query = dict(params)
        if token:
            query["next_page_token"] = token
        body = await get_json(context, path, what=what, params=query)
        page = body.get(items_key) or []
        items.extend(item for item in page if isinstance(item, dict))
        token = str(body.get("next_page_token") or "")
        if len(items) >= max_items:
            return items[:max_items], bool(token) or len(items) > max_items
        if not token:
            return items, False
    return items, True


def to_zone(value: Any, zone_name: Any) -> str | None:
    """A Zoom time ("2022-03-23T06:00:00Z", UTC) as ISO 8601 in the meeting's time zone, with its offset.

    Falls back to UTC ("+00:00") when the zone is missing or unknown; None when there is no time.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    zone: Any = UTC
    if isinstance(zone_name, str) and zone_name:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
    return moment.astimezone(zone).isoformat()


def shape_meeting(meeting: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Zoom meeting object a model needs; never the passcode itself (the join_url carries it)."""
    zone = meeting.get("timezone") or None
    shaped: dict[str, Any] = {
        "meeting_id": str(meeting.get("id", "")),
        "topic": meeting.get("topic", ""),
        "type": MEETING_TYPES.get(meeting.get("type"), str(meeting.get("type", ""))),  # type: ignore[arg-type]
        "start_time": to_zone(meeting.get("start_time"), zone),
        "duration_minutes": meeting.get("duration"),
        "timezone": zone,
        "join_url": meeting.get("join_url"),
        "agenda": meeting.get("agenda") or "",
    }
    if "password" in meeting or "encrypted_password" in meeting:
        shaped["has_passcode"] = bool(meeting.get("password") or meeting.get("encrypted_password"))
    return shaped
