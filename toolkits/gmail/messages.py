"""The Gmail tools around single messages and conversations: get an email, list threads, list an email's
attachments, forward an email."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ACTS, READS, ToolContext, ToolExecutionError, email_addresses, tool
from mcp_server.auth import Google
from toolkits.gmail import client, compose
from toolkits.gmail.client import EmailId
from toolkits.gmail.scopes import READONLY, SEND

MAX_THREADS = 25
THREAD_HEADERS = ("From", "Subject", "Date")


@tool(requires_auth=Google(scopes=[READONLY]), title="Get an email", hints=READS)
async def get_email(
    context: ToolContext,
    email_id: Annotated[str, "The id of the email, as ListEmails, SearchEmails, GetThread or ListDrafts returned it."],
) -> dict[str, Any]:
    """Get one email by its id: headers, plain-text body and the list of its attachments.

    Returns {id, thread_id, from, to, cc, subject, date (ISO 8601 with time zone), snippet, body,
    body_truncated, label_ids, attachments: [{attachment_id, filename, mime_type, size (bytes), part_id}]}.
    """
    email_id = client.check_id(email_id, "email_id", "ListEmails or SearchEmails")
    message = await client.get_message(context, email_id)
    return {**client.shape_message(message), "attachments": client.attachments_of(message.get("payload") or {})}


@tool(requires_auth=Google(scopes=[READONLY]), title="List email threads", hints=READS)
async def list_threads(
    context: ToolContext,
    query: Annotated[str, "Optional Gmail search syntax to filter the threads, e.g. 'is:unread' or 'from:ana'."] = "",
    max_results: Annotated[int, "How many threads to return at most, 1 to 25."] = 10,
) -> dict[str, Any]:
    """List the user's email conversations (threads), most recent first, optionally filtered by a Gmail search.

    Use it for an overview by conversation; read a whole thread with GetThread. Returns {"query", "threads":
    [{id, subject, from (of the first message), date (ISO 8601, of the latest message), message_count,
    snippet}], "count"}.
    """
    max_results = client.check_count(max_results, "max_results", MAX_THREADS)
    q = query.strip() if isinstance(query, str) else ""
    refs = await client.list_refs(context, "threads", limit=max_results, query=q or None, what="the user's threads")
    threads = []
    for ref in refs:
        thread_id = str(ref["id"])
        thread = await client.GmailAPI(context).request(
            "GET",
            f"/threads/{thread_id}",
            what=f"the thread {thread_id}",
            params=[("format", "metadata")] + [("metadataHeaders", h) for h in THREAD_HEADERS],
        )
        messages = [m for m in thread.get("messages") or [] if isinstance(m, dict)]
        first = client.headers_of((messages[0].get("payload") or {}) if messages else {})
        last = messages[-1] if messages else {}
        threads.append(
            {
                "id": thread_id,
                "subject": first.get("subject", ""),
                "from": first.get("from", ""),
                "date": client.iso_date(
                    client.headers_of(last.get("payload") or {}).get("date"), last.get("internalDate")
                ),
                "message_count": len(messages),
                "snippet": ref.get("snippet") or last.get("snippet", ""),
            }
        )
    return {"query": q, "threads": threads, "count": len(threads)}


@tool(requires_auth=Google(scopes=[READONLY]), title="List an email's attachments", hints=READS)
async def list_attachments(
    context: ToolContext,
    email_id: EmailId,
) -> dict[str, Any]:
    """List the files attached to an email: names, types and sizes (not their content).

    Returns {"email_id", "attachments": [{attachment_id, filename, mime_type, size (bytes), part_id}], "count"}.
    """
    email_id = client.check_id(email_id, "email_id", "ListEmails or SearchEmails")
    message = await client.get_message(context, email_id)
    attachments = client.attachments_of(message.get("payload") or {})
    return {"email_id": email_id, "attachments": attachments, "count": len(attachments)}


@tool(requires_auth=Google(scopes=[READONLY, SEND]), title="Forward an email", hints=ACTS)
async def forward_email(
    context: ToolContext,
    email_id: Annotated[str, "The id of the email to forward, as ListEmails, SearchEmails or GetThread returned it."],
    recipients: Annotated[list[str], "The email addresses to forward it to, e.g. ['ana@example.com']."],
    note: Annotated[str, "A plain-text note above the forwarded email; may be empty."] = "",
    include_attachments: Annotated[bool, "Forward the email's attachments too."] = True,
) -> dict[str, Any]:
    """Forward an email from the user's Gmail to other people and send it right away, with an optional note.

    The original's headers and text are quoted below the note ("Fwd: <subject>"), and its attachments are
    re-attached (up to 15 MB in total). Returns the sent message's `id`, `thread_id`, `to` and the names of the
    `attachments` forwarded.
    """
    email_id = client.check_id(email_id, "email_id", "ListEmails, SearchEmails or GetThread")
    to = email_addresses(recipients, name="recipient")
    if not to:
        raise ToolExecutionError("recipients is empty; give at least one address to forward the email to.")
    if not isinstance(note, str):
        raise ToolExecutionError("note must be text; give an empty string for no note.")
    outgoing, names = await compose.forward(context, email_id, to, note, include_attachments=include_attachments)
    sent = await client.GmailAPI(context).request(
        "POST", "/messages/send", what=f"forwarding the message {email_id}", json=outgoing.payload
    )
    return {"id": sent.get("id"), "thread_id": sent.get("threadId"), "to": to, "attachments": names}
