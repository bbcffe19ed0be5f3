"""Unit tests of the GoogleCalendar toolkit against a stand-in of the Google Calendar API v3.

Google's reference pages document each response as a resource representation (field names, types, and which
are read-only) rather than a literal sample; the fixtures below fill those documented shapes with plausible
values, and each cites the page it follows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from mcp_server import (
    ToolAuthorization,
    ToolContext,
    ToolExecutionError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
)
from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry
from toolkits.google_calendar import (
    create_event,
    delete_event,
    find_free_slots,
    list_calendars,
    list_events,
    update_event,
)

pytestmark = pytest.mark.anyio

TOKEN = "tok-google_calendar-1"
BASE = "https://api.test"
CALENDAR_LIST_READONLY = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
EVENTS_READONLY = "https://www.googleapis.com/auth/calendar.events.readonly"
EVENTS = "https://www.googleapis.com/auth/calendar.events"
FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"

# calendarList.list response ("kind": "calendar#calendarList", etag, nextPageToken/nextSyncToken, items[] of
# CalendarList resources): https://developers.google.com/workspace/calendar/api/v3/reference/calendarList/list
# CalendarList resource fields: https://developers.google.com/workspace/calendar/api/v3/reference/calendarList
CALENDAR_LIST = {
    "kind": "calendar#calendarList",
    "etag": '"p33k9lxfsdbbr60g"',
    "nextSyncToken": "CJDd4cnv0YkDEhphbGljZUBleGFtcGxlLmNvbQ==",
    "items": [
        {
            "kind": "calendar#calendarListEntry",
            "etag": '"1732435200000000"',
            "id": "alice@example.com",
            "summary": "alice@example.com",
            "timeZone": "Europe/Paris",
            "colorId": "14",
            "backgroundColor": "#9fe1e7",
            "foregroundColor": "#000000",
            "selected": True,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "notificationSettings": {"notifications": [{"type": "eventCreation", "method": "email"}]},
            "primary": True,
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        },
        {
            "kind": "calendar#calendarListEntry",
            "etag": '"1732435200000001"',
            "id": "en.usa#holiday@group.v.calendar.google.com",
            "summary": "Holidays in United States",
            "description": "Holidays and Observances in United States",
            "timeZone": "Europe/Paris",
            "colorId": "8",
            "backgroundColor": "#16a765",
            "foregroundColor": "#000000",
            "selected": True,
            "accessRole": "reader",
            "defaultReminders": [],
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        },
    ],
}

# An Event resource (start/end as {dateTime, timeZone} or {date} for all-day events, attendees[] with email and
# responseStatus, htmlLink, organizer): https://developers.google.com/workspace/calendar/api/v3/reference/events
EVENT_REVIEW = {
    "kind": "calendar#event",
    "etag": '"3426789012345000"',
    "id": "7cbh8rpc10lrc0ckih9tafss99",
    "status": "confirmed",
    "htmlLink": "https://www.google.com/calendar/event?eid=N2NiaDhycGMxMGxyYzBja2loOXRhZnNzOTkgYWxpY2VAZXhhbXBsZS5jb20",
    "created": "2026-11-20T10:00:00.000Z",
    "updated": "2026-11-20T10:05:00.000Z",
    "summary": "Project review",
    "description": "Agenda:<br>1. Status<br>2. Risks &amp; next steps",
    "location": "Room 4.2",
    "creator": {"email": "alice@example.com", "self": True},
    "organizer": {"email": "alice@example.com", "self": True},
    "start": {"dateTime": "2026-12-01T09:00:00+01:00", "timeZone": "Europe/Paris"},
    "end": {"dateTime": "2026-12-01T10:00:00+01:00", "timeZone": "Europe/Paris"},
    "iCalUID": "7cbh8rpc10lrc0ckih9tafss99@google.com",
    "sequence": 0,
    "attendees": [
        {"email": "alice@example.com", "organizer": True, "self": True, "responseStatus": "accepted"},
        {"email": "bob@example.com", "responseStatus": "needsAction"},
    ],
    "reminders": {"useDefault": True},
    "eventType": "default",
}
EVENT_ALL_DAY = {
    "kind": "calendar#event",
    "etag": '"3426789012346000"',
    "id": "0q3lc5sd7n9pqa6a1ob5ohdmfs",
    "status": "confirmed",
    "htmlLink": "https://www.google.com/calendar/event?eid=MHEzbGM1c2Q3bjlwcWE2YTFvYjVvaGRtZnMgYWxpY2VAZXhhbXBsZS5jb20",
    "summary": "Team offsite",
    "organizer": {"email": "alice@example.com", "self": True},
    "start": {"date": "2026-12-02"},
    "end": {"date": "2026-12-03"},
    "transparency": "transparent",
    "iCalUID": "0q3lc5sd7n9pqa6a1ob5ohdmfs@google.com",
    "reminders": {"useDefault": False},
    "eventType": "default",
}


def events_page(items: list[dict[str, Any]], next_page_token: str | None) -> dict[str, Any]:
    """An events.list response ("kind": "calendar#events", summary, timeZone, accessRole, nextPageToken or
    nextSyncToken, items[]): https://developers.google.com/workspace/calendar/api/v3/reference/events/list"""
    page: dict[str, Any] = {
        "kind": "calendar#events",
        "etag": '"p32of7n7nmhqr60g"',
        "summary": "alice@example.com",
        "description": "",
        "updated": "2026-11-20T10:05:00.000Z",
        "timeZone": "Europe/Paris",
        "accessRole": "owner",
        "defaultReminders": [{"method": "popup", "minutes": 10}],
        "items": items,
    }
    if next_page_token:
        page["nextPageToken"] = next_page_token
    else:
        page["nextSyncToken"] = "CPjRsL3v0YkDEPjRsL3v0YkDGAUgnvjP8QIonvjP8QI="
    return page


