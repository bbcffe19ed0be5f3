"""The Zoom meeting tools: schedule, list, read, change, share and cancel the user's meetings.

Scopes are Zoom's granular scopes for user-managed OAuth apps (format `service:action:data_claim`, see
https://developers.zoom.us/docs/integrations/oauth-scopes-granular/), one per endpoint:
- POST /users/me/meetings          -> meeting:write:meeting (stated on
  https://developers.zoom.us/docs/isv/workflows/create-meeting/, "Granular Scopes Required")
- GET /users/me/meetings           -> meeting:read:list_meetings
- GET /meetings/{id}               -> meeting:read:meeting
- PATCH /meetings/{id}             -> meeting:update:meeting
- GET /meetings/{id}/invitation    -> meeting:read:invitation
- DELETE /meetings/{id}            -> meeting:delete:meeting
Apps created before granular scopes use the classic `meeting:read` / `meeting:write` instead; a deployment on
such an app would need these requirements changed (the public API has no way to express "either of").
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ADDS, OVERWRITES, READS, ToolContext, ToolExecutionError, time_zone, tool
from mcp_server.auth import Zoom
from toolkits.zoom import inputs
from toolkits.zoom.client import ZoomAPI, shape_meeting, to_zone

__all__ = [
    "create_meeting",
    "delete_meeting",
    "get_meeting",
    "get_meeting_invitation",
    "list_upcoming_meetings",
    "update_meeting",
]

WRITE_MEETING_SCOPE = "meeting:write:meeting"
LIST_MEETINGS_SCOPE = "meeting:read:list_meetings"
READ_MEETING_SCOPE = "meeting:read:meeting"
UPDATE_MEETING_SCOPE = "meeting:update:meeting"
READ_INVITATION_SCOPE = "meeting:read:invitation"
DELETE_MEETING_SCOPE = "meeting:delete:meeting"

# List meetings: page_size up to 300; a bounded walk of the pages.
PAGE_SIZE = 100
MAX_PAGES = 5
MAX_MEETINGS = 300
MAX_OCCURRENCES = 20  # of a recurring meeting, listed by GetMeeting

MeetingId = Annotated[str, "The numeric Zoom meeting id, e.g. '85746065432' (from ListUpcomingMeetings)."]


@tool(requires_auth=Zoom(scopes=[WRITE_MEETING_SCOPE]), title="Schedule a Zoom meeting", hints=ADDS)
async def create_meeting(
    context: ToolContext,
    topic: Annotated[str, "The meeting's title, up to 200 characters."],
    start_time: Annotated[
        str,
        "When the meeting starts, ISO 8601: '2026-12-01T15:00:00' is read in `timezone`; a time with an offset "
        "('2026-12-01T15:00:00-05:00' or '...Z') is taken as given. Must be in the future.",
    ],
    duration_minutes: Annotated[int, "How long the meeting is scheduled for, in minutes (1 to 1440)."] = 30,
    timezone: Annotated[str, "The meeting's IANA time zone, e.g. 'America/New_York', 'Europe/Paris' or 'UTC'."] = "UTC",
    agenda: Annotated[str, "An optional description of the meeting, up to 2,000 characters."] = "",
    invitees: Annotated[list[str] | None, "Optional email addresses to add to the meeting's invitee list."] = None,
) -> dict[str, Any]:
    """Schedule a Zoom meeting (a one-time scheduled meeting) hosted by the user.

    Use it when the user asks to set up, schedule or book a Zoom call. Returns the new meeting's meeting_id (for
    GetMeeting, UpdateMeeting, GetMeetingInvitation or DeleteMeeting), topic, start_time (ISO 8601 in the
    meeting's time zone, with offset), duration_minutes, timezone, join_url (share it with participants; it
    carries the passcode), has_passcode, agenda and the invitees added. The passcode itself is not returned.
    """
    title = inputs.topic(topic)
    minutes = inputs.duration(duration_minutes)
    meeting_zone = time_zone(timezone)
    start = inputs.start_time(start_time, meeting_zone.key)
    description = inputs.agenda(agenda)
    emails = inputs.invitees(invitees)

    body: dict[str, Any] = {
        "topic": title,
        "type": 2,  # a scheduled meeting
        # UTC with a trailing Z; `timezone` below is the zone Zoom shows the meeting in.
        "start_time": inputs.zoom_time(start),
        "duration": minutes,
        "timezone": meeting_zone.key,
    }
    if description:
        body["agenda"] = description
    if emails:
        body["settings"] = {"meeting_invitees": [{"email": email} for email in emails]}
    created = await ZoomAPI(context).request("POST", "/users/me/meetings", json=body, what="the new Zoom meeting")
    result = shape_meeting(created)
    result.setdefault("has_passcode", False)
    result["invitees"] = emails
    return result


@tool(requires_auth=Zoom(scopes=[LIST_MEETINGS_SCOPE]), title="List upcoming Zoom meetings", hints=READS)
async def list_upcoming_meetings(context: ToolContext) -> dict[str, Any]:
    """List the user's upcoming (and live) scheduled Zoom meetings that they host.

    Use it to find a meeting's id before reading, changing, sharing or deleting it, or to answer "what Zoom
    calls do I have". Returns `meetings` (each with meeting_id, topic, type, start_time in ISO 8601 with the
    meeting's time zone offset, duration_minutes, timezone, join_url, agenda), `count`, and `truncated` (true
    when there were more than 300 meetings and only the first 300 are listed).
    """
    meetings, truncated = await ZoomAPI(context).get_pages(
        "/users/me/meetings",
        what="the user's upcoming Zoom meetings",
        params={"type": "upcoming", "page_size": PAGE_SIZE},
        items_key="meetings",
        max_items=MAX_MEETINGS,
        max_pages=MAX_PAGES,
    )
    shaped = [shape_meeting(meeting) for meeting in meetings]
    return {"meetings": shaped, "count": len(shaped), "truncated": truncated}


@tool(requires_auth=Zoom(scopes=[READ_MEETING_SCOPE]), title="Get a Zoom meeting", hints=READS)
async def get_meeting(context: ToolContext, meeting_id: MeetingId) -> dict[str, Any]:
    """Get the details of one Zoom meeting: topic, type, start_time (ISO 8601 in the meeting's time zone, with
    offset), duration_minutes, timezone, join_url, agenda, status ('waiting', 'started'), whether it has a
    passcode, and for a recurring meeting its next occurrences (occurrence_id, start_time, duration_minutes,
    status). The passcode itself is not returned; the join_url carries it.
    """
    number = inputs.meeting_id(meeting_id)
    meeting = await ZoomAPI(context).get_json(f"/meetings/{number}", what=f"the Zoom meeting {number}")
    result = shape_meeting(meeting)
    if meeting.get("status"):
        result["status"] = meeting["status"]
    zone_name = meeting.get("timezone") or None
    occurrences = [o for o in meeting.get("occurrences") or [] if isinstance(o, dict)]
    if occurrences:
        result["occurrences"] = [
            {
                "occurrence_id": str(o.get("occurrence_id", "")),
                "start_time": to_zone(o.get("start_time"), zone_name),
                "duration_minutes": o.get("duration"),
                "status": o.get("status"),
            }
            for o in occurrences[:MAX_OCCURRENCES]
        ]
    return result


@tool(requires_auth=Zoom(scopes=[UPDATE_MEETING_SCOPE]), title="Change a Zoom meeting", hints=OVERWRITES)
async def update_meeting(
    context: ToolContext,
    meeting_id: MeetingId,
    topic: Annotated[str | None, "A new title, up to 200 characters."] = None,
    start_time: Annotated[
        str | None,
        "A new start, ISO 8601 in the future: with an offset ('2026-12-01T15:00:00-05:00'), or without one when "
        "timezone is also given.",
    ] = None,
    duration_minutes: Annotated[int | None, "A new length in minutes (1 to 1440)."] = None,
    timezone: Annotated[str | None, "A new IANA time zone for the meeting, e.g. 'Europe/Paris'."] = None,
    agenda: Annotated[str | None, "A new description, up to 2,000 characters ('' clears it)."] = None,
) -> dict[str, Any]:
    """Change one of the user's scheduled Zoom meetings: its topic, start time, length, time zone or agenda.

    Give the meeting_id and only what changes; everything else stays as it was. Use it when the user asks to
    move, rename or extend a meeting. Returns meeting_id, updated: true and the fields as sent (start_time in
    ISO 8601 with offset); read the meeting with GetMeeting to see all of it.
    """
    number = inputs.meeting_id(meeting_id)
    body: dict[str, Any] = {}
    changed: dict[str, Any] = {}
    if topic is not None:
        body["topic"] = changed["topic"] = inputs.topic(topic)
    meeting_zone = time_zone(timezone) if timezone is not None else None
    if meeting_zone is not None:
        body["timezone"] = changed["timezone"] = meeting_zone.key
    if start_time is not None:
        start = inputs.start_time(start_time, meeting_zone.key if meeting_zone is not None else None)
        body["start_time"] = inputs.zoom_time(start)
        changed["start_time"] = start.isoformat()
    if duration_minutes is not None:
        body["duration"] = changed["duration_minutes"] = inputs.duration(duration_minutes)
    if agenda is not None:
        body["agenda"] = changed["agenda"] = inputs.agenda(agenda)
    if not body:
        raise ToolExecutionError(
            "Nothing to change: give at least one of topic, start_time, duration_minutes, timezone or agenda."
        )
    await ZoomAPI(context).send("PATCH", f"/meetings/{number}", json=body, what=f"the Zoom meeting {number}")
    return {"meeting_id": number, "updated": True, **changed}


@tool(requires_auth=Zoom(scopes=[READ_INVITATION_SCOPE]), title="Get a Zoom meeting's invitation", hints=READS)
async def get_meeting_invitation(context: ToolContext, meeting_id: MeetingId) -> dict[str, Any]:
    """Get the invitation text of a Zoom meeting: the plain-text note with the join link, meeting id, passcode
    and dial-in numbers that people paste into an email or calendar invite.

    Use it when the user wants to share or send the details of a meeting. Returns meeting_id, invitation (plain
    text) and sip_links (SIP addresses to join from a room system, when Zoom gives any).
    """
    number = inputs.meeting_id(meeting_id)
    body = await ZoomAPI(context).get_json(
        f"/meetings/{number}/invitation", what=f"the invitation of the Zoom meeting {number}"
    )
    text = str(body.get("invitation") or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    sip_links = [link for link in body.get("sip_links") or [] if isinstance(link, str)]
    return {"meeting_id": number, "invitation": text, "sip_links": sip_links}


@tool(requires_auth=Zoom(scopes=[DELETE_MEETING_SCOPE]), title="Delete a Zoom meeting", hints=OVERWRITES)
async def delete_meeting(
    context: ToolContext,
    meeting_id: Annotated[str, "The numeric Zoom meeting id to delete, e.g. '85746065432'."],
) -> dict[str, Any]:
    """Delete (cancel) one of the user's scheduled Zoom meetings. This cannot be undone.

    Use it only when the user clearly asks to cancel or delete that meeting; confirm the meeting first with
    ListUpcomingMeetings when in doubt. Returns meeting_id and deleted: true.
    """
    number = inputs.meeting_id(meeting_id)
    await ZoomAPI(context).send("DELETE", f"/meetings/{number}", what=f"the Zoom meeting {number}")
    return {"meeting_id": number, "deleted": True}
