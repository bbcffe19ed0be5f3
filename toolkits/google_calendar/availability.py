"""FindFreeSlots: the times in a window when the user (and optionally other attendees) are all free."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from mcp_server import READS, ToolContext, ToolExecutionError, email_addresses, tool
from mcp_server.auth import Google

from .client import CalendarAPI, check_order, parse_datetime
from .scopes import SCOPE_FREEBUSY

__all__ = ["find_free_slots"]

_MAX_FREE_RANGE = timedelta(days=62)
# freebusy.query answers for at most 50 calendars (calendarExpansionMax's maximum); the user takes one.
_MAX_ATTENDEES = 49


def _free_slots(
    start: datetime, end: datetime, busy: list[tuple[datetime, datetime]], minimum: timedelta
) -> list[tuple[datetime, datetime]]:
    """The gaps of at least `minimum` between the busy periods (clipped to [start, end]), in order."""
    slots: list[tuple[datetime, datetime]] = []
    cursor = start
    for busy_start, busy_end in sorted(busy):
        busy_start, busy_end = max(busy_start, start), min(busy_end, end)
        if busy_end <= cursor:
            continue
        if busy_start - cursor >= minimum:
            slots.append((cursor, busy_start))
        cursor = max(cursor, busy_end)
    if end - cursor >= minimum:
        slots.append((cursor, end))
    return slots


def _reasons(entry: dict[str, Any]) -> str:
    return ", ".join(str(e.get("reason")) for e in entry.get("errors") or [] if isinstance(e, dict))


def _busy_periods(entry: dict[str, Any], zone: Any) -> list[tuple[datetime, datetime]]:
    busy: list[tuple[datetime, datetime]] = []
    for period in entry.get("busy") or []:
        try:
            busy.append(
                (
                    datetime.fromisoformat(str(period["start"])).astimezone(zone),
                    datetime.fromisoformat(str(period["end"])).astimezone(zone),
                )
            )
        except (KeyError, TypeError, ValueError):
            raise ToolExecutionError("Google answered the free/busy query with a period it did not date.") from None
    return busy


@tool(requires_auth=Google(scopes=[SCOPE_FREEBUSY]), title="Find free time slots", hints=READS)
async def find_free_slots(
    context: ToolContext,
    start: Annotated[str, "Start of the window to search, ISO 8601 with time zone, e.g. 2026-12-01T09:00:00+01:00"],
    end: Annotated[str, "End of the window to search, ISO 8601 with time zone, e.g. 2026-12-01T18:00:00+01:00"],
    duration_minutes: Annotated[int, "Shortest free period worth returning, in minutes"] = 30,
    attendee_emails: Annotated[
        list[str] | None, "Other people who must be free too (their calendars' free/busy is read), up to 49"
    ] = None,
) -> dict[str, Any]:
    """Find the periods in a time window when the user's primary calendar is free, and the calendars of the
    given attendees too, each at least duration_minutes long (from Google's free/busy information; event
    details are not read).

    Use it before CreateEvent to propose meeting times. Give a window covering working hours only if the
    user only wants those (e.g. 09:00 to 18:00 of one day): the whole window is searched. An attendee whose
    calendar Google does not share (outside the user's organization, or not found) is listed in
    `unavailable` and left out of the computation.

    Returns {"free_slots": [{start, end, duration_minutes}], "busy": [{start, end}], "unavailable":
    [{email, reason}]}, times in ISO 8601 in the time zone of `start`.
    """
    window_start = parse_datetime(start, "start")
    window_end = parse_datetime(end, "end")
    check_order(window_start, window_end, "start", "end")
    if window_end - window_start > _MAX_FREE_RANGE:
        raise ToolExecutionError(
            f"The window from start to end is longer than {_MAX_FREE_RANGE.days} days; search a shorter window."
        )
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int) or duration_minutes < 1:
        raise ToolExecutionError(f"duration_minutes is {duration_minutes}; give a number of minutes of at least 1.")
    minimum = timedelta(minutes=duration_minutes)
    if minimum > window_end - window_start:
        raise ToolExecutionError(
            f"duration_minutes ({duration_minutes}) is longer than the window from start to end; "
            f"widen the window or shorten the duration."
        )
    others = email_addresses(attendee_emails, name="attendee email")
    if len(others) > _MAX_ATTENDEES:
        raise ToolExecutionError(f"attendee_emails lists {len(others)} people; give at most {_MAX_ATTENDEES}.")
    what = "free/busy information for the primary calendar" + (" and the attendees" if others else "")
    answer = await CalendarAPI(context).request(
        "POST",
        "/freeBusy",
        what=what,
        json={
            "timeMin": window_start.isoformat(),
            "timeMax": window_end.isoformat(),
            "items": [{"id": "primary"}] + [{"id": email} for email in others],
        },
    )
    calendars = answer.get("calendars") or {}
    # Google keys the answer by the ids asked for; some deployments answer the user's own address for "primary".
    own = calendars.get("primary") or (next(iter(calendars.values())) if len(calendars) == 1 else {})
    if own.get("errors"):
        raise ToolExecutionError(
            f"Google could not compute free/busy information for the primary calendar: {_reasons(own)}."
        )
    zone = window_start.tzinfo
    busy = _busy_periods(own, zone)
    by_id = {str(key).lower(): value for key, value in calendars.items() if isinstance(value, dict)}
    unavailable = []
    for email in others:
        entry = by_id.get(email.lower())
        if entry is None or entry.get("errors"):
            unavailable.append({"email": email, "reason": _reasons(entry) if entry else "notFound"})
            continue
        busy.extend(_busy_periods(entry, zone))
    slots = _free_slots(window_start, window_end.astimezone(zone), busy, minimum)
    return {
        "free_slots": [
            {"start": s.isoformat(), "end": e.isoformat(), "duration_minutes": int((e - s).total_seconds() // 60)}
            for s, e in slots
        ],
        "busy": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in sorted(busy)],
        "unavailable": unavailable,
    }