# freebusy.query response ("kind": "calendar#freeBusy", timeMin, timeMax, calendars.{id}.busy[] of {start, end},
# errors[]): https://developers.google.com/workspace/calendar/api/v3/reference/freebusy/query
FREE_BUSY = {
    "kind": "calendar#freeBusy",
    "timeMin": "2026-12-01T08:00:00.000Z",
    "timeMax": "2026-12-01T17:00:00.000Z",
    "calendars": {
        "primary": {
            "busy": [
                {"start": "2026-12-01T08:00:00Z", "end": "2026-12-01T09:00:00Z"},
                {"start": "2026-12-01T10:30:00Z", "end": "2026-12-01T11:00:00Z"},
                {"start": "2026-12-01T10:45:00Z", "end": "2026-12-01T12:00:00Z"},
                {"start": "2026-12-01T12:20:00Z", "end": "2026-12-01T13:00:00Z"},
            ]
        }
    },
}


Handler = Callable[[httpx2.Request], httpx2.Response]


class Recorder:
    def __init__(self, *responses: httpx2.Response | Handler):
        self.requests: list[httpx2.Request] = []
        self._responses = list(responses)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        response = self._responses.pop(0)
        return response(request) if callable(response) else response


def make_context(recorder: Recorder, *scopes: str) -> ToolContext:
    return ToolContext(
        user_id="u1",
        authorization=ToolAuthorization(provider_id="google", token=TOKEN, scopes=scopes),
        http=httpx2.AsyncClient(transport=httpx2.MockTransport(recorder)),
        settings={"api_base_url": BASE},
    )


def query(request: httpx2.Request) -> dict[str, str]:
    return dict(request.url.params.multi_items())


