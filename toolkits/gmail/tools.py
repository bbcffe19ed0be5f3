"""The Gmail tools for everyday mail: list, search and read threads; send, draft and reply; trash; list labels."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from mcp_server import ACTS, ADDS, OVERWRITES, READS, ToolContext, ToolExecutionError, tool
from mcp_server.auth import Google
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
from toolkits.gmail import client, compose
from toolkits.gmail.scopes import COMPOSE, MODIFY, READONLY, SEND


def _check_date(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ToolExecutionError(
            f"{name} {value!r} is not a date; use the form YYYY-MM-DD, e.g. '2024-03-31'."
        ) from None


def _quoted(value: str) -> str:
    value = value.strip().replace('"', "")
    return f'"{value}"' if re.search(r"\s", value) else value


@tool(requires_auth=Google(scopes=[READONLY]), title="List recent emails", hints=READS)
async def list_emails(
    context: ToolContext,
    n_emails: EmailRecentCount = 5,
) -> dict[str, Any]:
    """List the user's most recent emails (newest first, any label except spam and trash).

    Use it to see what arrived lately; use SearchEmails to find particular emails. Returns `emails`, each with
    `id` (for ReplyToEmail and TrashEmail), `thread_id` (for GetThread), from, to, cc, subject, date (ISO 8601
    with time zone), snippet, the plain-text body (cut after a few thousand characters; `body_truncated` says
    so) and label_ids.
    """
    n_emails = client.check_count(n_emails, "n_emails")
    refs = await client.list_refs(context, "messages", limit=n_emails)
    emails = await client.fetch_messages(context, refs)
    return {"emails": emails, "count": len(emails)}


@tool(requires_auth=Google(scopes=[READONLY]), title="Search emails", hints=READS)
async def search_emails(
    context: ToolContext,
    query: Annotated[str, "Gmail search syntax, e.g. 'invoice has:attachment' or 'is:unread'; may be empty."] = "",
    sender: EmailFromFilter = None,
    recipient: Annotated[str | None, "Only emails sent to this address or name."] = None,
    subject: EmailSubjectFilter = None,
    after_date: Annotated[str | None, "Only emails received on or after this date, YYYY-MM-DD."] = None,
    before_date: Annotated[str | None, "Only emails received before this date, YYYY-MM-DD."] = None,
    label: Annotated[str | None, "Only emails with this label name (see ListLabels), e.g. 'INBOX' or 'Work'."] = None,
    max_results: EmailMatchCount = 10,
) -> dict[str, Any]:
    """Search the user's email with Gmail search syntax and/or simple filters (sender, recipient, subject,
    date range, label), which are combined with AND.

    Use it to find particular emails; use ListEmails for simply the latest ones. Returns `query` (the Gmail
    search string that was run) and `emails` (newest first), each with `id`, `thread_id`, from, to, cc,
    subject, date (ISO 8601 with time zone), snippet, plain-text body and label_ids.
    """
    max_results = client.check_count(max_results, "max_results")
    after = _check_date(after_date, "after_date")
    before = _check_date(before_date, "before_date")
    if after and before and after >= before:
        raise ToolExecutionError(
            f"after_date {after.isoformat()} must be earlier than before_date {before.isoformat()}."
        )
    terms = [query.strip()] if query and query.strip() else []
    if sender and sender.strip():
        terms.append(f"from:{_quoted(sender)}")
    if recipient and recipient.strip():
        terms.append(f"to:{_quoted(recipient)}")
    if subject and subject.strip():
        terms.append(f"subject:{_quoted(subject)}")
    if after:
        terms.append(f"after:{after:%Y/%m/%d}")
    if before:
        terms.append(f"before:{before:%Y/%m/%d}")
    if label and label.strip():
        terms.append(f"label:{_quoted(label.strip().replace(' ', '-'))}")
    if not terms:
        raise ToolExecutionError(
            "Give a query or at least one filter (sender, recipient, subject, after_date, before_date, label); "
            "to see the latest emails without a filter use ListEmails."
        )
    q = " ".join(terms)
    refs = await client.list_refs(context, "messages", limit=max_results, query=q, what="the email search")
    emails = await client.fetch_messages(context, refs)
    return {"query": q, "emails": emails, "count": len(emails)}


@tool(requires_auth=Google(scopes=[READONLY]), title="Read an email thread", hints=READS)
async def get_thread(
    context: ToolContext,
    thread_id: Annotated[str, "The thread_id of an email, as ListEmails or SearchEmails returned it."],
) -> dict[str, Any]:
    """Get a whole email conversation (thread): every message in it, oldest first.

    Use it to read the context of an email before replying. Returns `thread_id`, `message_count` and
    `messages`, each with `id`, from, to, cc, subject, date (ISO 8601 with time zone), snippet, plain-text
    body and label_ids.
    """
    thread_id = client.check_id(thread_id, "thread_id", "ListEmails or SearchEmails")
    thread = await client.GmailAPI(context).request(
        "GET", f"/threads/{thread_id}", what=f"the thread {thread_id}", params={"format": "full"}
    )
    messages = [client.shape_message(m) for m in thread.get("messages") or [] if isinstance(m, dict)]
    return {"thread_id": thread.get("id", thread_id), "message_count": len(messages), "messages": messages}


@tool(requires_auth=Google(scopes=[SEND]), title="Send an email", hints=ACTS)
async def send_email(
    context: ToolContext,
    recipient: Annotated[str, "The email address to send to, e.g. 'ana@example.com'."],
    subject: EmailSubject,
    body: EmailBody,
    cc: EmailCc = None,
    bcc: EmailBcc = None,
) -> dict[str, Any]:
    """Send a new plain-text email from the user's Gmail account right away.

    Use WriteDraftEmail instead when the user should review the email first, and ReplyToEmail to answer an
    email. Returns the sent message's `id`, `thread_id` and `label_ids`.
    """
    raw = client.NewEmail.checked(recipient=recipient, subject=subject, body=body, cc=cc, bcc=bcc).raw()
    sent = await client.GmailAPI(context).request("POST", "/messages/send", what="sending the email", json={"raw": raw})
    return {"id": sent.get("id"), "thread_id": sent.get("threadId"), "label_ids": list(sent.get("labelIds") or [])}


@tool(requires_auth=Google(scopes=[COMPOSE]), title="Write a draft email", hints=ADDS)
async def write_draft_email(
    context: ToolContext,
    recipient: compose.DraftRecipient,
    subject: EmailSubject,
    body: EmailBody,
    cc: EmailCc = None,
    bcc: EmailBcc = None,
) -> dict[str, Any]:
    """Save a new plain-text email as a draft in the user's Gmail, without sending it.

    Use it when the user wants to review an email before it goes out; send it later with SendDraftEmail.
    Returns `draft_id` (for SendDraftEmail), and the draft message's `message_id` and `thread_id`.
    """
    raw = client.NewEmail.checked(recipient=recipient, subject=subject, body=body, cc=cc, bcc=bcc).raw()
    draft = await client.GmailAPI(context).request(
        "POST", "/drafts", what="creating the draft", json={"message": {"raw": raw}}
    )
    return client.saved_draft(draft)


@tool(requires_auth=Google(scopes=[COMPOSE]), title="Send a draft email", hints=ACTS)
async def send_draft_email(
    context: ToolContext,
    draft_id: EmailDraftId,
) -> dict[str, Any]:
    """Send one of the user's existing Gmail drafts to the recipients it names.

    Use it after WriteDraftEmail once the user agrees. Returns the sent message's `id`, `thread_id` and
    `label_ids`.
    """
    draft_id = client.check_id(draft_id, "draft_id", "WriteDraftEmail")
    sent = await client.GmailAPI(context).request(
        "POST", "/drafts/send", what=f"the draft {draft_id}", json={"id": draft_id}
    )
    return {"id": sent.get("id"), "thread_id": sent.get("threadId"), "label_ids": list(sent.get("labelIds") or [])}


@tool(requires_auth=Google(scopes=[READONLY, SEND]), title="Reply to an email", hints=ACTS)
async def reply_to_email(
    context: ToolContext,
    email_id: compose.AnsweredEmail,
    body: compose.ReplyBody,
    reply_all: Annotated[
        bool, "True to reply to the sender and everyone else in To and Cc; False for the sender only."
    ] = False,
) -> dict[str, Any]:
    """Reply to an email in the user's Gmail, in the same conversation (thread), and send it right away.

    Replies to the sender (or the Reply-To address), with "Re: <subject>"; with reply_all, everyone else on
    the email is copied, except the user. Use WriteDraftReplyEmail for a reply the user reviews first.
    Returns the sent reply's `id`, `thread_id`, and the `to` and `cc` it went to.
    """
    email_id = client.check_id(email_id, "email_id", "ListEmails, SearchEmails or GetThread")
    if not body or not body.strip():
        raise ToolExecutionError("The reply body is empty; give the text of the reply.")
    outgoing = await compose.reply(context, email_id, body, reply_all=reply_all)
    sent = await client.GmailAPI(context).request(
        "POST", "/messages/send", what=f"the reply to {email_id}", json=outgoing.payload
    )
    return {"id": sent.get("id"), "thread_id": sent.get("threadId"), "to": outgoing.to, "cc": outgoing.cc}


@tool(requires_auth=Google(scopes=[MODIFY]), title="Move an email to the trash", hints=OVERWRITES)
async def trash_email(
    context: ToolContext,
    email_id: Annotated[str, "The id of the email to move to the trash, as ListEmails or SearchEmails returned it."],
) -> dict[str, Any]:
    """Move an email to the user's Gmail trash (Gmail deletes it for good after 30 days; it can be restored
    until then).

    Returns the email's `id`, `thread_id`, `label_ids` (now including TRASH) and `trashed`.
    """
    email_id = client.check_id(email_id, "email_id", "ListEmails or SearchEmails")
    message = await client.GmailAPI(context).request(
        "POST", f"/messages/{email_id}/trash", what=f"the message {email_id}"
    )
    labels = list(message.get("labelIds") or [])
    return {
        "id": message.get("id", email_id),
        "thread_id": message.get("threadId"),
        "label_ids": labels,
        "trashed": "TRASH" in labels,
    }


@tool(requires_auth=Google(scopes=[READONLY]), title="List Gmail labels", hints=READS)
async def list_labels(context: ToolContext) -> dict[str, Any]:
    """List the labels in the user's Gmail: the system ones (INBOX, SENT, ...) and the user's own.

    Use it to find a label name for SearchEmails. Returns `labels`, each with `id`, `name` and `type`
    ("system" or "user").
    """
    data = await client.GmailAPI(context).request("GET", "/labels", what="the user's labels")
    labels = [
        {"id": label.get("id"), "name": label.get("name"), "type": label.get("type")}
        for label in data.get("labels") or []
        if isinstance(label, dict)
    ]
    return {"labels": labels, "count": len(labels)}
