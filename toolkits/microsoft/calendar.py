"""Outlook calendar through Microsoft Graph: list, create, update and delete events, and free/busy times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from mcp_server import (
    ADDS,
    OVERWRITES,
    READS,
    ToolContext,
    ToolExecutionError,
    date_time,
    email_addresses,
    time_zone,
    tool,
    whole_number,
)
from mcp_server.auth import Microsoft
from toolkits.microsoft import client

CALENDARS_READ = "Calendars.Read"
CALENDARS_READWRITE = "Calendars.ReadWrite"

MAX_EVENTS = 100
MAX_RANGE_DAYS = 366
# Our bounds for getSchedule, to keep one answer small; Graph's own limits are not in its published description.
MAX_SCHEDULE_DAYS = 62
MAX_SCHEDULES = 20
_EVENT_FIELDS = (
    "id,subject,start,end,isAllDay,location,organizer,attendees,bodyPreview,showAs,isCancelled,"
    "isOnlineMeeting,onlineMeeting,webLink"
)
_FREE = {"free", "workingelsewhere"}


#: Parameters several of these tools take alike.
EventId = Annotated[str, "The id of the event, as ListEvents or CreateEvent returned it."]


def _shape(event: dict[str, Any]) -> dict[str, Any]:
    online = event.get("onlineMeeting") or {}
    return {
        "id": event.get("id"),
        "subject": event.get("subject") or "",
        "start": client.iso_time(event.get("start")),
        "end": client.iso_time(event.get("end")),
        "is_all_day": bool(event.get("isAllDay")),
        "location": (event.get("location") or {}).get("displayName") or "",
        "organizer": client.address_of(event.get("organizer")),
        "attendees": [
            {"email": client.address_of(a), "response": ((a.get("status") or {}).get("response") or "none")}
            for a in event.get("attendees") or []
            if isinstance(a, dict)
        ],
        "preview": event.get("bodyPreview") or "",
        "show_as": event.get("showAs"),
        "is_cancelled": bool(event.get("isCancelled")),
        "online_meeting_url": online.get("joinUrl") if isinstance(online, dict) else None,
        "web_link": event.get("webLink"),
    }


def _times(start: str | None, end: str | None, timezone: str | None) -> tuple[datetime | None, datetime | None]:
    if timezone is not None and timezone.strip():
        time_zone(timezone)
    begin = date_time(start, name="start", zone=timezone) if start is not None and start.strip() else None
    finish = date_time(end, name="end", zone=timezone) if end is not None and end.strip() else None
    if begin and finish:
        client.check_window(begin, finish, max_days=MAX_RANGE_DAYS)
    return begin, finish


def _event_fields(
    subject: str | None, location: str | None, description: str | None, attendees: list[str] | None
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if subject is not None and subject.strip():
        fields["subject"] = client.check_text(subject, "subject", maximum=255)
    if location is not None and location.strip():
        fields["location"] = {"displayName": client.check_text(location, "location", maximum=255)}
    if description is not None and description.strip():
        fields["body"] = {"contentType": "Text", "content": client.check_text(description, "description")}
    if attendees is not None:
        fields["attendees"] = [
            {"emailAddress": {"address": a}, "type": "required"} for a in email_addresses(attendees, name="attendee")
        ]
    return fields


@tool(requires_auth=Microsoft(scopes=[CALENDARS_READ]), title="List Outlook calendar events", hints=READS)
async def list_events(
    context: ToolContext,
    start: Annotated[
        str | None, "Start of the range, ISO 8601 with offset, e.g. '2030-05-01T00:00:00+02:00'; default now."
    ] = None,
    end: Annotated[str | None, "End of the range, ISO 8601 with offset; default 7 days after the start."] = None,
    max_results: Annotated[int, "How many events to return at most, 1 to 100."] = 25,
) -> dict[str, Any]:
    """List the events of the user's Outlook calendar that overlap a time range (the next 7 days by default),
    recurring events expanded into their occurrences, earliest first.

    Returns `events`, each with `id` (for UpdateEvent and DeleteEvent), subject, start and end (ISO 8601 with
    time zone), is_all_day, location, organizer, attendees (email and response), preview, show_as,
    is_cancelled, online_meeting_url and web_link; and `truncated` when more events were left out.
    """
    max_results = whole_number(max_results, name="max_results", maximum=MAX_EVENTS)
    begin = date_time(start, name="start") if start and start.strip() else datetime.now(UTC).replace(microsecond=0)
    finish = date_time(end, name="end") if end and end.strip() else begin + timedelta(days=7)
    client.check_window(begin, finish, max_days=MAX_RANGE_DAYS)
    return await client.GraphAPI(context).listing(
        "/me/calendarView",
        what="the user's calendar",
        limit=max_results,
        params={
            "startDateTime": client.graph_query_time(begin),
            "endDateTime": client.graph_query_time(finish),
            "$select": _EVENT_FIELDS,
            "$orderby": "start/dateTime",
        },
        headers=client.PREFER_UTC,
        page_size=50,
        key="events",
        shape=_shape,
    )


@tool(requires_auth=Microsoft(scopes=[CALENDARS_READWRITE]), title="Create an Outlook calendar event", hints=ADDS)
async def create_event(
    context: ToolContext,
    subject: Annotated[str, "The event's title."],
    start: Annotated[
        str, "When it starts, ISO 8601: with an offset ('2030-05-01T10:00:00+02:00') or local time with timezone."
    ],
    end: Annotated[str, "When it ends, in the same form as start."],
    timezone: Annotated[
        str | None, "IANA time zone of start and end when they carry no offset, e.g. 'Europe/Paris'."
    ] = None,
    attendees: Annotated[list[str] | None, "Email addresses to invite; Outlook sends them the invitation."] = None,
    location: Annotated[str | None, "Where it takes place."] = None,
    description: Annotated[str | None, "Plain-text description."] = None,
    online_meeting: Annotated[bool, "True to add a Microsoft Teams meeting link."] = False,
) -> dict[str, Any]:
    """Create an event in the user's Outlook calendar; invited attendees get an invitation from Outlook.

    Check free times first with GetFreeBusy. Returns the event: `id` (for UpdateEvent and DeleteEvent),
    subject, start and end (ISO 8601 with time zone), location, organizer, attendees, online_meeting_url and
    web_link.
    """
    if not subject or not subject.strip():
        raise ToolExecutionError("subject is empty; give the event's title.")
    begin, finish = _times(start, end, timezone)
    if begin is None or finish is None:
        raise ToolExecutionError("Both start and end are required, e.g. '2030-05-01T10:00:00+02:00'.")
    event = _event_fields(subject, location, description, attendees)
    event["start"], event["end"] = client.graph_time(begin), client.graph_time(finish)
    if online_meeting:
        event["isOnlineMeeting"], event["onlineMeetingProvider"] = True, "teamsForBusiness"
    created = await client.GraphAPI(context).request(
        "POST", "/me/events", what="creating the event", json=event, headers=client.PREFER_UTC
    )
    return _shape(created)


@tool(requires_auth=Microsoft(scopes=[CALENDARS_READWRITE]), title="Update an Outlook calendar event", hints=OVERWRITES)
async def update_event(
    context: ToolContext,
    event_id: EventId,
    subject: Annotated[str | None, "A new title."] = None,
    start: Annotated[str | None, "A new start, ISO 8601 with offset or local time with timezone."] = None,
    end: Annotated[str | None, "A new end, in the same form as start."] = None,
    timezone: Annotated[str | None, "IANA time zone of start and end when they carry no offset."] = None,
    attendees: Annotated[list[str] | None, "The full new list of attendee addresses (replaces the old list)."] = None,
    location: Annotated[str | None, "A new location."] = None,
    description: Annotated[str | None, "A new plain-text description (replaces the old one)."] = None,
) -> dict[str, Any]:
    """Change an event in the user's Outlook calendar: only the fields given change. Attendees are told of the
    change by Outlook.

    Returns the updated event: `id`, subject, start and end (ISO 8601 with time zone), location, organizer,
    attendees, online_meeting_url and web_link.
    """
    event_id = client.check_id(event_id, "event_id", "ListEvents or CreateEvent")
    begin, finish = _times(start, end, timezone)
    changes = _event_fields(subject, location, description, attendees)
    if begin is not None:
        changes["start"] = client.graph_time(begin)
    if finish is not None:
        changes["end"] = client.graph_time(finish)
    if not changes:
        raise ToolExecutionError(
            "Nothing to change; give at least one of subject, start, end, attendees, location or description."
        )
    updated = await client.GraphAPI(context).request(
        "PATCH",
        f"/me/events/{event_id}",
        what=f"the event {event_id}",
        json=changes,
        headers=client.PREFER_UTC,
    )
    return _shape(updated)


@tool(requires_auth=Microsoft(scopes=[CALENDARS_READWRITE]), title="Delete an Outlook calendar event", hints=OVERWRITES)
async def delete_event(
    context: ToolContext,
    event_id: EventId,
) -> dict[str, Any]:
    """Delete an event from the user's Outlook calendar (it goes to Deleted Items). If the user organizes a
    meeting with attendees, Outlook sends them a cancellation.

    Returns `event_id` and `deleted`.
    """
    event_id = client.check_id(event_id, "event_id", "ListEvents or CreateEvent")
    await client.GraphAPI(context).request("DELETE", f"/me/events/{event_id}", what=f"the event {event_id}")
    return {"event_id": event_id, "deleted": True}


def _busy(item: dict[str, Any]) -> tuple[datetime, datetime] | None:
    start, end = client.iso_time(item.get("start")), client.iso_time(item.get("end"))
    try:
        begin, finish = datetime.fromisoformat(start or ""), datetime.fromisoformat(end or "")
    except ValueError:
        return None
    return (begin, finish) if begin.tzinfo and finish.tzinfo else None


def _free_slots(
    busy: list[tuple[datetime, datetime]], begin: datetime, finish: datetime, minimum: timedelta
) -> list[dict[str, str]]:
    slots, cursor = [], begin
    for start, end in sorted(busy):
        gap_end = min(start, finish)
        if gap_end - cursor >= minimum:
            slots.append({"start": cursor.isoformat(), "end": gap_end.isoformat()})
        cursor = max(cursor, end)
    if finish - cursor >= minimum:
        slots.append({"start": cursor.isoformat(), "end": finish.isoformat()})
    return slots


@tool(requires_auth=Microsoft(scopes=[CALENDARS_READ]), title="Get Outlook free/busy times", hints=READS)
async def get_free_busy(
    context: ToolContext,
    attendees: Annotated[
        list[str], "Email addresses of the people (or rooms) to check, 1 to 20, e.g. ['ana@example.com']."
    ],
    start: Annotated[str, "Start of the range, ISO 8601 with offset, e.g. '2030-05-01T09:00:00+02:00'."],
    end: Annotated[str, "End of the range, ISO 8601 with offset; at most 62 days after the start."],
    min_slot_minutes: Annotated[int, "Shortest free slot worth returning, in minutes, 5 to 1440."] = 30,
) -> dict[str, Any]:
    """Find when people in the user's organization are busy or free in a time range, and the slots when all
    of them are free (for scheduling a meeting with CreateEvent). Work or school accounts only.

    Returns `schedules`, one per address: `email`, `busy` (start, end in ISO 8601 with time zone, and status:
    busy, tentative or oof) and `error` when Outlook could not tell; and `free_slots`, the periods of at least
    min_slot_minutes when everyone is free.
    """
    addresses = email_addresses(attendees, name="attendee")
    if not 1 <= len(addresses) <= MAX_SCHEDULES:
        raise ToolExecutionError(f"Give 1 to {MAX_SCHEDULES} attendee addresses, e.g. ['ana@example.com'].")
    begin, finish = date_time(start, name="start"), date_time(end, name="end")
    client.check_window(begin, finish, max_days=MAX_SCHEDULE_DAYS)
    minutes = whole_number(min_slot_minutes, name="min_slot_minutes", minimum=5, maximum=1440)
    answer = await client.GraphAPI(context).request(
        "POST",
        "/me/calendar/getSchedule",
        what="the free/busy times",
        json={
            "schedules": addresses,
            "startTime": client.graph_time(begin),
            "endTime": client.graph_time(finish),
            "availabilityViewInterval": minutes,
        },
        headers=client.PREFER_UTC,
    )
    schedules, everyone_busy = [], []
    for info in answer.get("value") or []:
        if not isinstance(info, dict):
            continue
        busy = []
        for item in info.get("scheduleItems") or []:
            status = str(item.get("status", "")).lower() if isinstance(item, dict) else "free"
            interval = _busy(item) if status not in _FREE else None
            if interval is not None:
                busy.append({"start": interval[0].isoformat(), "end": interval[1].isoformat(), "status": status})
                everyone_busy.append(interval)
        schedule: dict[str, Any] = {"email": info.get("scheduleId"), "busy": busy}
        error = info.get("error")
        if isinstance(error, dict) and error.get("message"):
            schedule["error"] = str(error["message"])
        schedules.append(schedule)
    utc_begin, utc_finish = begin.astimezone(UTC), finish.astimezone(UTC)
    return {
        "schedules": schedules,
        "free_slots": _free_slots(everyone_busy, utc_begin, utc_finish, timedelta(minutes=minutes)),
    }
