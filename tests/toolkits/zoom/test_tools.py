"""Unit tests for the Zoom toolkit against a stand-in of the Zoom API v2 answering with documented examples."""

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
from toolkits.zoom import (
    create_meeting,
    delete_meeting,
    get_meeting,
    get_meeting_invitation,
    list_recordings,
    list_upcoming_meetings,
    update_meeting,
)

pytestmark = pytest.mark.anyio

BASE = "https://api.test"

# Create a meeting, 201 response. Source: the sample response on
# https://developers.zoom.us/docs/isv/workflows/create-meeting/ (Zoom's "Create a meeting" workflow; the full
# schema is at https://developers.zoom.us/docs/api/meetings/#tag/meetings/POST/users/{userId}/meetings).
# The stored copy of that sample was cut after "created_at", "duration", "h323_password" and "ho..."; those
# values are the documented ones, the rest (host_*, id, join_url, password, start_url, status, uuid) follow the
# documented field formats with example values, not copied text.
CREATED_MEETING = {
    "agenda": "My Meeting",
    "created_at": "2022-03-25T07:29:29Z",
    "duration": 60,
    "h323_password": "123456",
    "host_email": "jchill@example.com",
    "host_id": "30R7kT7bTIKSNUFEuH_Qlg",
    "id": 92674392836,
    "join_url": "https://us05web.zoom.us/j/92674392836?pwd=UFR3dS9ZdUZCa3ZvS0tmWGxlbVk4UT09",
    "password": "123456",
    "pre_schedule": False,
    "settings": {"approval_type": 2, "registration_type": 1},
    "start_time": "2022-03-25T07:32:55Z",
    "start_url": "https://us05web.zoom.us/s/92674392836?zak=eyJ0eXAiOiJKV1QiLCJzdiI6IjAwMDAwMSIsInptX3NrbSI6Inp",
    "status": "waiting",
    "timezone": "America/Los_Angeles",
    "topic": "My Meeting",
    "type": 2,
    "uuid": "aDYlohsHRtCd4ii1uC2+hA==",
}

# List meetings (GET /users/{userId}/meetings), 200 response. Source: the documented example of
# https://developers.zoom.us/docs/api/meetings/#tag/meetings/GET/users/{userId}/meetings as published in Zoom's
# Public API collection (https://developers.qodex.ai/zoom-public/get-started-fast-with-zoom-apis/get-started-fast-meetings-webinars-get-create-update-delete-meeting-webinar/list-meetings-2).
# Page 1 carries the documented next_page_token; page 2 is the same example's second meeting with the empty
# token Zoom sends on the last page (https://developers.zoom.us/docs/api/pagination/).
MEETINGS_PAGE_1 = {
    "next_page_token": "Tva2CuIdTgsv8wAnhyAdU3m06Y2HuLQtlh3",
    "page_count": 1,
    "page_number": 1,
    "page_size": 30,
    "total_records": 2,
    "meetings": [
        {
            "agenda": "My Meeting",
            "created_at": "2022-03-23T05:31:16Z",
            "duration": 60,
            "host_id": "30R7kT7bTIKSNUFEuH_Qlg",
            "id": 97763643886,
            "join_url": "https://example.com/j/11111",
            "pmi": "97891943927",
            "start_time": "2022-03-23T06:00:00Z",
            "timezone": "America/Los_Angeles",
            "topic": "My Meeting",
            "type": 2,
            "uuid": "aDYlohsHRtCd4ii1uC2+hA==",
        }
    ],
}
MEETINGS_PAGE_2 = {
    "next_page_token": "",
    "page_count": 1,
    "page_number": 1,
    "page_size": 30,
    "total_records": 2,
    "meetings": [
        {
            "agenda": "My Meeting",
            "created_at": "2022-03-23T05:31:16Z",
            "duration": 30,
            "host_id": "30R7kT7bTIKSNUFEuH_Qlg",
            "id": 95204914252,
            "join_url": "https://example.com/j/22222",
            "start_time": "2022-03-24T17:30:00Z",
            "timezone": "Europe/Berlin",
            "topic": "Weekly sync",
            "type": 8,
            "uuid": "Rr5DOUnqQNq3OjvyNt1GUw==",
        }
    ],
}

