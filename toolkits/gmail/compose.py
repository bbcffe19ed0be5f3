"""Building replies and forwards from an existing Gmail message: recipients, subject, threading headers."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from typing import Annotated, Any

from mcp_server import ToolContext, ToolExecutionError
from toolkits.gmail import client

# Forwarded attachments are fetched and re-sent; past this total the forward is refused (Gmail's own limit
# for a sent message is 25 MB, and the base64 of the raw message grows it by a third).
MAX_FORWARD_ATTACHMENT_BYTES = 15 * 1024 * 1024
#: Parameters the reply and draft tools share.
AnsweredEmail = Annotated[str, "The id of the email to answer, as ListEmails, SearchEmails or GetThread returned it."]
ReplyBody = Annotated[str, "The plain-text body of the reply."]
DraftRecipient = Annotated[str, "The email address the draft is for, e.g. 'ana@example.com'."]
REPLY_HEADERS = ("From", "Reply-To", "To", "Cc", "Subject", "Message-ID", "References")


@dataclass
class Outgoing:
    """A message ready for messages.send or drafts.create: the `raw` payload (with threadId) and who it goes to."""

    payload: dict[str, Any]
    to: list[str]
    cc: list[str] = field(default_factory=list)


def _addresses(*values: str) -> list[tuple[str, str]]:
    return [(n, a) for n, a in email.utils.getaddresses(list(values)) if a and "@" in a]


def _prefixed(subject: str, prefix: str) -> str:
    return subject if subject.lower().startswith(prefix.lower()) else f"{prefix} {subject}".strip()


def _threading(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """In-Reply-To and References for an answer to a message with these headers (RFC 5322 section 3.6.4)."""
    message_id = headers.get("message-id") or None
    references = " ".join(r for r in (headers.get("references", ""), message_id or "") if r) or None
    return message_id, references


def _payload(raw: str, original: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"raw": raw}
    if original.get("threadId"):
        payload["threadId"] = original["threadId"]
    return payload


def _me(context: ToolContext) -> str:
    user_info = context.authorization.user_info if context.authorization is not None else {}
    return str(user_info.get("email", "")).lower()


async def reply(context: ToolContext, email_id: str, body: str, *, reply_all: bool) -> Outgoing:
    """A reply to `email_id`: to its sender (or Reply-To), with everyone else but the user copied on reply_all."""
    original = await client.GmailAPI(context).request(
        "GET",
        f"/messages/{email_id}",
        what=f"the message {email_id}",
        params=[("format", "metadata")] + [("metadataHeaders", h) for h in REPLY_HEADERS],
    )
    headers = client.headers_of(original.get("payload") or {})
    to = _addresses(headers.get("reply-to") or headers.get("from", ""))
    if not to:
        raise ToolExecutionError(f"The message {email_id} has no sender address to reply to.")
    cc: list[tuple[str, str]] = []
    if reply_all:
        me = _me(context)
        seen = {a.lower() for _, a in to} | ({me} if me else set())
        for name, address in _addresses(headers.get("to", ""), headers.get("cc", "")):
            if address.lower() not in seen:
                seen.add(address.lower())
                cc.append((name, address))
    in_reply_to, references = _threading(headers)
    raw = client.build_raw(
        to=[email.utils.formataddr(p) for p in to],
        cc=[email.utils.formataddr(p) for p in cc],
        subject=_prefixed(headers.get("subject", ""), "Re:"),
        body=body,
        in_reply_to=in_reply_to,
        references=references,
    )
    return Outgoing(_payload(raw, original), [a for _, a in to], [a for _, a in cc])


async def forward(
    context: ToolContext, email_id: str, to: list[str], note: str, *, include_attachments: bool
) -> tuple[Outgoing, list[str]]:
    """`email_id` forwarded inline below `note`, its attachments re-attached; also the attachment names."""
    original = await client.get_message(context, email_id)
    payload = original.get("payload") or {}
    headers = client.headers_of(payload)
    files = [a for a in client.attachments_of(payload) if a["attachment_id"]] if include_attachments else []
    total = sum(int(a["size"] or 0) for a in files)
    if total > MAX_FORWARD_ATTACHMENT_BYTES:
        raise ToolExecutionError(
            f"The attachments of {email_id} add up to {total} bytes, over the {MAX_FORWARD_ATTACHMENT_BYTES} "
            f"this tool forwards; set include_attachments to false to forward the text only."
        )
    attachments = []
    for item in files:
        part = await client.GmailAPI(context).request(
            "GET",
            f"/messages/{email_id}/attachments/{item['attachment_id']}",
            what=f"an attachment of the message {email_id}",
        )
        data = client.decode_base64url(str(part.get("data", "")))
        attachments.append((data, str(item["mime_type"] or "application/octet-stream"), str(item["filename"])))
    quoted = "\n".join(
        f"{label}: {headers[key]}"
        for label, key in (("From", "from"), ("Date", "date"), ("Subject", "subject"), ("To", "to"), ("Cc", "cc"))
        if headers.get(key)
    )
    text = f"{note.strip()}\n\n---------- Forwarded message ---------\n{quoted}\n\n{client.message_body(payload)}"
    in_reply_to, references = _threading(headers)
    raw = client.build_raw(
        to=to,
        subject=_prefixed(headers.get("subject", ""), "Fwd:"),
        body=text.lstrip("\n"),
        in_reply_to=in_reply_to,
        references=references,
        attachments=attachments,
    )
    return Outgoing(_payload(raw, original), to), [name for _, _, name in attachments]
