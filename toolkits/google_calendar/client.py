"""The Google Calendar API v3 on the toolkit HTTP layer (with its page tokens), input checks and the shaping
of calendars and events for a model to read.

Reference: https://developers.google.com/workspace/calendar/api/v3/reference (calendarList.list, events.list,
events.insert, events.patch, events.delete, freebusy.query).
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp_server import ProviderAPI, ToolExecutionError

__all__ = [
    "DEFAULT_API_BASE_URL",
    "CalendarAPI",
    "check_calendar_id",
    "check_event_id",
    "check_order",
    "event_target",
    "parse_datetime",
    "path_segment",
    "plain_text",
    "send_updates",
    "shape_calendar",
    "shape_event",
]

DEFAULT_API_BASE_URL = "https://www.googleapis.com/calendar/v3"
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)


#: Parameters several of these tools take alike.
EventCalendar = Annotated[str, "Calendar holding the event: 'primary' or an id from ListCalendars"]
TargetCalendar = Annotated[str, "Calendar to add it to: 'primary' or an id from ListCalendars"]


def event_target(calendar: str, event: str | None = None) -> tuple[str, str]:
    """The API path of a calendar's events (or of one event), and how messages name it."""
    path = f"/calendars/{path_segment(calendar)}/events"
    if event is None:
        return path, f"the calendar {calendar!r}"
    return f"{path}/{path_segment(event)}", f"the event {event!r} in calendar {calendar!r}"


class CalendarAPI(ProviderAPI):
    """The Google Calendar API v3 for one tool call."""

    name = "Google Calendar"
    default_base_url = DEFAULT_API_BASE_URL

    async def get_event(self, calendar: str, event: str) -> dict[str, Any]:
        path, what = event_target(calendar, event)
        return await self.request("GET", path, what=what)

    async def change_event(
        self, method: str, calendar: str, event: str | None = None, *, notify: bool, json: Any = None
    ) -> dict[str, Any]:
        """Create (no `event`), change or delete an event; the guests get an email about it when `notify`."""
        path, what = event_target(calendar, event)
        return await self.request(method, path, what=what, params={"sendUpdates": send_updates(notify)}, json=json)

    async def list_items(
        self, path: str, *, what: str, params: dict[str, Any], limit: int, max_page_size: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Follow `nextPageToken` until `limit` items are collected or no page is left.

        Returns the items (at most `limit`) and whether more were available.
        """
        return await self.paginate_tokens(
            path,
            what=what,
            params=params,
            limit=limit,
            items_key="items",
            token_param="pageToken",
            next_token="nextPageToken",
            size_param="maxResults",
            page_size=max_page_size,
            # Bounded: the pages `limit` needs, plus a few in case Google answers shorter pages.
            max_pages=limit // max_page_size + 4,
        )


def path_segment(value: str) -> str:
    """A calendar or event id made safe for a URL path (ids such as `en.usa#holiday@group.v.calendar.google.com`)."""
    return quote(value, safe="@")


def parse_datetime(value: str, name: str) -> datetime:
    """An ISO 8601 date-time with a time zone, or a ToolExecutionError saying what is wrong and what is right."""
    example = "e.g. 2026-12-01T09:00:00+01:00 or 2026-12-01T08:00:00Z"
    text = (value or "").strip()
    if not text:
        raise ToolExecutionError(f"{name} is empty; give an ISO 8601 date-time with a time zone, {example}.")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ToolExecutionError(
            f"{name} {value!r} is not an ISO 8601 date-time; give one with a time zone, {example}."
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ToolExecutionError(f"{name} {value!r} has no time zone; add the UTC offset, {example}.")
    return parsed


def check_calendar_id(value: str) -> str:
    calendar_id = (value or "").strip()
    if not calendar_id:
        raise ToolExecutionError(
            "calendar_id is empty; give 'primary' for the user's main calendar or an id from ListCalendars."
        )
    return calendar_id


def check_event_id(value: str) -> str:
    event_id = (value or "").strip()
    if not event_id:
        raise ToolExecutionError("event_id is empty; give an event id from ListEvents.")
    return event_id


def check_order(start: datetime, end: datetime, start_name: str, end_name: str) -> None:
    if end <= start:
        raise ToolExecutionError(f"{end_name} ({end.isoformat()}) must be after {start_name} ({start.isoformat()}).")


def send_updates(notify: bool) -> str:
    return "all" if notify else "none"


def plain_text(value: str | None) -> str | None:
    """Event descriptions may hold HTML (the Calendar web UI writes some): give the model plain text."""
    if not value:
        return None
    if "<" not in value and "&" not in value:
        return value
    text = _BREAK.sub("\n", value)
    text = _TAG.sub("", text)
    return html.unescape(text).strip() or None


def _when(value: Any) -> str | None:
    """An event's start/end: `date` for all-day events, else `dateTime` in ISO 8601 with its offset."""
    if not isinstance(value, dict):
        return None
    if value.get("dateTime"):
        raw = str(value["dateTime"])
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return raw
        if parsed.tzinfo is None and value.get("timeZone"):
            try:
                parsed = parsed.replace(tzinfo=ZoneInfo(str(value["timeZone"])))
            except (ZoneInfoNotFoundError, ValueError):
                return raw
        return parsed.isoformat()
    if value.get("date"):
        return date.fromisoformat(str(value["date"])).isoformat()
    return None


def shape_event(item: dict[str, Any], calendar_id: str) -> dict[str, Any]:
    """The parts of an Event resource a model needs, with the ids to pass to UpdateEvent / DeleteEvent."""
    start = item.get("start") or {}
    return {
        "id": item.get("id"),
        "calendar_id": calendar_id,
        "summary": item.get("summary"),
        "start": _when(start),
        "end": _when(item.get("end")),
        "all_day": bool(isinstance(start, dict) and start.get("date") and not start.get("dateTime")),
        "location": item.get("location"),
        "description": plain_text(item.get("description")),
        "status": item.get("status"),
        "organizer": (item.get("organizer") or {}).get("email"),
        "attendees": [
            {"email": a.get("email"), "response_status": a.get("responseStatus")}
            for a in item.get("attendees") or []
            if isinstance(a, dict)
        ],
        "html_link": item.get("htmlLink"),
    }


def shape_calendar(item: dict[str, Any]) -> dict[str, Any]:
    """A CalendarList entry: its id (for ListEvents / CreateEvent), name, time zone and the user's role."""
    return {
        "id": item.get("id"),
        "summary": item.get("summaryOverride") or item.get("summary"),
        "description": plain_text(item.get("description")),
        "time_zone": item.get("timeZone"),
        "access_role": item.get("accessRole"),
        "primary": bool(item.get("primary", False)),
    }
