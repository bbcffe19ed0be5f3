"""The Gmail draft tools beyond writing and sending one: list drafts, replace a draft, delete a draft, and
draft a reply."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ADDS, OVERWRITES, READS, ToolContext, ToolExecutionError, tool
from mcp_server.auth import Google
from mcp_server.toolkit.inputs import EmailBcc, EmailBody, EmailCc, EmailSubject
from toolkits.gmail import client, compose
from toolkits.gmail.scopes import COMPOSE, READONLY

MAX_DRAFTS = 25


def _shape_draft(draft: dict[str, Any]) -> dict[str, Any]:
    message = client.shape_message(draft.get("message") or {})
    return {
        "draft_id": draft.get("id"),
        "message_id": message["id"],
        "thread_id": message["thread_id"],
        "to": message["to"],
        "cc": message["cc"],
        "subject": message["subject"],
        "date": message["date"],
        "body": message["body"],
        "body_truncated": message["body_truncated"],
    }


@tool(requires_auth=Google(scopes=[READONLY]), title="List draft emails", hints=READS)
async def list_drafts(
    context: ToolContext,
    max_results: Annotated[int, "How many drafts to return at most, 1 to 25."] = 10,
) -> dict[str, Any]:
    """List the user's Gmail drafts, most recent first, with their recipients, subject and text.

    Pass a `draft_id` to SendDraftEmail, UpdateDraftEmail or DeleteDraftEmail. Returns {"drafts": [{draft_id,
    message_id, thread_id, to, cc, subject, date (ISO 8601), body, body_truncated}], "count"}.
    """
    max_results = client.check_count(max_results, "max_results", MAX_DRAFTS)
    refs = await client.list_refs(context, "drafts", limit=max_results, what="the user's drafts")
    drafts = []
    for ref in refs:
        draft_id = str(ref["id"])
        draft = await client.GmailAPI(context).request(
            "GET", f"/drafts/{draft_id}", what=f"the draft {draft_id}", params={"format": "full"}
        )
        drafts.append(_shape_draft(draft))
    return {"drafts": drafts, "count": len(drafts)}


@tool(requires_auth=Google(scopes=[COMPOSE]), title="Rewrite a draft email", hints=OVERWRITES)
async def update_draft_email(
    context: ToolContext,
    draft_id: Annotated[str, "The draft_id of the draft to rewrite, from WriteDraftEmail or ListDrafts."],
    recipient: compose.DraftRecipient,
    subject: EmailSubject,
    body: EmailBody,
    cc: EmailCc = None,
    bcc: EmailBcc = None,
) -> dict[str, Any]:
    """Replace the content of one of the user's Gmail drafts (recipients, subject and body; the old content is
    overwritten). A draft reply stays in its conversation.

    Returns `draft_id`, and the draft message's `message_id` and `thread_id`.
    """
    draft_id = client.check_id(draft_id, "draft_id", "WriteDraftEmail or ListDrafts")
    new = client.NewEmail.checked(recipient=recipient, subject=subject, body=body, cc=cc, bcc=bcc)
    what = f"the draft {draft_id}"
    # drafts.get takes no metadataHeaders (unlike messages.get): format=metadata gives every header.
    current = await client.GmailAPI(context).get_json(f"/drafts/{draft_id}", what=what, params={"format": "metadata"})
    old = current.get("message") or {}
    headers = client.headers_of(old.get("payload") or {})
    raw = new.raw(in_reply_to=headers.get("in-reply-to") or None, references=headers.get("references") or None)
    message: dict[str, Any] = {"raw": raw}
    if old.get("threadId"):
        message["threadId"] = old["threadId"]
    draft = await client.GmailAPI(context).request(
        "PUT", f"/drafts/{draft_id}", what=what, json={"id": draft_id, "message": message}
    )
    return client.saved_draft(draft, draft_id)


@tool(requires_auth=Google(scopes=[COMPOSE]), title="Delete a draft email", hints=OVERWRITES)
async def delete_draft_email(
    context: ToolContext,
    draft_id: Annotated[str, "The draft_id of the draft to delete, from WriteDraftEmail or ListDrafts."],
) -> dict[str, Any]:
    """Delete one of the user's Gmail drafts for good (it does not go to the trash).

    Returns {"draft_id", "deleted": true}.
    """
    draft_id = client.check_id(draft_id, "draft_id", "WriteDraftEmail or ListDrafts")
    await client.GmailAPI(context).request("DELETE", f"/drafts/{draft_id}", what=f"the draft {draft_id}")
    return {"draft_id": draft_id, "deleted": True}


@tool(requires_auth=Google(scopes=[READONLY, COMPOSE]), title="Draft a reply to an email", hints=ADDS)
async def write_draft_reply_email(
    context: ToolContext,
    email_id: compose.AnsweredEmail,
    body: compose.ReplyBody,
    reply_all: Annotated[
        bool, "True to address the sender and everyone else in To and Cc; False for the sender only."
    ] = False,
) -> dict[str, Any]:
    """Save a reply to an email as a draft in the same conversation, without sending it.

    Addressed like ReplyToEmail; the user can review it in Gmail, and it is sent with SendDraftEmail.
    Returns `draft_id`, `message_id`, `thread_id`, and the `to` and `cc` it is addressed to.
    """
    email_id = client.check_id(email_id, "email_id", "ListEmails, SearchEmails or GetThread")
    if not isinstance(body, str) or not body.strip():
        raise ToolExecutionError("The reply body is empty; give the text of the reply.")
    outgoing = await compose.reply(context, email_id, body, reply_all=reply_all)
    draft = await client.GmailAPI(context).request(
        "POST", "/drafts", what=f"the draft reply to {email_id}", json={"message": outgoing.payload}
    )
    return {**client.saved_draft(draft), "to": outgoing.to, "cc": outgoing.cc}
