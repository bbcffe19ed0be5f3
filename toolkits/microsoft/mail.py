"""Outlook mail through Microsoft Graph: list, search, read, send, reply to and draft the user's email."""

from __future__ import annotations

import re
from typing import Annotated, Any

from mcp_server import ACTS, ADDS, READS, ToolContext, ToolExecutionError, tool, whole_number
from mcp_server.auth import Microsoft
from mcp_server.toolkit.inputs import (
    EmailBcc,
    EmailBody,
    EmailCc,
    EmailDraftId,
    EmailFromFilter,
    EmailMatchCount,
    EmailRecentCount,
    EmailSubject,
    EmailSubjectFilter,
)
from toolkits.microsoft import client

MAIL_READ = "Mail.Read"
MAIL_SEND = "Mail.Send"
MAIL_READWRITE = "Mail.ReadWrite"

MAX_EMAILS = 50
WELL_KNOWN_FOLDERS = ("inbox", "sentitems", "drafts", "deleteditems", "archive", "junkemail")
_LIST_FIELDS = (
    "id,conversationId,subject,from,toRecipients,ccRecipients,receivedDateTime,bodyPreview,isRead,hasAttachments,"
    "webLink"
)
_EMAIL_FIELDS = _LIST_FIELDS + ",body"
_SEARCH_QUOTES = re.compile(r'["\\]')


def _shape(message: dict[str, Any], *, with_body: bool = False) -> dict[str, Any]:
    shaped = {
        "id": message.get("id"),
        "conversation_id": message.get("conversationId"),
        "from": client.address_of(message.get("from")),
        "to": client.addresses_of(message.get("toRecipients")),
        "cc": client.addresses_of(message.get("ccRecipients")),
        "subject": message.get("subject") or "",
        "received": client.iso_time(message.get("receivedDateTime")),
        "preview": message.get("bodyPreview") or "",
        "is_read": bool(message.get("isRead")),
        "has_attachments": bool(message.get("hasAttachments")),
        "web_link": message.get("webLink"),
    }
    if with_body:
        shaped["body"], shaped["body_truncated"] = client.truncate(client.body_text(message.get("body")))
    return shaped


def _message(
    subject: str, body: str, to: list[str] | None, cc: list[str] | None, bcc: list[str] | None, *, to_required: bool
) -> dict[str, Any]:
    """A Graph `message` resource for sendMail or a new draft, every input checked."""
    message: dict[str, Any] = {
        "subject": client.check_text(subject, "subject", required=False, maximum=998),
        "body": {"contentType": "Text", "content": client.check_text(body, "body", required=False)},
        "toRecipients": client.recipients(to, "recipient", required=to_required),
    }
    if not message["subject"] and not message["body"]["content"]:
        raise ToolExecutionError("Both subject and body are empty; give at least a subject or a body.")
    if cc:
        message["ccRecipients"] = client.recipients(cc, "cc address")
    if bcc:
        message["bccRecipients"] = client.recipients(bcc, "bcc address")
    return message


@tool(requires_auth=Microsoft(scopes=[MAIL_READ]), title="List Outlook emails", hints=READS)
async def list_emails(
    context: ToolContext,
    n_emails: EmailRecentCount = 10,
    folder: Annotated[
        str, "The mail folder: inbox, sentitems, drafts, deleteditems, archive, junkemail, or a folder id."
    ] = "inbox",
) -> dict[str, Any]:
    """List the most recent emails in one of the user's Outlook mail folders (the inbox unless told otherwise),
    newest first.

    Use SearchEmails to find particular emails and GetEmail to read one in full. Returns `emails`, each with
    `id` (for GetEmail, ReplyToEmail), `conversation_id`, from, to, cc, subject, received (ISO 8601 with time
    zone), preview (the start of the body), is_read, has_attachments and web_link; and `truncated` when more emails
    were left out.
    """
    n_emails = whole_number(n_emails, name="n_emails", maximum=MAX_EMAILS)
    folder = (folder or "").strip()
    if folder.lower() in WELL_KNOWN_FOLDERS:
        folder = folder.lower()
    else:
        folder = client.check_id(folder, "folder", f"one of {', '.join(WELL_KNOWN_FOLDERS)} or a folder id")
    return await client.GraphAPI(context).listing(
        f"/me/mailFolders/{folder}/messages",
        what=f"the user's {folder} mail folder",
        limit=n_emails,
        params={"$select": _LIST_FIELDS, "$orderby": "receivedDateTime desc"},
        key="emails",
        shape=_shape,
    )


@tool(requires_auth=Microsoft(scopes=[MAIL_READ]), title="Search Outlook emails", hints=READS)
async def search_emails(
    context: ToolContext,
    query: Annotated[
        str, "Words to find in the emails, or Outlook search syntax such as 'invoice hasattachments:yes'."
    ] = "",
    sender: EmailFromFilter = None,
    subject: EmailSubjectFilter = None,
    max_results: EmailMatchCount = 10,
) -> dict[str, Any]:
    """Search all of the user's Outlook email (every folder) by words and/or sender and subject, combined with
    AND.

    Use it to find particular emails; use ListEmails for simply the latest ones. Returns `search` (the search
    that was run) and `emails` (most relevant first), each with `id` (for GetEmail, ReplyToEmail),
    `conversation_id`, from, to, cc, subject, received (ISO 8601 with time
    zone), preview (the start of the body), is_read, has_attachments and web_link.
    """
    max_results = whole_number(max_results, name="max_results", maximum=MAX_EMAILS)
    terms = [query.strip()] if query and query.strip() else []
    for field, value in (("from", sender), ("subject", subject)):
        if value and value.strip():
            words = value.strip()
            terms.append(f"{field}:'{words}'" if " " in words else f"{field}:{words}")
    if not terms:
        raise ToolExecutionError("Give a query, a sender or a subject; to see the latest emails use ListEmails.")
    # $search takes one double-quoted KQL string (https://learn.microsoft.com/graph/search-query-parameter).
    search = _SEARCH_QUOTES.sub(" ", " ".join(terms)).strip()
    if len(search) > 500:
        raise ToolExecutionError("The search is longer than 500 characters; use fewer words.")
    return await client.GraphAPI(context).listing(
        "/me/messages",
        what="the email search",
        limit=max_results,
        params={"$search": f'"{search}"', "$select": _LIST_FIELDS},
        key="emails",
        shape=_shape,
        about={"search": search},
    )


