"""Microsoft 365: Outlook mail and calendar, OneDrive and Teams, with the user's Microsoft authorization.

Talks to Microsoft Graph v1.0 (https://learn.microsoft.com/en-us/graph/api/overview); set
`[toolkit_settings.microsoft] api_base_url` to point it elsewhere (e.g. a stand-in in tests). Each tool asks
for the narrowest Graph delegated permission it needs (Mail.Read, Mail.Send, Calendars.ReadWrite, ...).
"""

from toolkits.microsoft.calendar import create_event, delete_event, get_free_busy, list_events, update_event
from toolkits.microsoft.mail import (
    get_email,
    list_emails,
    reply_to_email,
    search_emails,
    send_draft_email,
    send_email,
    write_draft_email,
)
from toolkits.microsoft.onedrive import get_file_content, list_files, search_files
from toolkits.microsoft.teams import (
    get_channel_messages,
    get_chat_messages,
    list_channels,
    list_chats,
    list_teams,
    send_channel_message,
    send_chat_message,
)

__all__ = [
    "create_event",
    "delete_event",
    "get_channel_messages",
    "get_chat_messages",
    "get_email",
    "get_file_content",
    "get_free_busy",
    "list_channels",
    "list_chats",
    "list_emails",
    "list_events",
    "list_files",
    "list_teams",
    "reply_to_email",
    "search_emails",
    "search_files",
    "send_channel_message",
    "send_chat_message",
    "send_draft_email",
    "send_email",
    "update_event",
    "write_draft_email",
]
