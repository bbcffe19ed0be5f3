"""Unit tests of GetEvent, QuickAddEvent, RespondToEvent and FindFreeSlots with attendees, and of every
GoogleCalendar request and fixture against Calendar v3's discovery document (tests/toolkits/google_discovery:
events.get / quickAdd / patch, freebusy.query; schemas Event, Events, CalendarList, FreeBusyResponse).

Reference pages: https://developers.google.com/workspace/calendar/api/v3/reference/events (Event resource,
attendees[].self / responseStatus / comment, hangoutLink, conferenceData.entryPoints, recurrence) and
https://developers.google.com/workspace/calendar/api/v3/reference/freebusy/query.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from mcp_server import ToolExecutionError, UpstreamError
from tests.toolkits.google_calendar.test_tools import (
    CALENDAR_LIST,
    CALENDAR_LIST_READONLY,
    EVENT_ALL_DAY,
    EVENT_REVIEW,
    EVENTS,
    EVENTS_READONLY,
    FREE_BUSY,
    FREEBUSY,
    SHAPED_REVIEW,
    Recorder,
    assert_authorized,
    events_page,
    make_context,
    query,
)
from tests.toolkits.google_discovery import assert_documented, assert_shape
from toolkits.google_calendar import (
    create_event,
    delete_event,
    find_free_slots,
    get_event,
    list_calendars,
    list_events,
    quick_add_event,
    respond_to_event,
    update_event,
)

pytestmark = pytest.mark.anyio

# An invitation on Bob's calendar: he is an attendee (self), Alice organizes; a Meet link and a weekly rule.
INVITATION = {
    **EVENT_REVIEW,
    "organizer": {"email": "alice@example.com"},
    "creator": {"email": "alice@example.com"},
    "attendees": [
        {"email": "alice@example.com", "organizer": True, "responseStatus": "accepted"},
        {"email": "bob@example.com", "self": True, "responseStatus": "needsAction"},
        {"email": "carol@example.com", "optional": True, "responseStatus": "tentative", "comment": "May be late"},
    ],
    "conferenceData": {
        "entryPoints": [
            {"entryPointType": "phone", "uri": "tel:+1-555-0100"},
            {
                "entryPointType": "video",
                "uri": "https://meet.google.com/abc-defg-hij",
                "label": "meet.google.com/abc-defg-hij",
            },
        ],
        "conferenceId": "abc-defg-hij",
    },
    "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TU"],
}
QUICK_ADDED = {
    **EVENT_ALL_DAY,
    "id": "q1ck4dd3d",
    "summary": "Dentist",
    "start": {"dateTime": "2026-12-04T15:00:00+01:00"},
    "end": {"dateTime": "2026-12-04T16:00:00+01:00"},
}
FREE_BUSY_TEAM = {
    **FREE_BUSY,
    "calendars": {
        **FREE_BUSY["calendars"],
        "bob@example.com": {"busy": [{"start": "2026-12-01T14:00:00Z", "end": "2026-12-01T15:30:00Z"}]},
        "ext@other.example": {"busy": [], "errors": [{"domain": "global", "reason": "notFound"}]},
    },
}


def test_fixtures_follow_the_discovery_schemas() -> None:
    for fixture, schema in (
        (CALENDAR_LIST, "CalendarList"),
        (EVENT_REVIEW, "Event"),
        (EVENT_ALL_DAY, "Event"),
        (INVITATION, "Event"),
        (QUICK_ADDED, "Event"),
        (events_page([EVENT_REVIEW], "t"), "Events"),
        (FREE_BUSY, "FreeBusyResponse"),
        (FREE_BUSY_TEAM, "FreeBusyResponse"),
    ):
        assert_shape(fixture, "calendar", schema)


async def test_get_event_adds_the_meeting_link_and_recurrence() -> None:
    recorder = Recorder(httpx2.Response(200, json=INVITATION))
    result = await get_event(make_context(recorder, EVENTS_READONLY), event_id=INVITATION["id"])
    [request] = recorder.requests
    assert_documented(request, "calendar", "events.get", (EVENTS_READONLY,))
    assert request.url.path == f"/calendars/primary/events/{INVITATION['id']}" and query(request) == {}
    assert_authorized(request)
    assert result["meeting_link"] == "https://meet.google.com/abc-defg-hij"
    assert result["recurrence"] == ["RRULE:FREQ=WEEKLY;BYDAY=TU"] and result["recurring_event_id"] is None
    assert result["attendees"][1] == {"email": "bob@example.com", "response_status": "needsAction"}


async def test_quick_add_event_sends_the_text_as_a_query_parameter() -> None:
    recorder = Recorder(httpx2.Response(200, json=QUICK_ADDED))
    result = await quick_add_event(make_context(recorder, EVENTS), text=" Dentist Friday 3pm ")
    [request] = recorder.requests
    assert_documented(request, "calendar", "events.quickAdd", (EVENTS,))
    assert (request.method, request.url.path) == ("POST", "/calendars/primary/events/quickAdd")
    assert query(request) == {"text": "Dentist Friday 3pm", "sendUpdates": "none"}
    assert request.content == b""
    assert (result["id"], result["start"], result["all_day"]) == ("q1ck4dd3d", "2026-12-04T15:00:00+01:00", False)


async def test_respond_to_event_changes_only_the_user_s_answer() -> None:
    def patched(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={**INVITATION, "attendees": json.loads(request.content)["attendees"]})

    recorder = Recorder(httpx2.Response(200, json=INVITATION), patched)
    result = await respond_to_event(
        make_context(recorder, EVENTS),
        event_id=INVITATION["id"],
        response="Accepted",
        comment="See you there",
        notify_organizer=False,
    )
    get, patch = recorder.requests
    assert_documented(get, "calendar", "events.get", (EVENTS,))
    assert_documented(patch, "calendar", "events.patch", (EVENTS,))
    assert query(patch) == {"sendUpdates": "none"}
    assert json.loads(patch.content) == {
        "attendees": [
            {"email": "alice@example.com", "organizer": True, "responseStatus": "accepted"},
            {"email": "bob@example.com", "self": True, "responseStatus": "accepted", "comment": "See you there"},
            {"email": "carol@example.com", "optional": True, "responseStatus": "tentative", "comment": "May be late"},
        ]
    }
    assert result["response_status"] == "accepted"
    assert result["attendees"][1] == {"email": "bob@example.com", "response_status": "accepted"}


async def test_respond_to_event_refuses_an_event_without_the_user_as_guest() -> None:
    recorder = Recorder(httpx2.Response(200, json=EVENT_ALL_DAY))
    with pytest.raises(ToolExecutionError, match="not on the guest list"):
        await respond_to_event(make_context(recorder, EVENTS), event_id=EVENT_ALL_DAY["id"], response="declined")
    assert len(recorder.requests) == 1


async def test_find_free_slots_for_attendees_merges_their_busy_times() -> None:
    recorder = Recorder(httpx2.Response(200, json=FREE_BUSY_TEAM))
    result = await find_free_slots(
        make_context(recorder, FREEBUSY),
        start="2026-12-01T09:00:00+01:00",
        end="2026-12-01T18:00:00+01:00",
        attendee_emails=["Bob@example.com", "ext@other.example"],
    )
    [request] = recorder.requests
    assert_documented(request, "calendar", "freebusy.query", (FREEBUSY,))
    assert json.loads(request.content)["items"] == [
        {"id": "primary"},
        {"id": "Bob@example.com"},
        {"id": "ext@other.example"},
    ]
    # The user's busy times (UTC+1): 09-10, 11:30-13:00, 13:20-14:00; Bob: 15:00-16:30.
    assert result["free_slots"] == [
        {"start": "2026-12-01T10:00:00+01:00", "end": "2026-12-01T11:30:00+01:00", "duration_minutes": 90},
        {"start": "2026-12-01T14:00:00+01:00", "end": "2026-12-01T15:00:00+01:00", "duration_minutes": 60},
        {"start": "2026-12-01T16:30:00+01:00", "end": "2026-12-01T18:00:00+01:00", "duration_minutes": 90},
    ]
    assert result["unavailable"] == [{"email": "ext@other.example", "reason": "notFound"}]
    assert len(result["busy"]) == 5


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        (get_event, {"event_id": " "}, "event_id is empty"),
        (quick_add_event, {"text": ""}, "text is empty"),
        (quick_add_event, {"text": "x" * 1001}, "keep it under 1000"),
        (respond_to_event, {"event_id": "e1", "response": "maybe"}, "not one of accepted, declined, tentative"),
        (respond_to_event, {"event_id": "e1", "response": "declined", "calendar_id": ""}, "calendar_id is empty"),
        (
            find_free_slots,
            {"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T18:00:00Z", "attendee_emails": ["x"]},
            "is not an email address",
        ),
        (
            find_free_slots,
            {
                "start": "2026-12-01T09:00:00Z",
                "end": "2026-12-01T18:00:00Z",
                "attendee_emails": [f"p{i}@example.com" for i in range(50)],
            },
            "at most 49",
        ),
    ],
)
async def test_bad_input_is_refused_before_any_request(tool: Any, arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await tool(make_context(recorder, EVENTS, FREEBUSY), **arguments)
    assert recorder.requests == []


async def test_a_missing_event_is_named() -> None:
    with pytest.raises(UpstreamError, match="the event 'gone1' in calendar 'primary' was not found"):
        await respond_to_event(
            make_context(Recorder(httpx2.Response(404)), EVENTS), event_id="gone1", response="accepted"
        )


async def test_the_first_tools_send_documented_requests() -> None:
    window = {"min_datetime": "2026-12-01T00:00:00Z", "max_datetime": "2026-12-02T00:00:00Z"}
    times = {"start_datetime": "2026-12-01T09:00:00Z", "end_datetime": "2026-12-01T10:00:00Z"}
    calls = [
        (list_calendars, {}, CALENDAR_LIST_READONLY, CALENDAR_LIST, "calendarList.list"),
        (list_events, window, EVENTS_READONLY, events_page([EVENT_REVIEW], None), "events.list"),
        (create_event, {"summary": "x", **times}, EVENTS, EVENT_REVIEW, "events.insert"),
        (update_event, {"event_id": "e1", "summary": "y"}, EVENTS, EVENT_REVIEW, "events.patch"),
        (delete_event, {"event_id": "e1"}, EVENTS, None, "events.delete"),
    ]
    for tool, arguments, scope, answer, method_id in calls:
        recorder = Recorder(httpx2.Response(204) if answer is None else httpx2.Response(200, json=answer))
        result = await tool(make_context(recorder, scope), **arguments)
        assert_documented(recorder.requests[0], "calendar", method_id, (scope,))
        if tool is create_event:
            assert result == SHAPED_REVIEW