# Get meeting invitation (GET /meetings/{meetingId}/invitation), 200 response: `invitation` (text) and
# `sip_links` (added 2022-03-21, https://developers.zoom.us/changelog/zoom-workplace/zoom-one-march-21-2022/).
# Source: https://developers.zoom.us/docs/api/meetings/#tag/meetings/GET/meetings/{meetingId}/invitation
# (response shape also in Zoom's SDK types: https://zoom.github.io/rivet-javascript/types/Meetings.MeetingsGetMeetingInvitationResponse.html).
# The text below follows the documented format (the exact example text was not in the stored docs).
INVITATION = {
    "invitation": (
        "Jill Chill is inviting you to a scheduled Zoom meeting.\r\n\r\nJoin Zoom Meeting\r\n"
        "https://example.com/j/11111\r\n\r\nMeeting ID: 111 1111 1111\r\nPasscode: 111111\r\n"
    ),
    "sip_links": ["11111111111.111111@zoomcrc.com"],
}


class Recorder:
    """A MockTransport handler that records requests and answers with queued responses."""

    def __init__(self, *responses: httpx2.Response | Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.requests: list[httpx2.Request] = []
        self.responses = list(responses)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if not self.responses:
            return httpx2.Response(500, json={"code": 500, "message": "unexpected request"})
        answer = self.responses.pop(0)
        return answer(request) if callable(answer) else answer


def make_context(handler: Recorder, *scopes: str) -> ToolContext:
    return ToolContext(
        user_id="u1",
        authorization=ToolAuthorization(provider_id="zoom", token="tok-zoom-1", scopes=tuple(scopes)),
        http=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
        settings={"api_base_url": BASE},
    )


def only_request(recorder: Recorder) -> httpx2.Request:
    assert len(recorder.requests) == 1
    request = recorder.requests[0]
    assert request.headers["authorization"] == "Bearer tok-zoom-1"
    return request


# --- CreateMeeting -------------------------------------------------------------------------------------------


async def test_create_meeting_sends_a_scheduled_meeting_and_shapes_the_answer() -> None:
    recorder = Recorder(httpx2.Response(201, json=CREATED_MEETING))
    result = await create_meeting(
        make_context(recorder, "meeting:write:meeting"),
        topic="  My Meeting ",
        start_time="2030-03-25T07:30:00",
        duration_minutes=60,
        timezone="America/Los_Angeles",
        agenda="My Meeting",
        invitees=["ana@example.com", "bo@example.org", "ANA@example.com"],
    )
    request = only_request(recorder)
    assert request.method == "POST"
    assert request.url.path == "/users/me/meetings"
    assert request.url.query == b""
    assert json.loads(request.content) == {
        "topic": "My Meeting",
        "type": 2,
        "start_time": "2030-03-25T14:30:00Z",  # 07:30 PDT
        "duration": 60,
        "timezone": "America/Los_Angeles",
        "agenda": "My Meeting",
        "settings": {"meeting_invitees": [{"email": "ana@example.com"}, {"email": "bo@example.org"}]},
    }
    assert result == {
        "meeting_id": "92674392836",
        "topic": "My Meeting",
        "type": "scheduled",
        "start_time": "2022-03-25T00:32:55-07:00",
        "duration_minutes": 60,
        "timezone": "America/Los_Angeles",
        "join_url": CREATED_MEETING["join_url"],
        "agenda": "My Meeting",
        "has_passcode": True,
        "invitees": ["ana@example.com", "bo@example.org"],
    }
    assert "123456" not in json.dumps({k: v for k, v in result.items() if k != "join_url"})


async def test_create_meeting_with_an_offset_and_no_extras_sends_utc_and_no_settings() -> None:
    recorder = Recorder(httpx2.Response(201, json=CREATED_MEETING))
    await create_meeting(
        make_context(recorder), topic="Standup", start_time="2030-01-02T09:00:00+01:00", timezone="Europe/Paris"
    )
    body = json.loads(only_request(recorder).content)
    assert body == {
        "topic": "Standup",
        "type": 2,
        "start_time": "2030-01-02T08:00:00Z",
        "duration": 30,
        "timezone": "Europe/Paris",
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"topic": "  "}, "topic is required"),
        ({"topic": "x" * 201}, "at most 200"),
        ({"start_time": "next tuesday"}, "not an ISO 8601"),
        ({"start_time": ""}, "start_time is required"),
        ({"start_time": "2001-01-01T10:00:00Z"}, "in the past"),
        ({"duration_minutes": 0}, "from 1 to 1440"),
        ({"duration_minutes": 1441}, "from 1 to 1440"),
        ({"duration_minutes": True}, "from 1 to 1440"),
        ({"timezone": "Mars/Olympus_Mons"}, "not an IANA time zone"),
        ({"timezone": ""}, "IANA time zone"),
        ({"agenda": "a" * 2001}, "at most 2000"),
        ({"invitees": ["not-an-email"]}, "not an email address"),
        ({"invitees": [""]}, "is empty"),
        ({"invitees": "ana@example.com"}, "as a list of email addresses"),
    ],
)
async def test_create_meeting_rejects_bad_input_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    call = {"topic": "Plan", "start_time": "2030-05-01T10:00:00", "timezone": "UTC", **arguments}
    with pytest.raises(ToolExecutionError, match=message):
        await create_meeting(make_context(recorder), **call)
    assert recorder.requests == []