def assert_authorized(request: httpx2.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


SHAPED_REVIEW = {
    "id": "7cbh8rpc10lrc0ckih9tafss99",
    "calendar_id": "primary",
    "summary": "Project review",
    "start": "2026-12-01T09:00:00+01:00",
    "end": "2026-12-01T10:00:00+01:00",
    "all_day": False,
    "location": "Room 4.2",
    "description": "Agenda:\n1. Status\n2. Risks & next steps",
    "status": "confirmed",
    "organizer": "alice@example.com",
    "attendees": [
        {"email": "alice@example.com", "response_status": "accepted"},
        {"email": "bob@example.com", "response_status": "needsAction"},
    ],
    "html_link": EVENT_REVIEW["htmlLink"],
}


# --- ListCalendars -------------------------------------------------------------------------------------------


async def test_list_calendars_sends_the_documented_request_and_shapes_entries() -> None:
    recorder = Recorder(httpx2.Response(200, json=CALENDAR_LIST))
    result = await list_calendars(make_context(recorder, CALENDAR_LIST_READONLY))

    [request] = recorder.requests
    assert request.method == "GET"
    assert request.url.host == "api.test"
    assert request.url.path == "/users/me/calendarList"
    assert query(request) == {"maxResults": "250"}
    assert_authorized(request)
    assert result == {
        "calendars": [
            {
                "id": "alice@example.com",
                "summary": "alice@example.com",
                "description": None,
                "time_zone": "Europe/Paris",
                "access_role": "owner",
                "primary": True,
            },
            {
                "id": "en.usa#holiday@group.v.calendar.google.com",
                "summary": "Holidays in United States",
                "description": "Holidays and Observances in United States",
                "time_zone": "Europe/Paris",
                "access_role": "reader",
                "primary": False,
            },
        ]
    }
    json.dumps(result)


async def test_list_calendars_follows_next_page_token() -> None:
    first = {**CALENDAR_LIST, "items": CALENDAR_LIST["items"][:1], "nextPageToken": "page-2"}
    del first["nextSyncToken"]
    second = {**CALENDAR_LIST, "items": CALENDAR_LIST["items"][1:]}
    recorder = Recorder(httpx2.Response(200, json=first), httpx2.Response(200, json=second))
    result = await list_calendars(make_context(recorder, CALENDAR_LIST_READONLY))
    assert [c["id"] for c in result["calendars"]] == ["alice@example.com", "en.usa#holiday@group.v.calendar.google.com"]
    assert [query(r) for r in recorder.requests] == [
        {"maxResults": "250"},
        {"maxResults": "250", "pageToken": "page-2"},
    ]


# --- ListEvents ----------------------------------------------------------------------------------------------


async def test_list_events_follows_two_pages_and_shapes_events() -> None:
    recorder = Recorder(
        httpx2.Response(200, json=events_page([EVENT_REVIEW], "token-page-2")),
        httpx2.Response(200, json=events_page([EVENT_ALL_DAY], None)),
    )
    result = await list_events(
        make_context(recorder, EVENTS_READONLY),
        min_datetime="2026-12-01T00:00:00+01:00",
        max_datetime="2026-12-08T00:00:00+01:00",
        max_results=10,
    )

    first, second = recorder.requests
    for request in (first, second):
        assert request.method == "GET"
        assert request.url.path == "/calendars/primary/events"
        assert_authorized(request)
    common = {
        "timeMin": "2026-12-01T00:00:00+01:00",
        "timeMax": "2026-12-08T00:00:00+01:00",
        "singleEvents": "true",
        "orderBy": "startTime",
    }
    assert query(first) == {**common, "maxResults": "10"}
    assert query(second) == {**common, "maxResults": "9", "pageToken": "token-page-2"}
    assert result == {
        "calendar_id": "primary",
        "events": [
            SHAPED_REVIEW,
            {
                "id": "0q3lc5sd7n9pqa6a1ob5ohdmfs",
                "calendar_id": "primary",
                "summary": "Team offsite",
                "start": "2026-12-02",
                "end": "2026-12-03",
                "all_day": True,
                "location": None,
                "description": None,
                "status": "confirmed",
                "organizer": "alice@example.com",
                "attendees": [],
                "html_link": EVENT_ALL_DAY["htmlLink"],
            },
        ],
        "more_available": False,
    }


async def test_list_events_stops_at_max_results_and_says_more_are_available() -> None:
    recorder = Recorder(httpx2.Response(200, json=events_page([EVENT_REVIEW], "token-page-2")))
    result = await list_events(
        make_context(recorder, EVENTS_READONLY),
        min_datetime="2026-12-01T00:00:00Z",
        max_datetime="2026-12-02T00:00:00Z",
        calendar_id="en.usa#holiday@group.v.calendar.google.com",
        max_results=1,
    )
    [request] = recorder.requests
    assert request.url.raw_path.startswith(b"/calendars/en.usa%23holiday@group.v.calendar.google.com/events?")
    assert query(request)["maxResults"] == "1"
    assert [e["id"] for e in result["events"]] == ["7cbh8rpc10lrc0ckih9tafss99"]
    assert result["more_available"] is True
    assert result["calendar_id"] == "en.usa#holiday@group.v.calendar.google.com"


async def test_list_events_gives_the_zone_to_a_date_time_google_sends_without_offset() -> None:
    event = {**EVENT_REVIEW, "start": {"dateTime": "2026-12-01T09:00:00", "timeZone": "America/New_York"}}
    recorder = Recorder(httpx2.Response(200, json=events_page([event], None)))
    result = await list_events(
        make_context(recorder, EVENTS_READONLY),
        min_datetime="2026-12-01T00:00:00Z",
        max_datetime="2026-12-02T00:00:00Z",
    )
    assert result["events"][0]["start"] == "2026-12-01T09:00:00-05:00"


# --- CreateEvent ---------------------------------------------------------------------------------------------


async def test_create_event_posts_the_event_and_returns_it_shaped() -> None:
    recorder = Recorder(httpx2.Response(200, json=EVENT_REVIEW))
    result = await create_event(
        make_context(recorder, EVENTS),
        summary="Project review",
        start_datetime="2026-12-01T09:00:00+01:00",
        end_datetime="2026-12-01T10:00:00+01:00",
        attendee_emails=[" bob@example.com", "BOB@example.com"],
        description="Agenda",
        location="Room 4.2",
    )
    [request] = recorder.requests
    assert request.method == "POST"
    assert request.url.path == "/calendars/primary/events"
    assert query(request) == {"sendUpdates": "all"}
    assert_authorized(request)
    assert json.loads(request.content) == {
        "summary": "Project review",
        "start": {"dateTime": "2026-12-01T09:00:00+01:00"},
        "end": {"dateTime": "2026-12-01T10:00:00+01:00"},
        "description": "Agenda",
        "location": "Room 4.2",
        "attendees": [{"email": "bob@example.com"}],
    }
    assert result == SHAPED_REVIEW


async def test_create_event_without_notifications_and_optional_fields() -> None:
    recorder = Recorder(httpx2.Response(200, json=EVENT_REVIEW))
    await create_event(
        make_context(recorder, EVENTS),
        summary="Focus",
        start_datetime="2026-12-01T08:00:00Z",
        end_datetime="2026-12-01T09:00:00Z",
        calendar_id="team@example.com",
        notify_attendees=False,
    )
    [request] = recorder.requests
    assert request.url.path == "/calendars/team@example.com/events"
    assert query(request) == {"sendUpdates": "none"}
    assert json.loads(request.content) == {
        "summary": "Focus",
        "start": {"dateTime": "2026-12-01T08:00:00+00:00"},
        "end": {"dateTime": "2026-12-01T09:00:00+00:00"},
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start_datetime": "2026-12-01T09:00:00"}, "has no time zone"),
        ({"start_datetime": "2026-12-01"}, "has no time zone"),
        ({"start_datetime": "tomorrow at 9"}, "is not an ISO 8601 date-time"),
        ({"end_datetime": "2026-12-01T08:00:00+01:00"}, "must be after start_datetime"),
        ({"end_datetime": "2026-12-01T09:00:00+01:00"}, "must be after start_datetime"),
        ({"attendee_emails": [""]}, "is empty"),
        ({"attendee_emails": ["bob at example.com"]}, "not an email address"),
        ({"summary": "  "}, "summary is empty"),
        ({"calendar_id": ""}, "calendar_id is empty"),
    ],
)
async def test_create_event_refuses_bad_input_without_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    valid = {
        "summary": "Review",
        "start_datetime": "2026-12-01T09:00:00+01:00",
        "end_datetime": "2026-12-01T10:00:00+01:00",
    }
    with pytest.raises(ToolExecutionError, match=message) as caught:
        await create_event(make_context(recorder, EVENTS), **{**valid, **arguments})
    assert recorder.requests == []
    if "time zone" in message:
        assert "2026-12-01T09:00:00+01:00" in str(caught.value)


