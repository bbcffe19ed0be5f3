"""The Google Calendar tools for single events: get one event in full, add one from a sentence, and answer an
invitation."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ADDS, READS, SETS, ToolContext, ToolExecutionError, tool
from mcp_server.auth import Google

from .client import (
    CalendarAPI,
    EventCalendar,
    TargetCalendar,
    check_calendar_id,
    check_event_id,
    path_segment,
    shape_event,
)
from .scopes import SCOPE_EVENTS, SCOPE_EVENTS_READONLY

__all__ = ["get_event", "quick_add_event", "respond_to_event"]

RESPONSES = ("accepted", "declined", "tentative")
MAX_QUICK_ADD = 1000
MAX_COMMENT = 1000


def _meeting_link(item: dict[str, Any]) -> str | None:
    """The video link: hangoutLink, else the first video entry point of conferenceData."""
    if item.get("hangoutLink"):
        return str(item["hangoutLink"])
    for entry in (item.get("conferenceData") or {}).get("entryPoints") or []:
        if isinstance(entry, dict) and entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return None


@tool(requires_auth=Google(scopes=[SCOPE_EVENTS_READONLY]), title="Get a calendar event", hints=READS)
async def get_event(
    context: ToolContext,
    event_id: Annotated[str, "Id of the event, from ListEvents or CreateEvent"],
    calendar_id: EventCalendar = "primary",
) -> dict[str, Any]:
    """Get one event in full: its times, attendees and their answers, description, video meeting link and
    recurrence rule.

    Returns {id, calendar_id, summary, start, end, all_day, location, description, status, organizer,
    attendees: [{email, response_status}], html_link, meeting_link, recurrence (RRULE lines or null),
    recurring_event_id (the series, for one occurrence)}.
    """
    event = check_event_id(event_id)
    calendar = check_calendar_id(calendar_id)
    item = await CalendarAPI(context).get_event(calendar, event)
    return {
        **shape_event(item, calendar),
        "meeting_link": _meeting_link(item),
        "recurrence": list(item.get("recurrence") or []) or None,
        "recurring_event_id": item.get("recurringEventId"),
    }


@tool(requires_auth=Google(scopes=[SCOPE_EVENTS]), title="Quick-add a calendar event", hints=ADDS)
async def quick_add_event(
    context: ToolContext,
    text: Annotated[str, "The event in words, e.g. 'Lunch with Ana at Chez Paul tomorrow 12:30-13:30'"],
    calendar_id: TargetCalendar = "primary",
) -> dict[str, Any]:
    """Create an event from a sentence, the way Google Calendar's quick add reads it (title, day, time, place).

    Google interprets the text in the calendar's time zone and language; check the returned start and end,
    and use CreateEvent for exact times or attendees. Returns the created event: {id, calendar_id, summary,
    start, end, all_day, location, description, status, organizer, attendees, html_link}.
    """
    sentence = text.strip() if isinstance(text, str) else ""
    if not sentence:
        raise ToolExecutionError("text is empty; describe the event, e.g. 'Dentist Friday 3pm'.")
    if len(sentence) > MAX_QUICK_ADD:
        raise ToolExecutionError(f"text is {len(sentence)} characters long; keep it under {MAX_QUICK_ADD}.")
    calendar = check_calendar_id(calendar_id)
    created = await CalendarAPI(context).request(
        "POST",
        f"/calendars/{path_segment(calendar)}/events/quickAdd",
        what=f"the calendar {calendar!r}",
        params={"text": sentence, "sendUpdates": "none"},
    )
    return shape_event(created, calendar)


@tool(requires_auth=Google(scopes=[SCOPE_EVENTS]), title="Respond to a calendar invitation", hints=SETS)
async def respond_to_event(
    context: ToolContext,
    event_id: Annotated[str, "Id of the event the user is invited to, from ListEvents"],
    response: Annotated[str, "The answer: 'accepted', 'declined' or 'tentative'"],
    calendar_id: EventCalendar = "primary",
    comment: Annotated[str | None, "A note to the organizer with the answer"] = None,
    notify_organizer: Annotated[bool, "Email the organizer the answer"] = True,
) -> dict[str, Any]:
    """Accept, decline or tentatively accept an invitation on the user's calendar (their own attendee entry
    only; the organizer and other guests are unchanged).

    Returns the event: {id, calendar_id, summary, start, end, all_day, location, description, status,
    organizer, attendees: [{email, response_status}], html_link} and `response_status`, the user's answer now.
    """
    event = check_event_id(event_id)
    calendar = check_calendar_id(calendar_id)
    answer = response.strip().lower() if isinstance(response, str) else ""
    if answer not in RESPONSES:
        raise ToolExecutionError(f"response {response!r} is not one of {', '.join(RESPONSES)}.")
    note = comment.strip() if isinstance(comment, str) else ""
    if len(note) > MAX_COMMENT:
        raise ToolExecutionError(f"comment is {len(note)} characters long; keep it to {MAX_COMMENT} at most.")
    api = CalendarAPI(context)
    current = await api.get_event(calendar, event)
    attendees = [dict(a) for a in current.get("attendees") or [] if isinstance(a, dict)]
    mine = next((a for a in attendees if a.get("self")), None)
    if mine is None:
        raise ToolExecutionError(
            f"The user is not on the guest list of the event {event!r} (e.g. it is their own event without "
            f"guests), so there is no invitation to answer."
        )
    mine["responseStatus"] = answer
    if note:
        mine["comment"] = note
    # events.patch replaces the whole attendees array, so every guest is sent back unchanged but the user.
    updated = await api.change_event("PATCH", calendar, event, notify=notify_organizer, json={"attendees": attendees})
    me = next((a for a in updated.get("attendees") or [] if isinstance(a, dict) and a.get("self")), {})
    return {**shape_event(updated, calendar), "response_status": me.get("responseStatus", answer)}
