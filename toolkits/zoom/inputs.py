"""Checking what the model gave before any request: meeting ids, start times, meeting fields, dates.

Time zones, times and numbers go through the toolkit API's shared checks (`time_zone`, `date_time`,
`whole_number`), so a mistake gets the same answer in every toolkit.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from mcp_server import ToolExecutionError, date_time, email_addresses, whole_number

# Limits from the Create a meeting reference (topic up to 200 characters, agenda up to 2,000).
MAX_TOPIC_CHARS = 200
MAX_AGENDA_CHARS = 2000
MIN_DURATION, MAX_DURATION = 1, 1440
MAX_INVITEES = 100

_MEETING_ID = re.compile(r"\d{9,19}")


def meeting_id(value: Any) -> str:
    """A Zoom meeting id: digits (spaces and dashes as in "851 2345 6789" are removed)."""
    text = re.sub(r"[\s-]", "", str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not _MEETING_ID.fullmatch(text):
        raise ToolExecutionError(
            f"meeting_id {value!r} is not a Zoom meeting id: give the numeric id (9 to 19 digits, e.g. "
            f"85746065432) that ListUpcomingMeetings or CreateMeeting returned."
        )
    return text


def start_time(value: Any, zone: str | None) -> datetime:
    """The start as an aware datetime in the future: ISO 8601 with an offset, or a local time in `zone`."""
    moment = date_time(value, name="start_time", zone=zone)
    if moment <= datetime.now(UTC):
        raise ToolExecutionError(f"start_time {value!r} is in the past; a scheduled meeting needs a future start time.")
    return moment


def zoom_time(moment: datetime) -> str:
    """UTC with a trailing Z, the format Zoom's meeting requests take."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def topic(value: Any) -> str:
    title = value.strip() if isinstance(value, str) else ""
    if not title:
        raise ToolExecutionError("topic is required: give the meeting a short title.")
    if len(title) > MAX_TOPIC_CHARS:
        raise ToolExecutionError(f"topic is {len(title)} characters; Zoom allows at most {MAX_TOPIC_CHARS}.")
    return title


def duration(value: Any) -> int:
    return whole_number(value, name="duration_minutes", minimum=MIN_DURATION, maximum=MAX_DURATION)


def agenda(value: Any) -> str:
    description = value.strip() if isinstance(value, str) else ""
    if len(description) > MAX_AGENDA_CHARS:
        raise ToolExecutionError(f"agenda is {len(description)} characters; Zoom allows at most {MAX_AGENDA_CHARS}.")
    return description


def invitees(values: Any) -> list[str]:
    emails = email_addresses(values, name="invitee")
    if len(emails) > MAX_INVITEES:
        raise ToolExecutionError(f"At most {MAX_INVITEES} invitees can be given; got {len(emails)}.")
    return emails


def day(value: Any, name: str) -> date:
    """A calendar date given as 'YYYY-MM-DD'."""
    message = f"{name}={value!r} is not a date; give it as YYYY-MM-DD, e.g. '2026-11-01'."
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ToolExecutionError(message)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:  # e.g. 2026-02-30
        raise ToolExecutionError(message) from None
