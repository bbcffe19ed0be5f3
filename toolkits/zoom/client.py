"""The Zoom API v2 (on the toolkit HTTP layer, with its `next_page_token` pagination) and meeting shaping.

Reference: https://developers.zoom.us/docs/api/meetings/ (Meetings API; user-level apps pass `me` as userId).
Pagination: https://developers.zoom.us/docs/api/pagination/ (an empty `next_page_token` means the last page).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp_server import ProviderAPI

__all__ = [
    "DEFAULT_API_BASE_URL",
    "MEETING_TYPES",
    "ZoomAPI",
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


class ZoomAPI(ProviderAPI):
    """The Zoom API v2 for one tool call."""

    name = "Zoom"
    default_base_url = DEFAULT_API_BASE_URL
    headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    async def get_pages(
        self, path: str, *, what: str, params: dict[str, Any], items_key: str, max_items: int, max_pages: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Follow `next_page_token` (empty on the last page) until `max_items` items or `max_pages` pages;
        the items and whether more were left."""
        return await self.paginate_tokens(
            path,
            what=what,
            params=params,
            items_key=items_key,
            limit=max_items,
            max_pages=max_pages,
            token_param="next_page_token",
            next_token="next_page_token",
        )


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