# --- ListUpcomingMeetings ------------------------------------------------------------------------------------


async def test_list_upcoming_meetings_follows_next_page_token() -> None:
    recorder = Recorder(httpx2.Response(200, json=MEETINGS_PAGE_1), httpx2.Response(200, json=MEETINGS_PAGE_2))
    result = await list_upcoming_meetings(make_context(recorder, "meeting:read:list_meetings"))

    assert len(recorder.requests) == 2
    first, second = recorder.requests
    for request in (first, second):
        assert request.method == "GET"
        assert request.url.path == "/users/me/meetings"
        assert request.headers["authorization"] == "Bearer tok-zoom-1"
    assert dict(first.url.params) == {"type": "upcoming", "page_size": "100"}
    assert dict(second.url.params) == {
        "type": "upcoming",
        "page_size": "100",
        "next_page_token": "Tva2CuIdTgsv8wAnhyAdU3m06Y2HuLQtlh3",
    }
    assert result == {
        "meetings": [
            {
                "meeting_id": "97763643886",
                "topic": "My Meeting",
                "type": "scheduled",
                "start_time": "2022-03-22T23:00:00-07:00",
                "duration_minutes": 60,
                "timezone": "America/Los_Angeles",
                "join_url": "https://example.com/j/11111",
                "agenda": "My Meeting",
            },
            {
                "meeting_id": "95204914252",
                "topic": "Weekly sync",
                "type": "recurring, fixed time",
                "start_time": "2022-03-24T18:30:00+01:00",
                "duration_minutes": 30,
                "timezone": "Europe/Berlin",
                "join_url": "https://example.com/j/22222",
                "agenda": "My Meeting",
            },
        ],
        "count": 2,
        "truncated": False,
    }


async def test_list_upcoming_meetings_stops_after_a_bounded_number_of_pages() -> None:
    def endless(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=MEETINGS_PAGE_1)

    recorder = Recorder(*([endless] * 20))
    result = await list_upcoming_meetings(make_context(recorder))
    assert len(recorder.requests) == 5
    assert result["count"] == 5
    assert result["truncated"] is True


async def test_list_upcoming_meetings_with_no_meetings() -> None:
    recorder = Recorder(
        httpx2.Response(200, json={"next_page_token": "", "page_size": 100, "total_records": 0, "meetings": []})
    )
    assert await list_upcoming_meetings(make_context(recorder)) == {"meetings": [], "count": 0, "truncated": False}


