"""Zoom: schedule, list, read, change, share and cancel the user's Zoom meetings, and list their cloud recordings
(Zoom API v2, as the user: `users/me`).

Tools: CreateMeeting, ListUpcomingMeetings, GetMeeting, UpdateMeeting, GetMeetingInvitation, DeleteMeeting,
ListRecordings, each asking only for the granular scope its endpoint needs. Settings (`[toolkit_settings.zoom]`):
`api_base_url`, default https://api.zoom.us/v2.
"""

from __future__ import annotations

from toolkits.zoom.recordings import list_recordings
from toolkits.zoom.tools import (
    create_meeting,
    delete_meeting,
    get_meeting,
    get_meeting_invitation,
    list_upcoming_meetings,
    update_meeting,
)

TOOLKIT_NAME = "Zoom"

__all__ = [
    "TOOLKIT_NAME",
    "create_meeting",
    "delete_meeting",
    "get_meeting",
    "get_meeting_invitation",
    "list_recordings",
    "list_upcoming_meetings",
    "update_meeting",
]