# --- UpdateEvent ---------------------------------------------------------------------------------------------


async def test_update_event_patches_only_the_given_fields() -> None:
    recorder = Recorder(httpx2.Response(200, json=EVENT_REVIEW))
    result = await update_event(
        make_context(recorder, EVENTS),
        event_id="7cbh8rpc10lrc0ckih9tafss99",
        start_datetime="2026-12-01T09:00:00+01:00",
        end_datetime="2026-12-01T10:00:00+01:00",
        attendee_emails=["alice@example.com", "bob@example.com"],
    )
    [request] = recorder.requests
    assert request.method == "PATCH"
    assert request.url.path == "/calendars/primary/events/7cbh8rpc10lrc0ckih9tafss99"
    assert query(request) == {"sendUpdates": "all"}
    assert_authorized(request)
    assert json.loads(request.content) == {
        "start": {"dateTime": "2026-12-01T09:00:00+01:00"},
        "end": {"dateTime": "2026-12-01T10:00:00+01:00"},
        "attendees": [{"email": "alice@example.com"}, {"email": "bob@example.com"}],
    }
    assert result == SHAPED_REVIEW


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "Nothing to change"),
        ({"event_id": " "}, "event_id is empty"),
        ({"summary": ""}, "summary is empty"),
        ({"start_datetime": "2026-12-01T10:00:00"}, "has no time zone"),
        ({"start_datetime": "2026-12-01T10:00:00Z", "end_datetime": "2026-12-01T09:00:00Z"}, "must be after"),
        ({"attendee_emails": ["alice@"]}, "not an email address"),
    ],
)
async def test_update_event_refuses_bad_input_without_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await update_event(make_context(recorder, EVENTS), **{"event_id": "abc", **arguments})
    assert recorder.requests == []