# --- GetMeetingInvitation ------------------------------------------------------------------------------------


async def test_get_meeting_invitation_returns_plain_text() -> None:
    recorder = Recorder(httpx2.Response(200, json=INVITATION))
    result = await get_meeting_invitation(make_context(recorder, "meeting:read:invitation"), meeting_id="111 1111 1111")
    request = only_request(recorder)
    assert request.method == "GET"
    assert request.url.path == "/meetings/11111111111/invitation"
    assert request.url.query == b""
    assert result == {
        "meeting_id": "11111111111",
        "invitation": (
            "Jill Chill is inviting you to a scheduled Zoom meeting.\n\nJoin Zoom Meeting\n"
            "https://example.com/j/11111\n\nMeeting ID: 111 1111 1111\nPasscode: 111111"
        ),
        "sip_links": ["11111111111.111111@zoomcrc.com"],
    }


@pytest.mark.parametrize("bad", ["", "abc", "12345", "9767-abc", "1" * 20, "https://zoom.us/j/97763643886"])
async def test_meeting_ids_are_validated_before_any_request(bad: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match="not a Zoom meeting id"):
        await get_meeting_invitation(make_context(recorder), meeting_id=bad)
    with pytest.raises(ToolExecutionError, match="not a Zoom meeting id"):
        await delete_meeting(make_context(recorder), meeting_id=bad)
    assert recorder.requests == []


# --- DeleteMeeting -------------------------------------------------------------------------------------------


async def test_delete_meeting_sends_delete_and_accepts_204() -> None:
    # Delete a meeting answers 204 No Content:
    # https://developers.zoom.us/docs/api/meetings/#tag/meetings/DELETE/meetings/{meetingId}
    recorder = Recorder(httpx2.Response(204))
    result = await delete_meeting(make_context(recorder, "meeting:delete:meeting"), meeting_id="97763643886")
    request = only_request(recorder)
    assert request.method == "DELETE"
    assert request.url.path == "/meetings/97763643886"
    assert request.url.query == b""
    assert request.content == b""
    assert result == {"meeting_id": "97763643886", "deleted": True}


# --- Upstream errors -----------------------------------------------------------------------------------------

# Zoom's error bodies are {"code": ..., "message": ...}. 3001 for a missing meeting is from Zoom's Meeting API
# error table (https://github.com/harrisyang/api/blob/master/errors/MeetingAPIs.md, "Retrieve a meeting" /
# "Delete a meeting"); the 401/403/429 bodies are illustrative: the toolkit never reads error bodies.
NOT_FOUND = {"code": 3001, "message": "Meeting 97763643886 is not found or has expired."}
BAD_TOKEN = {"code": 124, "message": "Invalid access token."}
TOO_MANY = {"code": 429, "message": "You have reached the maximum per-second rate limit for this API."}


async def test_401_is_an_upstream_auth_error() -> None:
    for call in (
        lambda ctx: list_upcoming_meetings(ctx),
        lambda ctx: get_meeting_invitation(ctx, meeting_id="97763643886"),
        lambda ctx: delete_meeting(ctx, meeting_id="97763643886"),
        lambda ctx: create_meeting(ctx, topic="x", start_time="2030-01-01T10:00:00Z"),
    ):
        recorder = Recorder(httpx2.Response(401, json=BAD_TOKEN))
        with pytest.raises(UpstreamAuthError):
            await call(make_context(recorder))
        assert len(recorder.requests) == 1


async def test_404_names_the_meeting() -> None:
    recorder = Recorder(httpx2.Response(404, json=NOT_FOUND))
    with pytest.raises(UpstreamError, match="the Zoom meeting 97763643886 was not found") as caught:
        await delete_meeting(make_context(recorder), meeting_id="97763643886")
    assert caught.value.status_code == 404
    recorder = Recorder(httpx2.Response(404, json=NOT_FOUND))
    with pytest.raises(UpstreamError, match="the invitation of the Zoom meeting 97763643886 was not found"):
        await get_meeting_invitation(make_context(recorder), meeting_id="97763643886")


