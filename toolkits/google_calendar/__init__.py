"""GoogleCalendar: read and manage the user's Google Calendar (Calendar API v3) with their Google token.

Tools: ListCalendars, ListEvents, CreateEvent, UpdateEvent, DeleteEvent, FindFreeSlots.
"""

from __future__ import annotations

from .tools import (
    create_event,
    delete_event,
    find_free_slots,
    list_calendars,
    list_events,
    update_event,
)

TOOLKIT_NAME = "GoogleCalendar"

__all__ = ["create_event", "delete_event", "find_free_slots", "list_calendars", "list_events", "update_event"]
