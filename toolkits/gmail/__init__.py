"""Gmail: read, search, send, draft, reply to, forward, label and trash the user's email, with their Google
authorization.

Talks to the Gmail API v1 (https://developers.google.com/gmail/api/reference/rest); set
`[toolkit_settings.gmail] api_base_url` to point it elsewhere (e.g. a stand-in in tests).
"""

from toolkits.gmail.drafts import delete_draft_email, list_drafts, update_draft_email, write_draft_reply_email
from toolkits.gmail.labels import archive_email, change_email_labels, create_label
from toolkits.gmail.messages import forward_email, get_email, list_attachments, list_threads
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
    "archive_email",
    "change_email_labels",
    "create_label",
    "delete_draft_email",
    "forward_email",
    "get_email",
    "get_thread",
    "list_attachments",
    "list_drafts",
    "list_emails",
    "list_labels",
    "list_threads",
    "reply_to_email",
    "search_emails",
    "send_draft_email",
    "send_email",
    "trash_email",
    "update_draft_email",
    "write_draft_email",
    "write_draft_reply_email",
]
