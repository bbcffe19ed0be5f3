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
from mcp_server.catalog import load_catalog
from mcp_server.providers import ProviderRegistry
from toolkits.zoom import (
    create_meeting,
    delete_meeting,
    get_meeting_invitation,
    list_upcoming_meetings,
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
    recorder = Recorder(httpx2.Response(200, json={"next_page_token": "", "page_size": 100, "total_records": 0, "meetings": []}))
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
    recorder = Recorder(httpx2.Response(403, json={"code": 104, "message": "Invalid access token, does not contain scopes."}))
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
