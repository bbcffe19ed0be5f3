"""The Gmail API v1 on the toolkit HTTP layer, and the conversions between Gmail's message format and what a
model reads.

Reference: https://developers.google.com/gmail/api/reference/rest
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Annotated, Any, ClassVar

from mcp_server import (
    Page,
    ProviderAPI,
    ToolContext,
    ToolExecutionError,
    collect_pages,
    email_address,
    email_addresses,
    html_to_text,
)

API_BASE_URL = "https://gmail.googleapis.com"
USER_PATH = "/gmail/v1/users/me"

# Past this many characters a message body is cut, with a note saying so.
MAX_BODY_CHARS = 4000
# Upper bound on the pages a list call follows, whatever the result asks for.
MAX_PAGES = 5
# Gmail's largest page size for messages.list.
MAX_PAGE_SIZE = 100
# The most emails, threads or drafts one call returns (each is fetched in full).
MAX_EMAILS = 50

_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")


#: Parameters several of these tools take alike.
EmailId = Annotated[str, "The id of the email, as ListEmails, SearchEmails or GetThread returned it."]


class GmailAPI(ProviderAPI):
    """The Gmail API v1 for one tool call, on the user's own mailbox (`USER_PATH`)."""

    name = "Gmail"
    default_base_url = API_BASE_URL
    path_prefix = USER_PATH
    headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}


async def list_refs(
    context: ToolContext,
    collection: str,
    *,
    limit: int,
    query: str | None = None,
    what: str = "the user's messages",
) -> list[dict[str, Any]]:
    """Up to `limit` entries of `collection` ("messages", "threads" or "drafts") from its list method, each
    with an `id`, following `nextPageToken` (at most MAX_PAGES pages)."""
    api = GmailAPI(context)

    async def fetch(page_token: str | None, wanted: int) -> Page:
        # In Gmail's documented order: maxResults, q, pageToken.
        params = {"maxResults": min(wanted, MAX_PAGE_SIZE), "q": query or None, "pageToken": page_token}
        page = await api.get_json(f"/{collection}", what=what, params=params)
        return Page([m for m in page.get(collection, []) if isinstance(m, dict)], next=page.get("nextPageToken"))

    refs, _ = await collect_pages(fetch, limit=limit, max_pages=MAX_PAGES, keep=lambda ref: bool(ref.get("id")))
    return refs


async def get_message(context: ToolContext, message_id: str) -> dict[str, Any]:
    """The full message resource."""
    return await GmailAPI(context).get_json(
        f"/messages/{message_id}", what=f"the message {message_id}", params={"format": "full"}
    )