# --- DeleteEvent ---------------------------------------------------------------------------------------------


async def test_delete_event_sends_delete_and_reports_it() -> None:
    # events.delete: "If successful, this method returns an empty response body."
    # https://developers.google.com/workspace/calendar/api/v3/reference/events/delete
    recorder = Recorder(httpx2.Response(204))
    result = await delete_event(
        make_context(recorder, EVENTS),
        event_id="7cbh8rpc10lrc0ckih9tafss99",
        calendar_id="alice@example.com",
        notify_attendees=False,
    )
    [request] = recorder.requests
    assert request.method == "DELETE"
    assert request.url.path == "/calendars/alice@example.com/events/7cbh8rpc10lrc0ckih9tafss99"
    assert query(request) == {"sendUpdates": "none"}
    assert_authorized(request)
    assert result == {"deleted": True, "event_id": "7cbh8rpc10lrc0ckih9tafss99", "calendar_id": "alice@example.com"}


async def test_delete_event_refuses_an_empty_id() -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match="event_id is empty"):
        await delete_event(make_context(recorder, EVENTS), event_id="")
    assert recorder.requests == []


# --- FindFreeSlots -------------------------------------------------------------------------------------------


async def test_find_free_slots_queries_free_busy_and_computes_the_gaps() -> None:
    recorder = Recorder(httpx2.Response(200, json=FREE_BUSY))
    result = await find_free_slots(
        make_context(recorder, FREEBUSY),
        start="2026-12-01T09:00:00+01:00",
        end="2026-12-01T18:00:00+01:00",
        duration_minutes=30,
    )
    [request] = recorder.requests
    assert request.method == "POST"
    assert request.url.path == "/freeBusy"
    assert query(request) == {}
    assert_authorized(request)
    assert json.loads(request.content) == {
        "timeMin": "2026-12-01T09:00:00+01:00",
        "timeMax": "2026-12-01T18:00:00+01:00",
        "items": [{"id": "primary"}],
    }
    # busy (UTC+1): 09:00-10:00, 11:30-12:00, 11:45-13:00, 13:20-14:00; the 20-minute gap is too short.
    assert result["free_slots"] == [
        {"start": "2026-12-01T10:00:00+01:00", "end": "2026-12-01T11:30:00+01:00", "duration_minutes": 90},
        {"start": "2026-12-01T14:00:00+01:00", "end": "2026-12-01T18:00:00+01:00", "duration_minutes": 240},
    ]
    assert result["busy"][0] == {"start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T10:00:00+01:00"}
    assert len(result["busy"]) == 4


