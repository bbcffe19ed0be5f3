"""The Zoom recording tool: list the user's cloud recordings in a date range.

GET /users/me/recordings (https://developers.zoom.us/docs/api/meetings/#tag/cloud-recording/GET/users/{userId}/recordings)
needs the granular scope cloud_recording:read:list_user_recordings; `from` and `to` are dates (yyyy-mm-dd, UTC)
at most a month apart, and pages follow `next_page_token` like every Zoom listing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from mcp_server import READS, ToolContext, ToolExecutionError, tool
from mcp_server.auth import Zoom
from toolkits.zoom import inputs
from toolkits.zoom.client import MEETING_TYPES, ZoomAPI, to_zone

__all__ = ["list_recordings"]

LIST_RECORDINGS_SCOPE = "cloud_recording:read:list_user_recordings"
MAX_RANGE_DAYS = 31  # "The maximum date range is a month"
DEFAULT_RANGE_DAYS = 30
PAGE_SIZE = 100  # of at most 300
MAX_PAGES = 3
MAX_RECORDINGS = 300


def _meeting_type(value: Any) -> str:
    """The recording's meeting type: Zoom sends it as a string here ("1"), unlike the meeting objects."""
    try:
        return MEETING_TYPES.get(int(value), str(value))
    except (TypeError, ValueError):
        return str(value or "")


def _recording(meeting: dict[str, Any]) -> dict[str, Any]:
    """A recorded meeting with its files; never the play passcode or the token-bearing download links."""
    zone = meeting.get("timezone") or None
    files = [f for f in meeting.get("recording_files") or [] if isinstance(f, dict)]
    shaped: dict[str, Any] = {
        "meeting_id": str(meeting.get("id", "")),
        "meeting_uuid": meeting.get("uuid"),
        "topic": meeting.get("topic", ""),
        "type": _meeting_type(meeting.get("type")),
        "start_time": to_zone(meeting.get("start_time"), zone),
        "duration_minutes": meeting.get("duration"),
        "total_size_bytes": meeting.get("total_size"),
        "files": [
            {
                "file_type": f.get("file_type"),
                "recording_type": f.get("recording_type"),
                "start": to_zone(f.get("recording_start"), zone),
                "end": to_zone(f.get("recording_end"), zone),
                "size_bytes": f.get("file_size"),
                "status": f.get("status"),
                "play_url": f.get("play_url"),
            }
            for f in files
        ],
    }
    if meeting.get("share_url"):
        shaped["share_url"] = meeting["share_url"]
    return shaped


@tool(requires_auth=Zoom(scopes=[LIST_RECORDINGS_SCOPE]), title="List Zoom cloud recordings", hints=READS)
async def list_recordings(
    context: ToolContext,
    from_date: Annotated[str | None, "First day to include, YYYY-MM-DD (UTC). Default: 30 days before to_date."] = None,
    to_date: Annotated[str | None, "Last day to include, YYYY-MM-DD (UTC). Default: today."] = None,
) -> dict[str, Any]:
    """List the user's Zoom cloud recordings of meetings that started between from_date and to_date (at most a
    month apart).

    Use it to find a meeting's recording, its transcript or its play link. Returns `recordings` (each with
    meeting_id, meeting_uuid, topic, type, start_time in ISO 8601 with offset, duration_minutes,
    total_size_bytes, share_url when shared, and files: file_type such as MP4, M4A or TRANSCRIPT,
    recording_type, start, end, size_bytes, status, play_url), `count`, `from_date`, `to_date` and `truncated`
    (true when more than 300 recorded meetings matched).
    """
    last = inputs.day(to_date, "to_date") if to_date is not None else datetime.now(UTC).date()
    first = inputs.day(from_date, "from_date") if from_date is not None else last - timedelta(days=DEFAULT_RANGE_DAYS)
    if first > last:
        raise ToolExecutionError(f"from_date ({first}) must not be after to_date ({last}).")
    if (last - first).days > MAX_RANGE_DAYS:
        raise ToolExecutionError(
            f"from_date {first} to to_date {last} spans {(last - first).days} days; Zoom lists at most a month "
            f"at a time, so ask for {MAX_RANGE_DAYS} days or fewer (and call again for earlier months)."
        )
    meetings, truncated = await ZoomAPI(context).get_pages(
        "/users/me/recordings",
        what="the user's Zoom cloud recordings",
        params={"from": first.isoformat(), "to": last.isoformat(), "page_size": PAGE_SIZE},
        items_key="meetings",
        max_items=MAX_RECORDINGS,
        max_pages=MAX_PAGES,
    )
    recordings = [_recording(meeting) for meeting in meetings]
    return {
        "recordings": recordings,
        "count": len(recordings),
        "from_date": first.isoformat(),
        "to_date": last.isoformat(),
        "truncated": truncated,
    }