async def fetch_messages(context: ToolContext, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each referenced message, fetched in full and shaped."""
    return [shape_message(await get_message(context, str(ref["id"]))) for ref in refs]


# ---- validation -------------------------------------------------------------------------------------------


def check_count(value: int, name: str, maximum: int = MAX_EMAILS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ToolExecutionError(f"{name} must be a whole number from 1 to {maximum}, not {value!r}.")
    return value


@dataclass(frozen=True)
class NewEmail:
    """A new email's fields, checked: `NewEmail.checked(...)` says what is wrong before any request."""

    to: str
    subject: str
    body: str
    cc: list[str]
    bcc: list[str]

    @classmethod
    def checked(
        cls, *, recipient: str, subject: str, body: str, cc: list[str] | None, bcc: list[str] | None
    ) -> NewEmail:
        to = email_address(recipient, name="recipient")
        copies = email_addresses(cc, name="cc address")
        blind = email_addresses(bcc, name="bcc address")
        if not (subject or "").strip() and not (body or "").strip():
            raise ToolExecutionError("Both subject and body are empty; give at least a subject or a body.")
        return cls(to, subject, body, copies, blind)

    def raw(self, *, in_reply_to: str | None = None, references: str | None = None) -> str:
        """The base64url `raw` payload of the email."""
        return build_raw(
            to=[self.to],
            subject=self.subject,
            body=self.body,
            cc=self.cc,
            bcc=self.bcc,
            in_reply_to=in_reply_to,
            references=references,
        )


def saved_draft(draft: dict[str, Any], draft_id: str | None = None) -> dict[str, Any]:
    """What a tool that saves a draft answers: the draft's id (`draft_id` when Gmail's answer names none) and
    its message's id and thread id."""
    message = draft.get("message") or {}
    return {
        "draft_id": draft.get("id", draft_id),
        "message_id": message.get("id"),
        "thread_id": message.get("threadId"),
    }


def check_id(value: str, kind: str, tool_hint: str) -> str:
    """A Gmail id as given, or a ToolExecutionError saying what a good one looks like."""
    value = value.strip() if isinstance(value, str) else ""
    if not _ID.fullmatch(value):
        raise ToolExecutionError(
            f"{kind} {value!r} is not a Gmail id; pass the id exactly as {tool_hint} returned it "
            f"(letters, digits, '-' or '_', e.g. '18c2f0a9b1d2e3f4')."
        )
    return value


# ---- incoming messages -------------------------------------------------------------------------------------


def decode_base64url(data: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return b""


def _charset(part: dict[str, Any]) -> str:
    for header in part.get("headers") or []:
        if str(header.get("name", "")).lower() == "content-type":
            found = re.search(r'charset="?([\w.:-]+)"?', str(header.get("value", "")), re.IGNORECASE)
            if found:
                return found.group(1)
    return "utf-8"


def _find_part(part: dict[str, Any], mime_type: str) -> dict[str, Any] | None:
    """Depth-first, the first inline (not attached) part of `mime_type` that carries data."""
    if part.get("mimeType") == mime_type and not part.get("filename") and (part.get("body") or {}).get("data"):
        return part
    for child in part.get("parts") or []:
        found = _find_part(child, mime_type)
        if found is not None:
            return found
    return None


def _text_of(part: dict[str, Any]) -> str:
    raw = decode_base64url(str(part["body"]["data"]))
    try:
        return raw.decode(_charset(part), errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def message_body(payload: dict[str, Any]) -> str:
    """The message's text: the text/plain part, else the text/html part as plain text."""
    plain = _find_part(payload, "text/plain")
    if plain is not None:
        return _text_of(plain).replace("\r\n", "\n").strip()
    html = _find_part(payload, "text/html")
    if html is not None:
        return html_to_text(_text_of(html))
    return ""


def headers_of(payload: dict[str, Any]) -> dict[str, str]:
    """Top-level headers by lower-case name (the first of each)."""
    found: dict[str, str] = {}
    for header in payload.get("headers") or []:
        found.setdefault(str(header.get("name", "")).lower(), str(header.get("value", "")))
    return found


def iso_date(date_header: str | None, internal_date: str | None) -> str | None:
    """ISO 8601 with zone: the Date header if it parses with a zone, else internalDate (epoch ms) in UTC."""
    if date_header:
        try:
            parsed = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.isoformat()
    if internal_date and str(internal_date).isdigit():
        return datetime.fromtimestamp(int(internal_date) / 1000, tz=UTC).isoformat()
    return None


def attachments_of(part: dict[str, Any]) -> list[dict[str, Any]]:
    """The attached files of a message payload, depth-first: parts with a filename (MessagePart.filename)."""
    found: list[dict[str, Any]] = []
    body = part.get("body") or {}
    if part.get("filename"):
        found.append(
            {
                "attachment_id": body.get("attachmentId"),
                "filename": part.get("filename"),
                "mime_type": part.get("mimeType"),
                "size": body.get("size"),
                "part_id": part.get("partId"),
            }
        )
    for child in part.get("parts") or []:
        if isinstance(child, dict):
            found.extend(attachments_of(child))
    return found


def truncate(text: str, limit: int = MAX_BODY_CHARS) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    rest = len(text) - limit
    return f"{text[:limit]}\n[... truncated: {rest} more characters not shown]", True


def shape_message(message: dict[str, Any]) -> dict[str, Any]:
    """A Gmail message resource as the compact dict the tools return."""
    payload = message.get("payload") or {}
    headers = headers_of(payload)
    body, truncated = truncate(message_body(payload))
    return {
        "id": message.get("id"),
        "thread_id": message.get("threadId"),
        "from": headers.get("from", ""),
        "to": headers.get("to", ""),
        "cc": headers.get("cc", ""),
        "subject": headers.get("subject", ""),
        "date": iso_date(headers.get("date"), message.get("internalDate")),
        "snippet": message.get("snippet", ""),
        "body": body,
        "body_truncated": truncated,
        "label_ids": list(message.get("labelIds") or []),
    }


# ---- outgoing messages -------------------------------------------------------------------------------------


def build_raw(
    *,
    to: Sequence[str],
    subject: str,
    body: str,
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    in_reply_to: str | None = None,
    references: str | None = None,
    attachments: Sequence[tuple[bytes, str, str]] = (),
) -> str:
    """An RFC 2822 message, base64url-encoded for the `raw` field; `attachments` are (data, MIME type, filename)."""
    message = EmailMessage()
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if bcc:
        message["Bcc"] = ", ".join(bcc)
    message["Subject"] = subject
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    message.set_content(body)
    for data, mime_type, filename in attachments:
        maintype, _, subtype = mime_type.partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