async def test_403_says_the_authorization_does_not_allow_it() -> None:
    recorder = Recorder(
        httpx2.Response(403, json={"code": 104, "message": "Invalid access token, does not contain scopes."})
    )
    with pytest.raises(UpstreamError, match="refused access to the user's upcoming Zoom meetings"):
        await list_upcoming_meetings(make_context(recorder))


async def test_429_is_retryable_with_the_wait() -> None:
    recorder = Recorder(httpx2.Response(429, json=TOO_MANY, headers={"Retry-After": "7"}))
    with pytest.raises(UpstreamRateLimitError, match="Retry in 7 s") as caught:
        await create_meeting(make_context(recorder), topic="x", start_time="2030-01-01T10:00:00Z")
    assert caught.value.retry_after == 7.0


async def test_429_on_the_second_page_stops_the_listing() -> None:
    recorder = Recorder(
        httpx2.Response(200, json=MEETINGS_PAGE_1), httpx2.Response(429, json=TOO_MANY, headers={"Retry-After": "2"})
    )
    with pytest.raises(UpstreamRateLimitError) as caught:
        await list_upcoming_meetings(make_context(recorder))
    assert caught.value.retry_after == 2.0


async def test_default_base_url_is_the_real_api() -> None:
    recorder = Recorder(httpx2.Response(204))
    context = ToolContext(
        user_id="u1",
        authorization=ToolAuthorization(provider_id="zoom", token="tok-zoom-1"),
        http=httpx2.AsyncClient(transport=httpx2.MockTransport(recorder)),
    )
    await delete_meeting(context, meeting_id="97763643886")
    assert str(only_request(recorder).url) == "https://api.zoom.us/v2/meetings/97763643886"


# --- Catalog -------------------------------------------------------------------------------------------------


def test_catalog_loads_every_tool_with_its_narrow_scope() -> None:
    catalog = load_catalog(["toolkits.zoom"], ProviderRegistry({}))
    found = {definition.mcp_name: definition for definition in catalog}
    assert {name: tuple(d.requirement.scopes) for name, d in found.items()} == {  # type: ignore[union-attr]
        "Zoom_CreateMeeting": ("meeting:write:meeting",),
        "Zoom_ListUpcomingMeetings": ("meeting:read:list_meetings",),
        "Zoom_GetMeetingInvitation": ("meeting:read:invitation",),
        "Zoom_DeleteMeeting": ("meeting:delete:meeting",),
        "Zoom_GetMeeting": ("meeting:read:meeting",),
        "Zoom_UpdateMeeting": ("meeting:update:meeting",),
        "Zoom_ListRecordings": ("cloud_recording:read:list_user_recordings",),
    }
    for definition in found.values():
        assert definition.requirement is not None and definition.requirement.id == "zoom"
        assert definition.api_name == definition.mcp_name.replace("_", ".")
        for name, schema in definition.input_schema.get("properties", {}).items():
            assert schema.get("description"), (definition.mcp_name, name)
    create = found["Zoom_CreateMeeting"].input_schema
    assert set(create["properties"]) == {"topic", "start_time", "duration_minutes", "timezone", "agenda", "invitees"}
    assert set(create["required"]) == {"topic", "start_time"}
    assert found["Zoom_ListUpcomingMeetings"].input_schema.get("properties") == {}
    reads = {"Zoom_ListUpcomingMeetings", "Zoom_GetMeetingInvitation", "Zoom_GetMeeting", "Zoom_ListRecordings"}
    for name, definition in found.items():
        assert definition.title, name
        assert definition.hints["readOnlyHint"] is (name in reads), name
        assert definition.hints["openWorldHint"] is True, name
    destructive = {name for name, d in found.items() if d.hints.get("destructiveHint")}
    assert destructive == {"Zoom_DeleteMeeting", "Zoom_UpdateMeeting"}
    assert found["Zoom_CreateMeeting"].hints["idempotentHint"] is False
    update = found["Zoom_UpdateMeeting"].input_schema
    assert update["required"] == ["meeting_id"]