async def test_find_free_slots_reports_a_calendar_error_from_the_answer() -> None:
    answer = {
        **FREE_BUSY,
        "calendars": {"primary": {"busy": [], "errors": [{"domain": "global", "reason": "internalError"}]}},
    }
    recorder = Recorder(httpx2.Response(200, json=answer))
    with pytest.raises(ToolExecutionError, match="internalError"):
        await find_free_slots(
            make_context(recorder, FREEBUSY), start="2026-12-01T09:00:00Z", end="2026-12-01T17:00:00Z"
        )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start": "2026-12-01T09:00:00"}, "has no time zone"),
        ({"end": "2026-12-01T08:00:00+01:00"}, "must be after start"),
        ({"duration_minutes": 0}, "at least 1"),
        ({"duration_minutes": 600}, "longer than the window"),
        ({"end": "2027-03-01T09:00:00+01:00"}, "longer than 62 days"),
    ],
)
async def test_find_free_slots_refuses_bad_input_without_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    valid = {"start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T18:00:00+01:00", "duration_minutes": 30}
    with pytest.raises(ToolExecutionError, match=message):
        await find_free_slots(make_context(recorder, FREEBUSY), **{**valid, **arguments})
    assert recorder.requests == []


async def test_list_events_refuses_bad_input_without_any_request() -> None:
    recorder = Recorder()
    context = make_context(recorder, EVENTS_READONLY)
    with pytest.raises(ToolExecutionError, match="has no time zone"):
        await list_events(context, min_datetime="2026-12-01T00:00:00", max_datetime="2026-12-02T00:00:00Z")
    with pytest.raises(ToolExecutionError, match="must be after min_datetime"):
        await list_events(context, min_datetime="2026-12-02T00:00:00Z", max_datetime="2026-12-01T00:00:00Z")
    with pytest.raises(ToolExecutionError, match="from 1 to 250"):
        await list_events(
            context, min_datetime="2026-12-01T00:00:00Z", max_datetime="2026-12-02T00:00:00Z", max_results=0
        )
    assert recorder.requests == []


# --- Upstream errors -----------------------------------------------------------------------------------------


async def test_401_becomes_upstream_auth_error() -> None:
    recorder = Recorder(httpx2.Response(401, json={"error": {"code": 401, "message": "Invalid Credentials"}}))
    with pytest.raises(UpstreamAuthError):
        await list_calendars(make_context(recorder, CALENDAR_LIST_READONLY))


