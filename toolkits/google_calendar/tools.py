"""The Google Calendar tools for calendars and events: list calendars and events, create / update / delete events."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ADDS, OVERWRITES, READS, ToolContext, ToolExecutionError, email_addresses, tool
from mcp_server.auth import Google

from .client import (
    CalendarAPI,
    EventCalendar,
    TargetCalendar,
    check_calendar_id,
    check_event_id,
    check_order,
    parse_datetime,
    path_segment,
    shape_calendar,
    shape_event,
)
from .scopes import SCOPE_CALENDAR_LIST_READONLY, SCOPE_EVENTS, SCOPE_EVENTS_READONLY

__all__ = ["create_event", "delete_event", "list_calendars", "list_events", "update_event"]


# calendarList.list: maxResults up to 250; events.list: up to 2500 (documented page size limits).
_CALENDAR_PAGE = 250
_MAX_CALENDARS = 500
_EVENT_PAGE = 250
_MAX_EVENTS = 250


@tool(requires_auth=Google(scopes=[SCOPE_CALENDAR_LIST_READONLY]), title="List calendars", hints=READS)
async def list_calendars(context: ToolContext) -> dict[str, Any]:
    """List the calendars on the user's Google Calendar list (their own, shared and subscribed ones).

    Use it to find the calendar_id to pass to ListEvents, CreateEvent, UpdateEvent or DeleteEvent when the
    user names a calendar other than their main one ('primary').

    Returns {"calendars": [{id, summary, description, time_zone, access_role, primary}]}; access_role is
    owner / writer (can add events) / reader / freeBusyReader.
    """
    items, more = await CalendarAPI(context).list_items(
        "/users/me/calendarList",
        what="the user's calendar list",
        params={},
        limit=_MAX_CALENDARS,
        max_page_size=_CALENDAR_PAGE,
    )
    result: dict[str, Any] = {"calendars": [shape_calendar(item) for item in items]}
    if more:
        result["truncated"] = True
    return result


@tool(requires_auth=Google(scopes=[SCOPE_EVENTS_READONLY]), title="List calendar events", hints=READS)
async def list_events(
    context: ToolContext,
    min_datetime: Annotated[str, "Start of the time window, ISO 8601 with time zone, e.g. 2026-12-01T00:00:00+01:00"],
    max_datetime: Annotated[str, "End of the time window, ISO 8601 with time zone, e.g. 2026-12-08T00:00:00+01:00"],
    calendar_id: Annotated[
        str, "Calendar to read: 'primary' (the user's main calendar) or an id from ListCalendars"
    ] = "primary",
    max_results: Annotated[int, "Most events to return, 1 to 250"] = 25,
) -> dict[str, Any]:
    """List the events of a calendar that overlap a time window, earliest first (recurring events are
    expanded into their single occurrences).

    Use it to see what the user has planned, or to find the id of an event to update or delete.

    Returns {"calendar_id", "events": [{id, calendar_id, summary, start, end, all_day, location, description,
    status, organizer, attendees: [{email, response_status}], html_link}], "more_available"}. start and end are
    ISO 8601 date-times with offset, or plain dates (YYYY-MM-DD, end exclusive) for all-day events.
    """
    start = parse_datetime(min_datetime, "min_datetime")
    end = parse_datetime(max_datetime, "max_datetime")
    check_order(start, end, "min_datetime", "max_datetime")
    calendar = check_calendar_id(calendar_id)
    if not 1 <= max_results <= _MAX_EVENTS:
        raise ToolExecutionError(f"max_results is {max_results}; give a number from 1 to {_MAX_EVENTS}.")
    items, more = await CalendarAPI(context).list_items(
        f"/calendars/{path_segment(calendar)}/events",
        what=f"the calendar {calendar!r}",
        params={
            "timeMin": start.isoformat(),
            "timeMax": end.isoformat(),
            "singleEvents": "true",
            "orderBy": "startTime",
        },
        limit=max_results,
        max_page_size=_EVENT_PAGE,
    )
    return {
        "calendar_id": calendar,
        "events": [shape_event(item, calendar) for item in items],
        "more_available": more,
    }


@tool(requires_auth=Google(scopes=[SCOPE_EVENTS]), title="Create a calendar event", hints=ADDS)
async def create_event(
    context: ToolContext,
    summary: Annotated[str, "Title of the event"],
    start_datetime: Annotated[str, "Start, ISO 8601 with time zone, e.g. 2026-12-01T09:00:00+01:00"],
    end_datetime: Annotated[str, "End, ISO 8601 with time zone, after the start, e.g. 2026-12-01T10:00:00+01:00"],
    attendee_emails: Annotated[list[str] | None, "Email addresses of the people to invite"] = None,
    description: Annotated[str | None, "Plain-text description / agenda"] = None,
    location: Annotated[str | None, "Where it takes place (address, room, or video link)"] = None,
    calendar_id: TargetCalendar = "primary",
    notify_attendees: Annotated[bool, "Email the invitation to the attendees"] = True,
) -> dict[str, Any]:
    """Create an event on one of the user's calendars, optionally inviting attendees by email.

    Use it when the user asks to schedule, book or add something to their calendar. To find a time when the
    user is free first, use FindFreeSlots.

    Returns the created event: {id, calendar_id, summary, start, end, all_day, location, description, status,
    organizer, attendees: [{email, response_status}], html_link}. Keep the id to update or delete it later.
    """
    title = (summary or "").strip()
    if not title:
        raise ToolExecutionError("summary is empty; give the event a title, e.g. 'Project review'.")
    start = parse_datetime(start_datetime, "start_datetime")
    end = parse_datetime(end_datetime, "end_datetime")
    check_order(start, end, "start_datetime", "end_datetime")
    emails = email_addresses(attendee_emails, name="attendee email")
    calendar = check_calendar_id(calendar_id)
    body: dict[str, Any] = {
        "summary": title,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": end.isoformat()},
    }
    if description:
        body["description"] = description
    if location:
        body["location"] = location
    if emails:
        body["attendees"] = [{"email": email} for email in emails]
    created = await CalendarAPI(context).change_event("POST", calendar, notify=notify_attendees, json=body)
    return shape_event(created, calendar)


@tool(requires_auth=Google(scopes=[SCOPE_EVENTS]), title="Update a calendar event", hints=OVERWRITES)
async def update_event(
    context: ToolContext,
    event_id: Annotated[str, "Id of the event to change, from ListEvents or CreateEvent"],
    calendar_id: EventCalendar = "primary",
    summary: Annotated[str | None, "New title; omit to keep"] = None,
    start_datetime: Annotated[str | None, "New start, ISO 8601 with time zone; omit to keep"] = None,
    end_datetime: Annotated[str | None, "New end, ISO 8601 with time zone; omit to keep"] = None,
    description: Annotated[str | None, "New plain-text description; omit to keep"] = None,
    location: Annotated[str | None, "New location; omit to keep"] = None,
    attendee_emails: Annotated[
        list[str] | None, "The complete new attendee list (replaces the current one); omit to keep"
    ] = None,
    notify_attendees: Annotated[bool, "Email the attendees about the change"] = True,
) -> dict[str, Any]:
    """Change some fields of an existing event; fields left out stay as they are.

    Use it to reschedule, rename, move or re-invite. When moving an event give both start_datetime and
    end_datetime. attendee_emails replaces the whole list: to add someone, pass the current attendees
    (from ListEvents) plus the new address.

    Returns the updated event: {id, calendar_id, summary, start, end, all_day, location, description, status,
    organizer, attendees: [{email, response_status}], html_link}.
    """
    event = check_event_id(event_id)
    calendar = check_calendar_id(calendar_id)
    body: dict[str, Any] = {}
    if summary is not None:
        if not summary.strip():
            raise ToolExecutionError("summary is empty; give a new title or omit summary to keep the current one.")
        body["summary"] = summary.strip()
    start = parse_datetime(start_datetime, "start_datetime") if start_datetime is not None else None
    end = parse_datetime(end_datetime, "end_datetime") if end_datetime is not None else None
    if start is not None and end is not None:
        check_order(start, end, "start_datetime", "end_datetime")
    if start is not None:
        body["start"] = {"dateTime": start.isoformat()}
    if end is not None:
        body["end"] = {"dateTime": end.isoformat()}
    if description is not None:
        body["description"] = description
    if location is not None:
        body["location"] = location
    if attendee_emails is not None:
        body["attendees"] = [{"email": email} for email in email_addresses(attendee_emails, name="attendee email")]
    if not body:
        raise ToolExecutionError(
            "Nothing to change: give at least one of summary, start_datetime, end_datetime, description, "
            "location or attendee_emails."
        )
    updated = await CalendarAPI(context).change_event("PATCH", calendar, event, notify=notify_attendees, json=body)
    return shape_event(updated, calendar)


@tool(requires_auth=Google(scopes=[SCOPE_EVENTS]), title="Delete a calendar event", hints=OVERWRITES)
async def delete_event(
    context: ToolContext,
    event_id: Annotated[str, "Id of the event to delete, from ListEvents or CreateEvent"],
    calendar_id: EventCalendar = "primary",
    notify_attendees: Annotated[bool, "Email the attendees that the event is cancelled"] = True,
) -> dict[str, Any]:
    """Delete (cancel) an event from a calendar.

    Use it when the user asks to cancel or remove an event; find its id with ListEvents first.

    Returns {"deleted": true, "event_id", "calendar_id"}.
    """
    event = check_event_id(event_id)
    calendar = check_calendar_id(calendar_id)
    await CalendarAPI(context).change_event("DELETE", calendar, event, notify=notify_attendees)
    return {"deleted": True, "event_id": event, "calendar_id": calendar}