# --- GetMeeting ----------------------------------------------------------------------------------------------

# Get a meeting (GET /meetings/{meetingId}), 200 response. Source: the documented example of
# https://developers.zoom.us/docs/api/meetings/#tag/meetings/GET/meetings/{meetingId}, abridged (settings,
# tracking_fields and some host fields left out; the passcode fields kept, to check they are never returned).
MEETING = {
    "assistant_id": "kFFvsJc-Q1OSxaJQLvaa_A",
    "host_email": "jchill@example.com",
    "host_id": "30R7kT7bTIKSNUFEuH_Qlg",
    "id": 97763643886,
    "uuid": "aDYlohsHRtCd4ii1uC2+hA==",
    "agenda": "My Meeting",
    "created_at": "2022-03-25T07:29:29Z",
    "duration": 60,
    "encrypted_password": "8pEkRweVXPV3Ob2KJYgFTRlDtl1gSn.1",
    "pstn_password": "123456",
    "h323_password": "123456",
    "join_url": "https://example.com/j/11111",
    "chat_join_url": "https://example.com/launch/jc/11111",
    "occurrences": [
        {"duration": 60, "occurrence_id": "1648194360000", "start_time": "2022-03-25T07:46:00Z", "status": "available"},
    ],
    "password": "123456",
    "pmi": "97891943927",
    "pre_schedule": False,
    "recurrence": {
        "end_date_time": "2022-04-02T15:59:00Z",
        "end_times": 7,
        "monthly_day": 1,
        "monthly_week": 1,
        "monthly_week_day": 1,
        "repeat_interval": 1,
        "type": 1,
        "weekly_days": "1",
    },
    "start_time": "2022-03-25T07:29:29Z",
    "start_url": "https://example.com/s/11111",
    "status": "waiting",
    "timezone": "America/Los_Angeles",
    "topic": "My Meeting",
    "type": 8,
}


async def test_get_meeting_shapes_the_meeting_and_its_occurrences() -> None:
    recorder = Recorder(httpx2.Response(200, json=MEETING))
    result = await get_meeting(make_context(recorder), meeting_id="977 6364 3886")
    request = only_request(recorder)
    assert (request.method, str(request.url)) == ("GET", f"{BASE}/meetings/97763643886")
    assert result == {
        "meeting_id": "97763643886",
        "topic": "My Meeting",
        "type": "recurring, fixed time",
        "start_time": "2022-03-25T00:29:29-07:00",
        "duration_minutes": 60,
        "timezone": "America/Los_Angeles",
        "join_url": "https://example.com/j/11111",
        "agenda": "My Meeting",
        "has_passcode": True,
        "status": "waiting",
        "occurrences": [
            {
                "occurrence_id": "1648194360000",
                "start_time": "2022-03-25T00:46:00-07:00",
                "duration_minutes": 60,
                "status": "available",
            }
        ],
    }
    assert "123456" not in json.dumps(result)


async def test_get_meeting_404_names_the_meeting() -> None:
    recorder = Recorder(httpx2.Response(404, json={"code": 3001, "message": "Meeting does not exist: 97763643886."}))
    with pytest.raises(UpstreamError, match="the Zoom meeting 97763643886 was not found"):
        await get_meeting(make_context(recorder), meeting_id="97763643886")


# --- UpdateMeeting -------------------------------------------------------------------------------------------

# Update a meeting (PATCH /meetings/{meetingId}): "HTTP Status Code: 204 Meeting updated", no body. Source:
# https://developers.zoom.us/docs/api/meetings/#tag/meetings/PATCH/meetings/{meetingId}


