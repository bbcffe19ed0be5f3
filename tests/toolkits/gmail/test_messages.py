"""Unit tests of GetEmail, ListThreads, ListAttachments and ForwardEmail against a stand-in of the Gmail API v1.

Fixtures follow the schemas of Gmail v1's discovery document (tests/toolkits/google_discovery: Message,
ListThreadsResponse, Thread, MessagePartBody) and the reference pages
https://developers.google.com/gmail/api/reference/rest/v1/users.threads/list and
https://developers.google.com/gmail/api/reference/rest/v1/users.messages.attachments/get.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mcp_server import ToolExecutionError, UpstreamError
from tests.toolkits.gmail.test_tools import (
    ME,
    MESSAGE_MULTIPART,
    MESSAGE_REPLY,
    READONLY,
    SEND,
    SENT,
    Api,
    assert_authorized,
    b64,
    decode_raw,
)
from tests.toolkits.google_discovery import assert_documented, assert_shape
from toolkits.gmail import forward_email, get_email, list_attachments, list_threads

pytestmark = pytest.mark.anyio

PDF_BYTES = b"%PDF-1.4 invoice"
# A multipart/mixed Message with a text body and a PDF attachment (MessagePart.filename, body.attachmentId).
MESSAGE_WITH_ATTACHMENT: dict[str, Any] = {
    **MESSAGE_MULTIPART,
    "id": "18d0a1b2c3d4e700",
    "payload": {
        "partId": "",
        "mimeType": "multipart/mixed",
        "filename": "",
        "headers": MESSAGE_MULTIPART["payload"]["headers"][:6],
        "body": {"size": 0},
        "parts": [
            {
                "partId": "0",
                "mimeType": "text/plain",
                "filename": "",
                "headers": [{"name": "Content-Type", "value": "text/plain; charset=UTF-8"}],
                "body": {"size": 15, "data": b64("See the invoice")},
            },
            {
                "partId": "1",
                "mimeType": "application/pdf",
                "filename": "invoice-42.pdf",
                "headers": [{"name": "Content-Disposition", "value": 'attachment; filename="invoice-42.pdf"'}],
                "body": {"size": len(PDF_BYTES), "attachmentId": "ANGjdJ9fkTs-attach-1"},
            },
        ],
    },
}
# users.messages.attachments.get returns a MessagePartBody {attachmentId, size, data (base64url)}.
ATTACHMENT = {
    "attachmentId": "ANGjdJ9fkTs-attach-1",
    "size": len(PDF_BYTES),
    "data": base64.urlsafe_b64encode(PDF_BYTES).decode(),
}
# users.threads.list: {threads: [{id, snippet, historyId}], nextPageToken, resultSizeEstimate}.
THREADS = {
    "threads": [{"id": "18d0a1b2c3d4e5f6", "snippet": "Thanks Bob", "historyId": "1234571"}],
    "resultSizeEstimate": 1,
}
# users.threads.get with format=metadata: messages carry payload headers only.
THREAD_METADATA = {
    "id": "18d0a1b2c3d4e5f6",
    "historyId": "1234571",
    "messages": [
        {
            **{k: v for k, v in MESSAGE_MULTIPART.items() if k != "payload"},
            "payload": {"mimeType": "multipart/alternative", "headers": MESSAGE_MULTIPART["payload"]["headers"][:5]},
        },
        {
            **{k: v for k, v in MESSAGE_REPLY.items() if k != "payload"},
            "payload": {"mimeType": "text/plain", "headers": MESSAGE_REPLY["payload"]["headers"]},
        },
    ],
}
SHAPED_ATTACHMENT = {
    "attachment_id": "ANGjdJ9fkTs-attach-1",
    "filename": "invoice-42.pdf",
    "mime_type": "application/pdf",
    "size": len(PDF_BYTES),
    "part_id": "1",
}


def test_fixtures_follow_the_discovery_schemas() -> None:
    for fixture, schema in (
        (MESSAGE_WITH_ATTACHMENT, "Message"),
        (ATTACHMENT, "MessagePartBody"),
        (THREADS, "ListThreadsResponse"),
        (THREAD_METADATA, "Thread"),
    ):
        assert_shape(fixture, "gmail", schema)


async def test_get_email_returns_the_message_and_its_attachments() -> None:
    api = Api({("GET", f"{ME}/messages/18d0a1b2c3d4e700"): MESSAGE_WITH_ATTACHMENT})
    result = await get_email(api.context(READONLY), email_id=" 18d0a1b2c3d4e700 ")
    assert_documented(api.requests[0], "gmail", "users.messages.get", (READONLY,))
    assert api.params(0) == [("format", "full")]
    assert_authorized(api)
    assert (result["id"], result["subject"], result["body"]) == ("18d0a1b2c3d4e700", "Q1 report", "See the invoice")
    assert result["date"] == "2024-01-15T10:00:00+01:00"
    assert result["attachments"] == [SHAPED_ATTACHMENT]


async def test_list_attachments_gives_metadata_only() -> None:
    api = Api({("GET", f"{ME}/messages/18d0a1b2c3d4e700"): MESSAGE_WITH_ATTACHMENT})
    result = await list_attachments(api.context(READONLY), email_id="18d0a1b2c3d4e700")
    assert result == {"email_id": "18d0a1b2c3d4e700", "attachments": [SHAPED_ATTACHMENT], "count": 1}
    assert len(api.requests) == 1


async def test_list_threads_lists_then_reads_each_thread_s_headers() -> None:
    api = Api({("GET", f"{ME}/threads"): THREADS, ("GET", f"{ME}/threads/18d0a1b2c3d4e5f6"): THREAD_METADATA})
    result = await list_threads(api.context(READONLY), query=" is:unread ", max_results=5)
    assert_documented(api.requests[0], "gmail", "users.threads.list", (READONLY,))
    assert_documented(api.requests[1], "gmail", "users.threads.get", (READONLY,))
    assert api.params(0) == [("maxResults", "5"), ("q", "is:unread")]
    assert api.params(1) == [
        ("format", "metadata"),
        ("metadataHeaders", "From"),
        ("metadataHeaders", "Subject"),
        ("metadataHeaders", "Date"),
    ]
    assert result == {
        "query": "is:unread",
        "count": 1,
        "threads": [
            {
                "id": "18d0a1b2c3d4e5f6",
                "subject": "Q1 report",
                "from": "Bob Smith <bob@example.com>",
                "date": "2024-01-15T11:00:00+00:00",
                "message_count": 2,
                "snippet": "Thanks Bob",
            }
        ],
    }


async def test_forward_email_quotes_the_original_and_reattaches_its_files() -> None:
    api = Api(
        {
            ("GET", f"{ME}/messages/18d0a1b2c3d4e700"): MESSAGE_WITH_ATTACHMENT,
            ("GET", f"{ME}/messages/18d0a1b2c3d4e700/attachments/ANGjdJ9fkTs-attach-1"): ATTACHMENT,
            ("POST", f"{ME}/messages/send"): {**SENT, "threadId": MESSAGE_WITH_ATTACHMENT["threadId"]},
        }
    )
    result = await forward_email(
        api.context(READONLY, SEND),
        email_id="18d0a1b2c3d4e700",
        recipients=["erin@example.com"],
        note="FYI, see below.",
    )
    methods = ["users.messages.get", "users.messages.attachments.get", "users.messages.send"]
    for request, method_id in zip(api.requests, methods, strict=True):
        assert_documented(request, "gmail", method_id, (READONLY, SEND))
    assert_authorized(api)
    sent = api.json(2)
    assert sent["threadId"] == MESSAGE_WITH_ATTACHMENT["threadId"]
    mime = decode_raw(sent["raw"])
    assert (mime["To"], mime["Subject"], mime["In-Reply-To"]) == (
        "erin@example.com",
        "Fwd: Q1 report",
        "<CAB123@mail.example.com>",
    )
    text, attached = list(mime.iter_parts())
    assert text.get_content() == (
        "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Bob Smith <bob@example.com>\n"
        "Date: Mon, 15 Jan 2024 10:00:00 +0100\nSubject: Q1 report\n"
        "To: Alice <alice@example.com>, carol@example.com\nCc: dave@example.com\n\nSee the invoice\n"
    )
    assert (attached.get_filename(), attached.get_content_type(), attached.get_content()) == (
        "invoice-42.pdf",
        "application/pdf",
        PDF_BYTES,
    )
    assert result == {
        "id": "18d0a1b2c3d4e5f9",
        "thread_id": "18d0a1b2c3d4e5f6",
        "to": ["erin@example.com"],
        "attachments": ["invoice-42.pdf"],
    }


async def test_forward_email_without_attachments_fetches_none() -> None:
    api = Api(
        {("GET", f"{ME}/messages/18d0a1b2c3d4e700"): MESSAGE_WITH_ATTACHMENT, ("POST", f"{ME}/messages/send"): SENT}
    )
    result = await forward_email(
        api.context(READONLY, SEND),
        email_id="18d0a1b2c3d4e700",
        recipients=["erin@example.com"],
        include_attachments=False,
    )
    assert [r.method for r in api.requests] == ["GET", "POST"]
    mime = decode_raw(api.json(1)["raw"])
    assert not mime.is_multipart()
    assert mime.get_content().startswith("---------- Forwarded message ---------\nFrom: Bob Smith")
    assert result["attachments"] == []


async def test_forward_email_refuses_attachments_over_the_limit_before_sending() -> None:
    big = {
        **MESSAGE_WITH_ATTACHMENT,
        "payload": {
            **MESSAGE_WITH_ATTACHMENT["payload"],
            "parts": [
                MESSAGE_WITH_ATTACHMENT["payload"]["parts"][0],
                {**MESSAGE_WITH_ATTACHMENT["payload"]["parts"][1], "body": {"size": 20_000_000, "attachmentId": "big"}},
            ],
        },
    }
    api = Api({("GET", f"{ME}/messages/18d0a1b2c3d4e700"): big})
    with pytest.raises(ToolExecutionError, match="set include_attachments to false"):
        await forward_email(api.context(READONLY, SEND), email_id="18d0a1b2c3d4e700", recipients=["e@example.com"])
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("tool", "arguments", "complaint"),
    [
        (get_email, {"email_id": "a/b"}, "is not a Gmail id"),
        (list_attachments, {"email_id": ""}, "is not a Gmail id"),
        (list_threads, {"max_results": 26}, "from 1 to 25"),
        (forward_email, {"email_id": "18d0a1b2c3d4e700", "recipients": []}, "recipients is empty"),
        (forward_email, {"email_id": "18d0a1b2c3d4e700", "recipients": ["nope"]}, "is not an email address"),
        (forward_email, {"email_id": "18d0a1b2c3d4e700", "recipients": "e@example.com"}, "as a list"),
    ],
)
async def test_bad_input_is_refused_before_any_request(tool: Any, arguments: dict[str, Any], complaint: str) -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError, match=complaint):
        await tool(api.context(READONLY, SEND), **arguments)
    assert api.requests == []


async def test_a_missing_email_is_named() -> None:
    with pytest.raises(UpstreamError, match="the message 18dffff000000000 was not found"):
        await get_email(Api({}).context(READONLY), email_id="18dffff000000000")


async def test_a_thread_without_messages_is_listed_plainly() -> None:
    api = Api(
        {
            ("GET", f"{ME}/threads"): THREADS,
            ("GET", f"{ME}/threads/18d0a1b2c3d4e5f6"): {"id": "18d0a1b2c3d4e5f6", "messages": []},
        }
    )
    result = await list_threads(api.context(READONLY))
    assert result["threads"][0] == {
        "id": "18d0a1b2c3d4e5f6",
        "subject": "",
        "from": "",
        "date": None,
        "message_count": 0,
        "snippet": "Thanks Bob",
    }
