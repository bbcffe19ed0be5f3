"""The Zoom tools: schedule a meeting, list upcoming meetings, read a meeting's invitation, delete a meeting.

Scopes are Zoom's granular scopes for user-managed OAuth apps (format `service:action:data_claim`, see
https://developers.zoom.us/docs/integrations/oauth-scopes-granular/), one per endpoint:
- POST /users/me/meetings          -> meeting:write:meeting (stated on
  https://developers.zoom.us/docs/isv/workflows/create-meeting/, "Granular Scopes Required")
- GET /users/me/meetings           -> meeting:read:list_meetings
- GET /meetings/{id}/invitation    -> meeting:read:invitation
- DELETE /meetings/{id}            -> meeting:delete:meeting
Apps created before granular scopes use the classic `meeting:read` / `meeting:write` instead; a deployment on
such an app would need these requirements changed (the public API has no way to express "either of").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp_server import ToolContext, ToolExecutionError, email_addresses, tool
from mcp_server.auth import Zoom
from toolkits.zoom.client import delete, get_json, get_pages, post_json, shape_meeting

__all__ = ["create_meeting", "delete_meeting", "get_meeting_invitation", "list_upcoming_meetings"]

WRITE_MEETING_SCOPE = "meeting:write:meeting"
LIST_MEETINGS_SCOPE = "meeting:read:list_meetings"
READ_INVITATION_SCOPE = "meeting:read:invitation"
DELETE_MEETING_SCOPE = "meeting:delete:meeting"

# Limits from the Create a meeting reference (topic up to 200 characters, agenda up to 2,000).
MAX_TOPIC_CHARS = 200
MAX_AGENDA_CHARS = 2000
MIN_DURATION, MAX_DURATION = 1, 1440
MAX_INVITEES = 100
# List meetings: page_size up to 300; a bounded walk of the pages.
PAGE_SIZE = 100
MAX_PAGES = 5
MAX_MEETINGS = 300

_MEETING_ID = re.compile(r"\d{9,19}")


def _meeting_id(value: Any) -> str:
    """A Zoom meeting id: digits (spaces and dashes as in "851 2345 6789" are removed)."""
    text = re.sub(r"[\s-]", "", str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not _MEETING_ID.fullmatch(text):
        raise ToolExecutionError(
            f"meeting_id {value!r} is not a Zoom meeting id: give the numeric id (9 to 19 digits, e.g. "
            f"85746065432) that ListUpcomingMeetings or CreateMeeting returned."
        )
    return text


def _zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise ToolExecutionError("timezone must be an IANA time zone name such as 'America/New_York' or 'UTC'.")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolExecutionError(
            f"timezone {name!r} is not an IANA time zone name; use one such as 'America/Los_Angeles', "
            f"'Europe/Berlin' or 'UTC'."
        ) from None


def _start_time(value: Any, zone: ZoneInfo) -> datetime:
    """The start as an aware datetime: an ISO 8601 time with an offset, or a local time in `zone`."""
    if not isinstance(value, str) or not value.strip():
        raise ToolExecutionError(
            "start_time is required: an ISO 8601 date and time such as '2026-12-01T15:00:00' (in the given "
            "timezone) or '2026-12-01T15:00:00-05:00'."
        )
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ToolExecutionError(
            f"start_time {value!r} is not an ISO 8601 date and time; use e.g. '2026-12-01T15:00:00' or "
            f"'2026-12-01T15:00:00-05:00'."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if moment <= datetime.now(UTC):
        raise ToolExecutionError(
            f"start_time {value!r} is in the past; a scheduled meeting needs a future start time."
        )
    return moment


def _invitees(values: Any) -> list[str]:
    emails = email_addresses(values, name="invitee")
    if len(emails) > MAX_INVITEES:
        raise ToolExecutionError(f"At most {MAX_INVITEES} invitees can be given; got {len(emails)}.")
    return emails


@tool(requires_auth=Zoom(scopes=[WRITE_MEETING_SCOPE]))
async def create_meeting(
    context: ToolContext,
    topic: Annotated[str, "The meeting's title, up to 200 characters."],
    start_time: Annotated[
        str,
        "When the meeting starts, ISO 8601: '2026-12-01T15:00:00' is read in `timezone`; a time with an offset "
        "('2026-12-01T15:00:00-05:00' or '...Z') is taken as given. Must be in the future.",
    ],
    duration_minutes: Annotated[int, "How long the meeting is scheduled for, in minutes (1 to 1440)."] = 30,
    timezone: Annotated[
        str, "The meeting's IANA time zone, e.g. 'America/New_York', 'Europe/Paris' or 'UTC'."
    ] = "UTC",
    agenda: Annotated[str, "An optional description of the meeting, up to 2,000 characters."] = "",
    invitees: Annotated[
        list[str] | None, "Optional email addresses to add to the meeting's invitee list."
    ] = None,
) -> dict[str, Any]:
    """Schedule a Zoom meeting (a one-time scheduled meeting) hosted by the user.

    Use it when the user asks to set up, schedule or book a Zoom call. Returns the new meeting's meeting_id (for
    GetMeetingInvitation or DeleteMeeting), topic, start_time (ISO 8601 in the meeting's time zone, with offset),
    duration_minutes, timezone, join_url (share it with participants; it carries the passcode), has_passcode,
    agenda and the invitees added. The passcode itself is not returned.
    """
    title = topic.strip() if isinstance(topic, str) else ""
    if not title:
        raise ToolExecutionError("topic is required: give the meeting a short title.")
    if len(title) > MAX_TOPIC_CHARS:
        raise ToolExecutionError(f"topic is {len(title)} characters; Zoom allows at most {MAX_TOPIC_CHARS}.")
    if (
        isinstance(duration_minutes, bool)
        or not isinstance(duration_minutes, int)
        or not MIN_DURATION <= duration_minutes <= MAX_DURATION
    ):
        raise ToolExecutionError(
            f"duration_minutes must be a whole number of minutes from {MIN_DURATION} to {MAX_DURATION}; "
            f"got {duration_minutes!r}."
        )
    zone = _zone(timezone)
    start = _start_time(start_time, zone)
    description = agenda.strip() if isinstance(agenda, str) else ""
    if len(description) > MAX_AGENDA_CHARS:
        raise ToolExecutionError(
            f"agenda is {len(description)} characters; Zoom allows at most {MAX_AGENDA_CHARS}."
        )
    emails = _invitees(invitees)

    body: dict[str, Any] = {
        "topic": title,
        "type": 2,  # a scheduled meeting
        # UTC with a trailing Z; `timezone` below is the zone Zoom shows the meeting in.
        "start_time": start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": duration_minutes,
        "timezone": zone.key,
    }
    if description:
        body["agenda"] = description
    if emails:
        body["settings"] = {"meeting_invitees": [{"email": email} for email in emails]}
    created = await post_json(context, "/users/me/meetings", body, what="the new Zoom meeting")
    result = shape_meeting(created)
    result.setdefault("has_passcode", False)
    result["invitees"] = emails
    return result


@tool(requires_auth=Zoom(scopes=[LIST_MEETINGS_SCOPE]))
async def list_upcoming_meetings(context: ToolContext) -> dict[str, Any]:
    """List the user's upcoming (and live) scheduled Zoom meetings that they host.

    Use it to find a meeting's id before reading its invitation or deleting it, or to answer "what Zoom calls do
    I have". Returns `meetings` (each with meeting_id, topic, type, start_time in ISO 8601 with the meeting's
    time zone offset, duration_minutes, timezone, join_url, agenda), `count`, and `truncated` (true when there
    were more than 300 meetings and only the first 300 are listed).
    """
    meetings, truncated = await get_pages(
        context,
        "/users/me/meetings",
        what="the user's upcoming Zoom meetings",
        params={"type": "upcoming", "page_size": PAGE_SIZE},
        items_key="meetings",
        max_items=MAX_MEETINGS,
        max_pages=MAX_PAGES,
    )
    shaped = [shape_meeting(meeting) for meeting in meetings]
    return {"meetings": shaped, "count": len(shaped), "truncated": truncated}


@tool(requires_auth=Zoom(scopes=[READ_INVITATION_SCOPE]))
async def get_meeting_invitation(
    context: ToolContext,
    meeting_id: Annotated[str, "The numeric Zoom meeting id, e.g. '85746065432' (from ListUpcomingMeetings)."],
) -> dict[str, Any]:
    """Get the invitation text of a Zoom meeting: the plain-text note with the join link, meeting id, passcode
    and dial-in numbers that people paste into an email or calendar invite.

    Use it when the user wants to share or send the details of a meeting. Returns meeting_id, invitation (plain
    text) and sip_links (SIP addresses to join from a room system, when Zoom gives any).
    """
    number = _meeting_id(meeting_id)
    body = await get_json(
        context, f"/meetings/{number}/invitation", what=f"the invitation of the Zoom meeting {number}"
    )
    text = str(body.get("invitation") or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    sip_links = [link for link in body.get("sip_links") or [] if isinstance(link, str)]
    return {"meeting_id": number, "invitation": text, "sip_links": sip_links}


@tool(requires_auth=Zoom(scopes=[DELETE_MEETING_SCOPE]))
async def delete_meeting(
    context: ToolContext,
    meeting_id: Annotated[str, "The numeric Zoom meeting id to delete, e.g. '85746065432'."],
) -> dict[str, Any]:
    """Delete (cancel) one of the user's scheduled Zoom meetings. This cannot be undone.

    Use it only when the user clearly asks to cancel or delete that meeting; confirm the meeting first with
    ListUpcomingMeetings when in doubt. Returns meeting_id and deleted: true.
    """
    number = _meeting_id(meeting_id)
    await delete(context, f"/meetings/{number}", what=f"the Zoom meeting {number}")
    return {"meeting_id": number, "deleted": True}
