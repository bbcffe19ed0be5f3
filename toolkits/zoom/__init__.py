"""Zoom: schedule, list, share and cancel the user's Zoom meetings (Zoom API v2, as the user: `users/me`).

Tools: CreateMeeting, ListUpcomingMeetings, GetMeetingInvitation, DeleteMeeting, each asking only for the
granular scope its endpoint needs. Settings (`[toolkit_settings.zoom]`): `api_base_url`, default
https://api.zoom.us/v2.
"""

from __future__ import annotations

from toolkits.zoom.tools import (
    create_meeting,
    delete_meeting,
    get_meeting_invitation,
    list_upcoming_meetings,
)

TOOLKIT_NAME = "Zoom"

__all__ = ["TOOLKIT_NAME", "create_meeting", "delete_meeting", "get_meeting_invitation", "list_upcoming_meetings"]