async def test_update_meeting_patches_only_what_changes() -> None:
    recorder = Recorder(httpx2.Response(204))
    result = await update_meeting(
        make_context(recorder),
        meeting_id="97763643886",
        start_time="2030-01-15T09:30:00",
        timezone="Europe/Berlin",
        duration_minutes=45,
    )
    request = only_request(recorder)
    assert (request.method, str(request.url)) == ("PATCH", f"{BASE}/meetings/97763643886")
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "timezone": "Europe/Berlin",
        "start_time": "2030-01-15T08:30:00Z",
        "duration": 45,
    }
    assert result == {
        "meeting_id": "97763643886",
        "updated": True,
        "timezone": "Europe/Berlin",
        "start_time": "2030-01-15T09:30:00+01:00",
        "duration_minutes": 45,
    }


async def test_update_meeting_topic_and_cleared_agenda() -> None:
    recorder = Recorder(httpx2.Response(204))
    await update_meeting(make_context(recorder), meeting_id="97763643886", topic=" Weekly sync ", agenda="")
    assert json.loads(only_request(recorder).content) == {"topic": "Weekly sync", "agenda": ""}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({}, "Nothing to change", id="nothing"),
        pytest.param({"start_time": "2030-01-15T09:30:00"}, "has no UTC offset", id="naive-start-without-zone"),
        pytest.param({"start_time": "2001-01-15T09:30:00Z"}, "in the past", id="past"),
        pytest.param({"timezone": "Mars/Olympus"}, "not an IANA time zone", id="zone"),
        pytest.param({"duration_minutes": 0}, "from 1 to 1440", id="duration"),
        pytest.param({"topic": "  "}, "topic is required", id="empty-topic"),
        pytest.param({"agenda": "x" * 2001}, "at most 2000", id="agenda"),
    ],
)
async def test_update_meeting_rejects_bad_input_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await update_meeting(make_context(recorder), meeting_id="97763643886", **arguments)
    assert recorder.requests == []


async def test_update_meeting_upstream_400_is_named() -> None:
    recorder = Recorder(httpx2.Response(400, json={"code": 300, "message": "Invalid meeting id."}))
    with pytest.raises(UpstreamError, match=r"rejected the Zoom meeting 97763643886 \(HTTP 400\)"):
        await update_meeting(make_context(recorder), meeting_id="97763643886", topic="New")


# --- ListRecordings ------------------------------------------------------------------------------------------

# List all recordings (GET /users/{userId}/recordings), 200 response. Source: the documented example of
# https://developers.zoom.us/docs/api/meetings/#tag/cloud-recording/GET/users/{userId}/recordings (note that the
# example gives the meeting `type` as a string). Page 2 is the same meeting shape with the empty token of the
# last page (https://developers.zoom.us/docs/api/pagination/).
RECORDINGS_PAGE_1 = {
    "from": "2022-01-01",
    "to": "2022-04-01",
    "next_page_token": "Tva2CuIdTgsv8wAnhyAdU3m06Y2HuLQtlh3",
    "page_count": 1,
    "page_size": 30,
    "total_records": 2,
    "meetings": [
        {
            "account_id": "Cx3wERazSgup7ZWRHQM8-w",
            "duration": 20,
            "host_id": "_0ctZtY0REqWalTmwvrdIw",
            "id": 6840331990,
            "recording_count": 22,
            "start_time": "2021-03-18T05:41:36Z",
            "topic": "My Personal Meeting",
            "total_size": 22,
            "type": "1",
            "uuid": "BOKXuumlTAGXuqwr3bLyuQ==",
            "recording_play_passcode": "yNYIS408EJygs7rE5vVsJwXIz4-VW7MH",
            "recording_files": [
                {
                    "deleted_time": "2021-06-30",
                    "download_url": "https://example.com/rec/download/Qg75t7xZBtEbAkjdlgbfdngBBBB",
                    "file_path": "/9090876528/path01/demo.mp4",
                    "file_size": 7220,
                    "file_type": "MP4",
                    "file_extension": "MP4",
                    "id": "ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8",
                    "meeting_id": "L0AGOEPVR9m5WSOOs/d+FQ==",
                    "play_url": "https://example.com/rec/play/Qg75t7xZBtEbAkjdlgbfdngBBBB",
                    "recording_end": "2021-03-18T05:41:56Z",
                    "recording_start": "2021-03-18T05:41:36Z",
                    "recording_type": "audio_only",
                    "status": "completed",
                }
            ],
        }
    ],
}
RECORDINGS_PAGE_2 = {
    **RECORDINGS_PAGE_1,
    "next_page_token": "",
    "meetings": [
        {
            **RECORDINGS_PAGE_1["meetings"][0],
            "id": 6840331991,
            "uuid": "CPKXuumlTAGXuqwr3bLyuQ==",  # type: ignore[index]
            "recording_files": [],
        }
    ],
}


