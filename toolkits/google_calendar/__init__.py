"""GoogleCalendar: read and manage the user's Google Calendar (Calendar API v3) with their Google token.

Tools: ListCalendars, ListEvents, GetEvent, CreateEvent, QuickAddEvent, UpdateEvent, DeleteEvent,
RespondToEvent, FindFreeSlots (for the user and other attendees).
"""

from __future__ import annotations

from .availability import find_free_slots
from .events import get_event, quick_add_event, respond_to_event
from .tools import (
    create_event,
    delete_event,
    list_calendars,
    list_events,
    update_event,
)

TOOLKIT_NAME = "GoogleCalendar"

__all__ = [
    "create_event",
    "delete_event",
    "find_free_slots",
    "get_event",
    "list_calendars",
    "list_events",
    "quick_add_event",
    "respond_to_event",
    "update_event",
]