async def test_404_names_the_event() -> None:
    recorder = Recorder(httpx2.Response(404, json={"error": {"code": 404, "message": "Not Found"}}))
    with pytest.raises(UpstreamError, match="the event 'gone1' in calendar 'primary' was not found") as caught:
        await delete_event(make_context(recorder, EVENTS), event_id="gone1")
    assert caught.value.status_code == 404


async def test_404_names_the_calendar() -> None:
    recorder = Recorder(httpx2.Response(404))
    with pytest.raises(UpstreamError, match=r"the calendar 'nope@example\.com' was not found"):
        await list_events(
            make_context(recorder, EVENTS_READONLY),
            min_datetime="2026-12-01T00:00:00Z",
            max_datetime="2026-12-02T00:00:00Z",
            calendar_id="nope@example.com",
        )


async def test_403_is_a_clear_refusal() -> None:
    recorder = Recorder(httpx2.Response(403))
    with pytest.raises(UpstreamError, match="refused access to the calendar 'primary'"):
        await create_event(
            make_context(recorder, EVENTS),
            summary="x",
            start_datetime="2026-12-01T09:00:00Z",
            end_datetime="2026-12-01T10:00:00Z",
        )


async def test_429_is_retryable_with_the_wait() -> None:
    recorder = Recorder(httpx2.Response(429, headers={"Retry-After": "17"}))
    with pytest.raises(UpstreamRateLimitError) as caught:
        await find_free_slots(
            make_context(recorder, FREEBUSY), start="2026-12-01T09:00:00Z", end="2026-12-01T17:00:00Z"
        )
    assert caught.value.retry_after == 17.0
    assert "free/busy information for the primary calendar" in str(caught.value)


# --- Catalog -------------------------------------------------------------------------------------------------


READS = {"readOnlyHint": True, "idempotentHint": True, "openWorldHint": True}


def writes(*, destructive: bool, idempotent: bool) -> dict[str, bool]:
    return {"readOnlyHint": False, "destructiveHint": destructive, "idempotentHint": idempotent, "openWorldHint": True}


def test_catalog_loads_every_tool_with_names_narrowest_scopes_and_annotations() -> None:
    catalog = load_catalog(["toolkits.google_calendar"], ProviderRegistry({}))
    expected = {
        "GoogleCalendar_ListCalendars": ((CALENDAR_LIST_READONLY,), READS),
        "GoogleCalendar_ListEvents": ((EVENTS_READONLY,), READS),
        "GoogleCalendar_GetEvent": ((EVENTS_READONLY,), READS),
        "GoogleCalendar_FindFreeSlots": ((FREEBUSY,), READS),
        "GoogleCalendar_CreateEvent": ((EVENTS,), writes(destructive=False, idempotent=False)),
        "GoogleCalendar_QuickAddEvent": ((EVENTS,), writes(destructive=False, idempotent=False)),
        "GoogleCalendar_UpdateEvent": ((EVENTS,), writes(destructive=True, idempotent=True)),
        "GoogleCalendar_RespondToEvent": ((EVENTS,), writes(destructive=False, idempotent=True)),
        "GoogleCalendar_DeleteEvent": ((EVENTS,), writes(destructive=True, idempotent=True)),
    }
    for name, (scopes, hints) in expected.items():
        definition = catalog.get(name)
        assert definition is not None, name
        assert definition.requirement is not None
        assert definition.requirement.id == "google"
        assert tuple(definition.requirement.scopes) == scopes
        assert definition.hints == hints and definition.title, name
        assert definition.api_name == name.replace("_", ".")
        schema = definition.input_schema
        assert "context" not in schema.get("properties", {})
        for prop in schema.get("properties", {}).values():
            assert prop.get("description"), (name, prop)
    assert sorted(d.mcp_name for d in catalog) == sorted(expected)