async def test_list_recordings_sends_the_range_and_follows_next_page_token() -> None:
    recorder = Recorder(httpx2.Response(200, json=RECORDINGS_PAGE_1), httpx2.Response(200, json=RECORDINGS_PAGE_2))
    result = await list_recordings(make_context(recorder), from_date="2021-03-01", to_date="2021-03-31")
    first, second = recorder.requests
    assert (first.method, first.url.path) == ("GET", "/users/me/recordings")
    assert dict(first.url.params) == {"from": "2021-03-01", "to": "2021-03-31", "page_size": "100"}
    assert dict(second.url.params) == {
        "from": "2021-03-01",
        "to": "2021-03-31",
        "page_size": "100",
        "next_page_token": "Tva2CuIdTgsv8wAnhyAdU3m06Y2HuLQtlh3",
    }
    assert (result["count"], result["truncated"]) == (2, False)
    assert result["recordings"][0] == {
        "meeting_id": "6840331990",
        "meeting_uuid": "BOKXuumlTAGXuqwr3bLyuQ==",
        "topic": "My Personal Meeting",
        "type": "instant",
        "start_time": "2021-03-18T05:41:36+00:00",
        "duration_minutes": 20,
        "total_size_bytes": 22,
        "files": [
            {
                "file_type": "MP4",
                "recording_type": "audio_only",
                "start": "2021-03-18T05:41:36+00:00",
                "end": "2021-03-18T05:41:56+00:00",
                "size_bytes": 7220,
                "status": "completed",
                "play_url": "https://example.com/rec/play/Qg75t7xZBtEbAkjdlgbfdngBBBB",
            }
        ],
    }
    assert "yNYIS408" not in json.dumps(result) and "download" not in json.dumps(result)


async def test_list_recordings_defaults_to_the_last_30_days() -> None:
    recorder = Recorder(httpx2.Response(200, json={**RECORDINGS_PAGE_1, "next_page_token": "", "meetings": []}))
    result = await list_recordings(make_context(recorder), to_date="2026-03-10")
    assert dict(only_request(recorder).url.params)["from"] == "2026-02-08"
    assert (result["from_date"], result["to_date"], result["count"]) == ("2026-02-08", "2026-03-10", 0)


async def test_list_recordings_pages_are_bounded() -> None:
    recorder = Recorder(*[httpx2.Response(200, json=RECORDINGS_PAGE_1)] * 5)
    result = await list_recordings(make_context(recorder), from_date="2021-03-01", to_date="2021-03-31")
    assert len(recorder.requests) == 3 and result["truncated"] is True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"from_date": "2021-03-01", "to_date": "2021-05-01"}, "at most a month", id="too-long"),
        pytest.param({"from_date": "2021-03-05", "to_date": "2021-03-01"}, "must not be after", id="reversed"),
        pytest.param({"from_date": "March 1"}, "YYYY-MM-DD", id="not-a-date"),
        pytest.param({"to_date": "2021-02-30"}, "YYYY-MM-DD", id="no-such-day"),
    ],
)
async def test_list_recordings_rejects_bad_ranges_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await list_recordings(make_context(recorder), **arguments)
    assert recorder.requests == []
