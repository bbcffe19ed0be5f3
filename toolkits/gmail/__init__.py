"""Gmail: read, search, send, draft, reply to and trash the user's email, with their Google authorization.

Talks to the Gmail API v1 (https://developers.google.com/gmail/api/reference/rest); set
`[toolkit_settings.gmail] api_base_url` to point it elsewhere (e.g. a stand-in in tests).
"""

from toolkits.gmail.tools import (
    get_thread,
    list_emails,
    list_labels,
    reply_to_email,
    search_emails,
    send_draft_email,
    send_email,
    trash_email,
    write_draft_email,
)

__all__ = [
    "get_thread",
    "list_emails",
    "list_labels",
    "reply_to_email",
    "search_emails",
    "send_draft_email",
    "send_email",
    "trash_email",
    "write_draft_email",
]
