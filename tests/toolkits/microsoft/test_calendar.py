"""The Microsoft toolkit's Outlook calendar tools against a stand-in of Microsoft Graph (graph_examples.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx2
import pytest

from mcp_server import ToolContext, ToolExecutionError, UpstreamError
from tests.toolkits.microsoft.graph_examples import BASE, EVENT, PICNIC, SCHEDULE
from tests.toolkits.recorder import Recorder, body_of, context_for
from toolkits.microsoft import create_event, delete_event, get_free_busy, list_events, update_event

pytestmark = pytest.mark.anyio

TOKEN = "tok-graph-1"
PREFER_UTC = 'outlook.timezone="UTC"'
EVENT_FIELDS = (
    "id,subject,start,end,isAllDay,location,organizer,attendees,bodyPreview,showAs,isCancelled,"
    "isOnlineMeeting,onlineMeeting,webLink"
)

SHAPED_BRUNCH = {
    "id": "AAMkAGI1AAAt9AHjAAA=",
    "subject": "Let's go brunch",
    "start": "2017-04-15T18:00:00+00:00",
    "end": "2017-04-15T19:00:00+00:00",
    "is_all_day": False,
    "location": "Harry's Bar",
    "organizer": "Dana Swope <danas@contoso.onmicrosoft.com>",
    "attendees": [{"email": "Samantha Booth <samanthab@contoso.onmicrosoft.com>", "response": "none"}],
    "preview": "Does late morning work for you?",
    "show_as": "busy",
    "is_cancelled": False,
    "online_meeting_url": None,
    "web_link": EVENT["webLink"],
}


def make_context(recorder: Recorder) -> ToolContext:
    return context_for(recorder, provider_id="microsoft", token=TOKEN, settings={"api_base_url": BASE})


async def test_list_events_asks_the_calendar_view_in_utc_and_follows_the_next_link() -> None:
    next_link = f"{BASE}/me/calendarView?startDateTime=2017-04-01T00:00:00Z&endDateTime=2017-09-01T00:00:00Z&$skip=1"
    recorder = Recorder(
        httpx2.Response(200, json={"value": [EVENT], "@odata.nextLink": next_link}),
        httpx2.Response(200, json={"value": [PICNIC]}),
    )
    result = await list_events(
        make_context(recorder), start="2017-04-01T02:00:00+02:00", end="2017-09-01T00:00:00Z", max_results=10
    )
    first, second = recorder.requests
    assert first.method == "GET" and first.url.path == "/v1.0/me/calendarView"
    assert dict(first.url.params) == {
        "startDateTime": "2017-04-01T00:00:00Z",
        "endDateTime": "2017-09-01T00:00:00Z",
        "$top": "10",
        "$select": EVENT_FIELDS,
        "$orderby": "start/dateTime",
    }
    for request in (first, second):
        assert request.headers["prefer"] == PREFER_UTC
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert str(second.url) == next_link
    assert result["count"] == 2 and result["truncated"] is False
    assert result["events"][0] == SHAPED_BRUNCH
    picnic = result["events"][1]
    assert picnic["start"] == "2017-08-30T18:00:00+00:00"
    assert picnic["online_meeting_url"] == PICNIC["onlineMeeting"]["joinUrl"]
    assert picnic["attendees"][1] == {"email": "Alex Wilber <AlexW@contoso.onmicrosoft.com>", "response": "accepted"}


async def test_list_events_defaults_to_the_next_seven_days() -> None:
    recorder = Recorder(httpx2.Response(200, json={"value": []}))
    assert await list_events(make_context(recorder)) == {"events": [], "count": 0, "truncated": False}
    params = recorder.only().url.params
    start = datetime.fromisoformat(params["startDateTime"])
    end = datetime.fromisoformat(params["endDateTime"])
    assert (end - start).days == 7


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"start": "tomorrow"}, "not an ISO 8601 time", id="words"),
        pytest.param({"start": "2030-01-01T10:00:00"}, "has no UTC offset", id="no-offset"),
        pytest.param({"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}, "must be later", id="reversed"),
        pytest.param(
            {"start": "2030-01-01T00:00:00Z", "end": "2032-01-01T00:00:00Z"}, "longer than 366 days", id="too-long"
        ),
        pytest.param({"max_results": 101}, "from 1 to 100", id="too-many"),
    ],
)
async def test_list_events_rejects_bad_input_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await list_events(make_context(recorder), **arguments)
    assert recorder.requests == []


async def test_create_event_sends_utc_times_attendees_and_a_text_body() -> None:
    recorder = Recorder(httpx2.Response(201, json=EVENT))
    result = await create_event(
        make_context(recorder),
        subject="Let's go brunch",
        start="2017-04-15T11:00:00",
        end="2017-04-15T12:00:00",
        timezone="America/Los_Angeles",
        attendees=["samanthab@contoso.onmicrosoft.com"],
        location="Harry's Bar",
        description="Does late morning work for you?",
        online_meeting=True,
    )
    request = recorder.only()
    assert request.method == "POST" and request.url.path == "/v1.0/me/events"
    assert request.headers["prefer"] == PREFER_UTC
    assert body_of(request) == {
        "subject": "Let's go brunch",
        "location": {"displayName": "Harry's Bar"},
        "body": {"contentType": "Text", "content": "Does late morning work for you?"},
        "attendees": [{"emailAddress": {"address": "samanthab@contoso.onmicrosoft.com"}, "type": "required"}],
        "start": {"dateTime": "2017-04-15T18:00:00", "timeZone": "UTC"},  # 11:00 PDT
        "end": {"dateTime": "2017-04-15T19:00:00", "timeZone": "UTC"},
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
    }
    assert result == SHAPED_BRUNCH


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"subject": " "}, "subject is empty", id="no-subject"),
        pytest.param({"end": ""}, "Both start and end are required", id="no-end"),
        pytest.param({"timezone": "Pacific Standard Time"}, "not an IANA time zone", id="windows-zone"),
        pytest.param({"timezone": None}, "has no UTC offset", id="no-zone"),
        pytest.param({"end": "2030-05-01T09:00:00"}, "must be later", id="reversed"),
        pytest.param({"attendees": ["nobody"]}, "not an email address", id="bad-attendee"),
    ],
)
async def test_create_event_rejects_bad_input_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    call = {
        "subject": "Plan",
        "start": "2030-05-01T10:00:00",
        "end": "2030-05-01T11:00:00",
        "timezone": "Europe/Paris",
        **arguments,
    }
    with pytest.raises(ToolExecutionError, match=message):
        await create_event(make_context(recorder), **call)
    assert recorder.requests == []


async def test_update_event_patches_only_the_fields_given() -> None:
    # event-update.md (Update event): PATCH with the changed properties, 200 with the event.
    recorder = Recorder(httpx2.Response(200, json=EVENT))
    result = await update_event(
        make_context(recorder), event_id="AAMkAGI1AAAt9AHjAAA=", start="2017-04-15T20:00:00+02:00", location="Cafe"
    )
    request = recorder.only()
    assert request.method == "PATCH" and request.url.path == "/v1.0/me/events/AAMkAGI1AAAt9AHjAAA="
    assert request.headers["prefer"] == PREFER_UTC
    assert body_of(request) == {
        "location": {"displayName": "Cafe"},
        "start": {"dateTime": "2017-04-15T18:00:00", "timeZone": "UTC"},
    }
    assert result["id"] == "AAMkAGI1AAAt9AHjAAA="


async def test_update_event_can_clear_the_attendees() -> None:
    recorder = Recorder(httpx2.Response(200, json=EVENT))
    await update_event(make_context(recorder), event_id="AAMkAGI1AAAt9AHjAAA=", attendees=[])
    assert body_of(recorder.only()) == {"attendees": []}


async def test_update_event_needs_a_change() -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match="Nothing to change"):
        await update_event(make_context(recorder), event_id="AAMkAGI1AAAt9AHjAAA=", subject=" ")
    assert recorder.requests == []


async def test_delete_event_sends_delete() -> None:
    # event-delete.md (Delete event): 204 No Content.
    recorder = Recorder(httpx2.Response(204))
    result = await delete_event(make_context(recorder), event_id="AAMkAGI1AAAt9AHjAAA=")
    request = recorder.only()
    assert request.method == "DELETE" and request.url.path == "/v1.0/me/events/AAMkAGI1AAAt9AHjAAA="
    assert result == {"event_id": "AAMkAGI1AAAt9AHjAAA=", "deleted": True}


async def test_delete_event_that_is_gone_names_it() -> None:
    recorder = Recorder(httpx2.Response(404, json={"error": {"code": "ErrorItemNotFound", "message": "..."}}))
    with pytest.raises(UpstreamError, match="the event AAMkAGI1AAAt9AHjAAA= was not found"):
        await delete_event(make_context(recorder), event_id="AAMkAGI1AAAt9AHjAAA=")


async def test_get_free_busy_posts_get_schedule_and_finds_common_free_slots() -> None:
    recorder = Recorder(httpx2.Response(200, json=SCHEDULE))
    result = await get_free_busy(
        make_context(recorder),
        attendees=[
            "adelev@contoso.onmicrosoft.com",
            "meganb@contoso.onmicrosoft.com",
            "nobody@contoso.onmicrosoft.com",
        ],
        start="2019-03-15T09:00:00-07:00",
        end="2019-03-15T18:00:00-07:00",
        min_slot_minutes=60,
    )
    request = recorder.only()
    assert request.method == "POST" and request.url.path == "/v1.0/me/calendar/getSchedule"
    assert request.headers["prefer"] == PREFER_UTC
    assert body_of(request) == {
        "schedules": [
            "adelev@contoso.onmicrosoft.com",
            "meganb@contoso.onmicrosoft.com",
            "nobody@contoso.onmicrosoft.com",
        ],
        "startTime": {"dateTime": "2019-03-15T16:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2019-03-16T01:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 60,
    }
    adele, megan, nobody = result["schedules"]
    assert adele == {
        "email": "adelev@contoso.onmicrosoft.com",
        "busy": [{"start": "2019-03-15T19:00:00+00:00", "end": "2019-03-15T21:00:00+00:00", "status": "busy"}],
    }
    assert [b["status"] for b in megan["busy"]] == ["busy", "busy", "tentative"]  # "free" items are not busy
    assert nobody == {
        "email": "nobody@contoso.onmicrosoft.com",
        "busy": [],
        "error": "The requested user 'nobody@contoso.onmicrosoft.com' is invalid.",
    }
    # Window 16:00-01:00 UTC; busy 15:30-16:30, 19:00-21:00, 23:00-00:00; slots of at least an hour.
    assert result["free_slots"] == [
        {"start": "2019-03-15T16:30:00+00:00", "end": "2019-03-15T19:00:00+00:00"},
        {"start": "2019-03-15T21:00:00+00:00", "end": "2019-03-15T23:00:00+00:00"},
        {"start": "2019-03-16T00:00:00+00:00", "end": "2019-03-16T01:00:00+00:00"},
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"attendees": []}, "Give 1 to 20 attendee", id="nobody"),
        pytest.param({"attendees": [f"p{i}@example.com" for i in range(21)]}, "Give 1 to 20 attendee", id="too-many"),
        pytest.param({"end": "2030-04-01T00:00:00Z"}, "longer than 62 days", id="too-long"),
        pytest.param({"min_slot_minutes": 4}, "from 5 to 1440", id="short-slot"),
        pytest.param({"start": "2030-01-01"}, "has no UTC offset", id="date-only"),
    ],
)
async def test_get_free_busy_rejects_bad_input_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    call = {
        "attendees": ["ana@example.com"],
        "start": "2030-01-01T09:00:00Z",
        "end": "2030-01-01T18:00:00Z",
        **arguments,
    }
    with pytest.raises(ToolExecutionError, match=message):
        await get_free_busy(make_context(recorder), **call)
    assert recorder.requests == []