@tool(requires_auth=Microsoft(scopes=[MAIL_READ]), title="Read an Outlook email", hints=READS)
async def get_email(
    context: ToolContext,
    email_id: Annotated[str, "The id of the email, as ListEmails or SearchEmails returned it."],
) -> dict[str, Any]:
    """Read one of the user's Outlook emails in full, its body as plain text.

    Returns `id`, `conversation_id`, from, to, cc, subject, received (ISO 8601 with time zone), preview,
    is_read, has_attachments, web_link and `body` (cut after a few thousand characters; `body_truncated` says
    so)."""
    email_id = client.check_id(email_id, "email_id", "ListEmails or SearchEmails")
    message = await client.GraphAPI(context).request(
        "GET", f"/me/messages/{email_id}", what=f"the email {email_id}", params={"$select": _EMAIL_FIELDS}
    )
    return _shape(message, with_body=True)


@tool(requires_auth=Microsoft(scopes=[MAIL_SEND]), title="Send an Outlook email", hints=ACTS)
async def send_email(
    context: ToolContext,
    to: Annotated[list[str], "The addresses to send to, e.g. ['ana@example.com']."],
    subject: EmailSubject,
    body: EmailBody,
    cc: EmailCc = None,
    bcc: EmailBcc = None,
) -> dict[str, Any]:
    """Send a new plain-text email from the user's Outlook account right away (a copy goes to Sent Items).

    Use WriteDraftEmail instead when the user should review the email first, and ReplyToEmail to answer an
    email. Returns `sent` and the `to`, `cc` and `bcc` it went to."""
    message = _message(subject, body, to, cc, bcc, to_required=True)
    await client.GraphAPI(context).request(
        "POST", "/me/sendMail", what="sending the email", json={"message": message, "saveToSentItems": True}
    )
    return {
        "sent": True,
        "to": client.addresses_of(message["toRecipients"]),
        "cc": client.addresses_of(message.get("ccRecipients")),
        "bcc": client.addresses_of(message.get("bccRecipients")),
    }


@tool(requires_auth=Microsoft(scopes=[MAIL_SEND]), title="Reply to an Outlook email", hints=ACTS)
async def reply_to_email(
    context: ToolContext,
    email_id: Annotated[str, "The id of the email to answer, as ListEmails, SearchEmails or GetEmail returned it."],
    body: Annotated[str, "The plain-text text of the reply."],
    reply_all: Annotated[
        bool, "True to reply to the sender and everyone else on the email; False for the sender only."
    ] = False,
) -> dict[str, Any]:
    """Reply to an email in the user's Outlook, in the same conversation, and send it right away.

    Outlook addresses the reply (the sender, or everyone with reply_all), sets "RE: <subject>" and quotes the
    original. Returns `replied_to` (the email id) and `reply_all`."""
    email_id = client.check_id(email_id, "email_id", "ListEmails, SearchEmails or GetEmail")
    text = client.check_text(body, "The reply body")
    action = "replyAll" if reply_all else "reply"
    await client.GraphAPI(context).request(
        "POST", f"/me/messages/{email_id}/{action}", what=f"the email {email_id}", json={"comment": text}
    )
    return {"replied_to": email_id, "reply_all": reply_all}


@tool(requires_auth=Microsoft(scopes=[MAIL_READWRITE]), title="Write an Outlook draft", hints=ADDS)
async def write_draft_email(
    context: ToolContext,
    subject: EmailSubject,
    body: EmailBody,
    to: Annotated[list[str] | None, "The addresses the draft is for; may be left for later."] = None,
    cc: EmailCc = None,
    bcc: EmailBcc = None,
) -> dict[str, Any]:
    """Save a new plain-text email as a draft in the user's Outlook Drafts folder, without sending it.

    Use it when the user wants to review an email before it goes out; send it later with SendDraftEmail.
    Returns `draft_id` (for SendDraftEmail), subject, to, cc and `web_link` (opens the draft in Outlook)."""
    message = _message(subject, body, to, cc, bcc, to_required=False)
    draft = await client.GraphAPI(context).request("POST", "/me/messages", what="creating the draft", json=message)
    return {
        "draft_id": draft.get("id"),
        "subject": draft.get("subject") or "",
        "to": client.addresses_of(draft.get("toRecipients")),
        "cc": client.addresses_of(draft.get("ccRecipients")),
        "web_link": draft.get("webLink"),
    }


@tool(requires_auth=Microsoft(scopes=[MAIL_SEND]), title="Send an Outlook draft", hints=ACTS)
async def send_draft_email(
    context: ToolContext,
    draft_id: EmailDraftId,
) -> dict[str, Any]:
    """Send one of the user's Outlook drafts to the recipients it names (it moves to Sent Items).

    Use it after WriteDraftEmail once the user agrees. Returns `sent` and the `draft_id`."""
    draft_id = client.check_id(draft_id, "draft_id", "WriteDraftEmail")
    await client.GraphAPI(context).request("POST", f"/me/messages/{draft_id}/send", what=f"the draft {draft_id}")
    return {"sent": True, "draft_id": draft_id}
