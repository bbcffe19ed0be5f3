"""Unit tests for the Gmail toolkit against a stand-in of the Gmail API v1.

The response bodies follow the resource representations documented by Google (the reference pages show field
lists rather than literal examples; the error bodies are the documented samples). Each fixture names its page,
and each is checked against its schema in Gmail v1's discovery document (tests/toolkits/google_discovery), as are
the requests the tools send.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from mcp_server import (
    ToolAuthorization,
    ToolContext,
    ToolExecutionError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
)
from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry
from tests.toolkits.google_discovery import assert_documented, assert_shape
from toolkits.gmail import (
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

pytestmark = pytest.mark.anyio

TOKEN = "tok-gmail-1"
BASE = "https://api.test"
ME = "/gmail/v1/users/me"
READONLY = "https://www.googleapis.com/auth/gmail.readonly"
SEND = "https://www.googleapis.com/auth/gmail.send"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
MODIFY = "https://www.googleapis.com/auth/gmail.modify"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Message resource (id, threadId, labelIds, snippet, historyId, internalDate, payload: MessagePart with partId,
# mimeType, filename, headers[{name, value}], body{size, data (base64url)}, parts[]), sizeEstimate:
# https://developers.google.com/gmail/api/reference/rest/v1/users.messages#Message
# (returned by users.messages.get with format=full:
# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/get)
PLAIN_TEXT = "Hi Alice,\r\n\r\nThe Q1 report is ready for review.\r\n\r\nBob"
MESSAGE_MULTIPART: dict[str, Any] = {
    "id": "18d0a1b2c3d4e5f6",
    "threadId": "18d0a1b2c3d4e5f6",
    "labelIds": ["UNREAD", "IMPORTANT", "CATEGORY_PERSONAL", "INBOX"],
    "snippet": "Hi Alice, The Q1 report is ready for review. Bob",
    "historyId": "1234567",
    "internalDate": "1705309200000",
    "sizeEstimate": 5120,
    "payload": {
        "partId": "",
        "mimeType": "multipart/alternative",
        "filename": "",
        "headers": [
            {"name": "Date", "value": "Mon, 15 Jan 2024 10:00:00 +0100"},
            {"name": "From", "value": "Bob Smith <bob@example.com>"},
            {"name": "To", "value": "Alice <alice@example.com>, carol@example.com"},
            {"name": "Cc", "value": "dave@example.com"},
            {"name": "Subject", "value": "Q1 report"},
            {"name": "Message-ID", "value": "<CAB123@mail.example.com>"},
            {"name": "Content-Type", "value": 'multipart/alternative; boundary="000000000000abc"'},
        ],
        "body": {"size": 0},
        "parts": [
            {
                "partId": "0",
                "mimeType": "text/plain",
                "filename": "",
                "headers": [{"name": "Content-Type", "value": 'text/plain; charset="UTF-8"'}],
                "body": {"size": len(PLAIN_TEXT), "data": b64(PLAIN_TEXT)},
            },
            {
                "partId": "1",
                "mimeType": "text/html",
                "filename": "",
                "headers": [{"name": "Content-Type", "value": 'text/html; charset="UTF-8"'}],
                "body": {"size": 80, "data": b64("<div>Hi Alice,<br><br>The Q1 report is ready.</div>")},
            },
        ],
    },
}
# Same Message resource, a single-part HTML message without a Date header (the tool falls back to internalDate).
HTML = (
    "<html><head><style>p {color: red}</style></head><body><h1>Newsletter</h1>"
    "<p>Fish &amp; chips&nbsp;on Friday.</p><script>track()</script><ul><li>One</li><li>Two</li></ul></body></html>"
)
MESSAGE_HTML: dict[str, Any] = {
    "id": "18d0a1b2c3d4e5f7",
    "threadId": "18d0a1b2c3d4e5f7",
    "labelIds": ["CATEGORY_PROMOTIONS", "INBOX"],
    "snippet": "Newsletter Fish & chips on Friday.",
    "historyId": "1234570",
    "internalDate": "1705395600000",
    "sizeEstimate": 2048,
    "payload": {
        "partId": "",
        "mimeType": "text/html",
        "filename": "",
        "headers": [
            {"name": "From", "value": "news@shop.example"},
            {"name": "To", "value": "alice@example.com"},
            {"name": "Subject", "value": "This week"},
            {"name": "Content-Type", "value": "text/html; charset=UTF-8"},
        ],
        "body": {"size": len(HTML), "data": b64(HTML)},
    },
}
MESSAGE_REPLY: dict[str, Any] = {
    **MESSAGE_MULTIPART,
    "id": "18d0a1b2c3d4e5f8",
    "labelIds": ["SENT"],
    "snippet": "Thanks Bob",
    "internalDate": "1705312800000",
    "payload": {
        "partId": "",
        "mimeType": "text/plain",
        "filename": "",
        "headers": [
            {"name": "Date", "value": "Mon, 15 Jan 2024 11:00:00 +0000"},
            {"name": "From", "value": "alice@example.com"},
            {"name": "To", "value": "bob@example.com"},
            {"name": "Subject", "value": "Re: Q1 report"},
        ],
        "body": {"size": 10, "data": b64("Thanks Bob")},
    },
}

# users.messages.list response: {messages: [{id, threadId}], nextPageToken, resultSizeEstimate}
# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list#response-body
LIST_PAGE_1 = {
    "messages": [
        {"id": "18d0a1b2c3d4e5f6", "threadId": "18d0a1b2c3d4e5f6"},
        {"id": "18d0a1b2c3d4e5f7", "threadId": "18d0a1b2c3d4e5f7"},
    ],
    "nextPageToken": "09876543210987654321",
    "resultSizeEstimate": 3,
}
LIST_PAGE_2 = {"messages": [{"id": "18d0a1b2c3d4e5f8", "threadId": "18d0a1b2c3d4e5f6"}], "resultSizeEstimate": 3}

# Thread resource {id, snippet, historyId, messages[]}:
# https://developers.google.com/gmail/api/reference/rest/v1/users.threads#Thread
THREAD = {
    "id": "18d0a1b2c3d4e5f6",
    "snippet": "Thanks Bob",
    "historyId": "1234571",
    "messages": [MESSAGE_MULTIPART, MESSAGE_REPLY],
}

# users.labels.list response {labels: [Label]}, Label {id, name, messageListVisibility, labelListVisibility, type}:
# https://developers.google.com/gmail/api/reference/rest/v1/users.labels/list
# https://developers.google.com/gmail/api/reference/rest/v1/users.labels#Label
LABELS = {
    "labels": [
        {
            "id": "INBOX",
            "name": "INBOX",
            "messageListVisibility": "hide",
            "labelListVisibility": "labelShow",
            "type": "system",
        },
        {"id": "SENT", "name": "SENT", "type": "system"},
        {
            "id": "Label_12",
            "name": "Work",
            "messageListVisibility": "show",
            "labelListVisibility": "labelShow",
            "type": "user",
        },
    ]
}

# users.messages.send returns a Message resource (id, threadId, labelIds):
# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/send
SENT = {"id": "18d0a1b2c3d4e5f9", "threadId": "18d0a1b2c3d4e5f9", "labelIds": ["SENT"]}
# users.drafts.create returns a Draft resource {id, message}:
# https://developers.google.com/gmail/api/reference/rest/v1/users.drafts#Draft
DRAFT = {
    "id": "r-5842147468013457261",
    "message": {"id": "18d0a1b2c3d4e600", "threadId": "18d0a1b2c3d4e600", "labelIds": ["DRAFT"]},
}
# users.messages.trash returns the Message resource:
# https://developers.google.com/gmail/api/reference/rest/v1/users.messages/trash
TRASHED = {"id": "18d0a1b2c3d4e5f6", "threadId": "18d0a1b2c3d4e5f6", "labelIds": ["TRASH", "CATEGORY_PERSONAL"]}

# Error samples from https://developers.google.com/gmail/api/guides/handle-errors
ERROR_401 = {
    "error": {
        "errors": [
            {
                "domain": "global",
                "reason": "authError",
                "message": "Invalid Credentials",
                "locationType": "header",
                "location": "Authorization",
            }
        ],
        "code": 401,
        "message": "Invalid Credentials",
    }
}
ERROR_429 = {
    "error": {
        "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded", "message": "Rate Limit Exceeded"}],
        "code": 429,
        "message": "Rate Limit Exceeded",
    }
}
ERROR_403 = {
    "error": {
        "errors": [{"domain": "global", "reason": "insufficientPermissions", "message": "Insufficient Permission"}],
        "code": 403,
        "message": "Insufficient Permission",
    }
}
# Google's standard "not found" error body (https://cloud.google.com/apis/design/errors#http_mapping):
ERROR_404 = {
    "error": {
        "code": 404,
        "message": "Requested entity was not found.",
        "errors": [{"message": "Requested entity was not found.", "domain": "global", "reason": "notFound"}],
        "status": "NOT_FOUND",
    }
}

Route = dict[tuple[str, str], Any]


class Api:
    """A stand-in of the Gmail API: answers from `routes` and records every request."""

    def __init__(self, routes: Route) -> None:
        self.routes = routes
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        assert request.url.host == "api.test"
        answer = self.routes.get((request.method, request.url.path))
        if answer is None:
            return httpx2.Response(404, json=ERROR_404)
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, httpx2.Response):
            return answer
        return httpx2.Response(200, json=answer)

    def context(self, *scopes: str, user_info: dict[str, Any] | None = None) -> ToolContext:
        return ToolContext(
            user_id="u1",
            authorization=ToolAuthorization(
                provider_id="google", token=TOKEN, scopes=scopes, user_info=user_info or {}
            ),
            http=httpx2.AsyncClient(transport=httpx2.MockTransport(self)),
            settings={"api_base_url": BASE},
        )

    def params(self, index: int) -> list[tuple[str, str]]:
        return list(self.requests[index].url.params.multi_items())

    def json(self, index: int) -> Any:
        return json.loads(self.requests[index].content)


def assert_authorized(api: Api) -> None:
    assert api.requests
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in api.requests)


def decode_raw(raw: str) -> email.message.EmailMessage:
    message = email.message_from_bytes(
        base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), policy=email.policy.default
    )
    assert isinstance(message, email.message.EmailMessage)
    return message


def messages_routes() -> Route:
    def listing(request: httpx2.Request) -> dict[str, Any]:
        return LIST_PAGE_2 if request.url.params.get("pageToken") else LIST_PAGE_1

    return {
        ("GET", f"{ME}/messages"): listing,
        ("GET", f"{ME}/messages/18d0a1b2c3d4e5f6"): MESSAGE_MULTIPART,
        ("GET", f"{ME}/messages/18d0a1b2c3d4e5f7"): MESSAGE_HTML,
        ("GET", f"{ME}/messages/18d0a1b2c3d4e5f8"): MESSAGE_REPLY,
    }


# ---- reading ----------------------------------------------------------------------------------------------


async def test_list_emails_follows_two_pages_and_shapes_each_message() -> None:
    api = Api(messages_routes())
    result = await list_emails(api.context(READONLY), n_emails=3)

    assert [(r.method, r.url.path) for r in api.requests] == [
        ("GET", f"{ME}/messages"),
        ("GET", f"{ME}/messages"),
        ("GET", f"{ME}/messages/18d0a1b2c3d4e5f6"),
        ("GET", f"{ME}/messages/18d0a1b2c3d4e5f7"),
        ("GET", f"{ME}/messages/18d0a1b2c3d4e5f8"),
    ]
    assert api.params(0) == [("maxResults", "3")]
    assert api.params(1) == [("maxResults", "1"), ("pageToken", "09876543210987654321")]
    assert api.params(2) == [("format", "full")]
    assert_authorized(api)

    assert result["count"] == 3
    first, html, reply = result["emails"]
    assert first == {
        "id": "18d0a1b2c3d4e5f6",
        "thread_id": "18d0a1b2c3d4e5f6",
        "from": "Bob Smith <bob@example.com>",
        "to": "Alice <alice@example.com>, carol@example.com",
        "cc": "dave@example.com",
        "subject": "Q1 report",
        "date": "2024-01-15T10:00:00+01:00",
        "snippet": "Hi Alice, The Q1 report is ready for review. Bob",
        "body": "Hi Alice,\n\nThe Q1 report is ready for review.\n\nBob",
        "body_truncated": False,
        "label_ids": ["UNREAD", "IMPORTANT", "CATEGORY_PERSONAL", "INBOX"],
    }
    # HTML only: converted to text, no tags, scripts or styles; no Date header: internalDate in UTC.
    assert html["body"] == "Newsletter\n\nFish & chips on Friday.\n\nOne\nTwo"
    assert html["date"] == "2024-01-16T09:00:00+00:00"
    assert reply["date"] == "2024-01-15T11:00:00+00:00"
    json.dumps(result)


async def test_list_emails_stops_when_there_is_no_next_page() -> None:
    api = Api({("GET", f"{ME}/messages"): {"resultSizeEstimate": 0}})
    result = await list_emails(api.context(READONLY))
    assert result == {"emails": [], "count": 0}
    assert len(api.requests) == 1
    assert api.params(0) == [("maxResults", "5")]


async def test_long_bodies_are_truncated_with_a_note() -> None:
    long_text = "word " * 2000
    message = {
        **MESSAGE_HTML,
        "payload": {
            **MESSAGE_HTML["payload"],
            "mimeType": "text/plain",
            "body": {"size": len(long_text), "data": b64(long_text)},
        },
    }
    api = Api({("GET", f"{ME}/threads/18d0a1b2c3d4e5f7"): {"id": "18d0a1b2c3d4e5f7", "messages": [message]}})
    result = await get_thread(api.context(READONLY), thread_id="18d0a1b2c3d4e5f7")
    body = result["messages"][0]["body"]
    assert result["messages"][0]["body_truncated"] is True
    assert body.startswith("word word")
    assert body.endswith("[... truncated: 5999 more characters not shown]")
    assert len(body) < 4100


async def test_nested_parts_skip_attachments_and_honour_the_charset() -> None:
    # A multipart/mixed message (MessagePart.parts nest; attachments carry a filename), same Message resource page.
    latin1 = base64.urlsafe_b64encode("Grüße aus Köln".encode("latin-1")).decode()
    message = {
        **MESSAGE_HTML,
        "payload": {
            "partId": "",
            "mimeType": "multipart/mixed",
            "filename": "",
            "body": {"size": 0},
            "headers": MESSAGE_HTML["payload"]["headers"][:3],
            "parts": [
                {
                    "partId": "0",
                    "mimeType": "text/plain",
                    "filename": "notes.txt",
                    "headers": [],
                    "body": {"size": 5, "data": b64("attached"), "attachmentId": "ANGjdJ8"},
                },
                {
                    "partId": "1",
                    "mimeType": "multipart/alternative",
                    "filename": "",
                    "body": {"size": 0},
                    "parts": [
                        {
                            "partId": "1.0",
                            "mimeType": "text/plain",
                            "filename": "",
                            "headers": [{"name": "Content-Type", "value": "text/plain; charset=ISO-8859-1"}],
                            "body": {"size": 14, "data": latin1},
                        },
                    ],
                },
            ],
        },
    }
    api = Api({("GET", f"{ME}/threads/18d0a1b2c3d4e5f7"): {"id": "18d0a1b2c3d4e5f7", "messages": [message]}})
    result = await get_thread(api.context(READONLY), thread_id="18d0a1b2c3d4e5f7")
    assert result["messages"][0]["body"] == "Grüße aus Köln"


async def test_search_emails_turns_filters_into_a_gmail_query() -> None:
    api = Api(messages_routes())
    result = await search_emails(
        api.context(READONLY),
        query="has:attachment",
        sender="bob@example.com",
        recipient="alice@example.com",
        subject="Q1 report",
        after_date="2024-01-01",
        before_date="2024-02-01",
        label="Project X",
        max_results=2,
    )
    q = (
        'has:attachment from:bob@example.com to:alice@example.com subject:"Q1 report" '
        "after:2024/01/01 before:2024/02/01 label:Project-X"
    )
    assert result["query"] == q
    assert api.params(0) == [("maxResults", "2"), ("q", q)]
    assert [e["id"] for e in result["emails"]] == ["18d0a1b2c3d4e5f6", "18d0a1b2c3d4e5f7"]
    assert len(api.requests) == 3  # one page was enough
    assert_authorized(api)


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"after_date": "15/01/2024"}, "YYYY-MM-DD"),
        ({"before_date": "2024-02-30"}, "YYYY-MM-DD"),
        ({"after_date": "2024-02-01", "before_date": "2024-01-01"}, "must be earlier than before_date"),
        ({}, "Give a query or at least one filter"),
        ({"query": "   "}, "Give a query or at least one filter"),
        ({"query": "is:unread", "max_results": 0}, "from 1 to 50"),
        ({"query": "is:unread", "max_results": 500}, "from 1 to 50"),
    ],
)
async def test_search_emails_rejects_bad_input_before_any_request(arguments: dict[str, Any], complaint: str) -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError, match=complaint):
        await search_emails(api.context(READONLY), **arguments)
    assert api.requests == []


async def test_get_thread_returns_every_message_in_order() -> None:
    api = Api({("GET", f"{ME}/threads/18d0a1b2c3d4e5f6"): THREAD})
    result = await get_thread(api.context(READONLY), thread_id="18d0a1b2c3d4e5f6")
    assert api.params(0) == [("format", "full")]
    assert_authorized(api)
    assert result["thread_id"] == "18d0a1b2c3d4e5f6"
    assert result["message_count"] == 2
    assert [(m["id"], m["from"], m["body"]) for m in result["messages"]] == [
        ("18d0a1b2c3d4e5f6", "Bob Smith <bob@example.com>", "Hi Alice,\n\nThe Q1 report is ready for review.\n\nBob"),
        ("18d0a1b2c3d4e5f8", "alice@example.com", "Thanks Bob"),
    ]


async def test_list_labels() -> None:
    api = Api({("GET", f"{ME}/labels"): LABELS})
    result = await list_labels(api.context(READONLY))
    assert [(r.method, r.url.path, r.url.query) for r in api.requests] == [("GET", f"{ME}/labels", b"")]
    assert_authorized(api)
    assert result == {
        "labels": [
            {"id": "INBOX", "name": "INBOX", "type": "system"},
            {"id": "SENT", "name": "SENT", "type": "system"},
            {"id": "Label_12", "name": "Work", "type": "user"},
        ],
        "count": 3,
    }


# ---- writing ----------------------------------------------------------------------------------------------


async def test_send_email_posts_a_base64url_mime_message() -> None:
    api = Api({("POST", f"{ME}/messages/send"): SENT})
    result = await send_email(
        api.context(SEND),
        recipient="bob@example.com",
        subject="Lunch?",
        body="Noon at the usual place?",
        cc=["carol@example.com"],
        bcc=["dave@example.com"],
    )
    assert result == {"id": "18d0a1b2c3d4e5f9", "thread_id": "18d0a1b2c3d4e5f9", "label_ids": ["SENT"]}
    assert [(r.method, r.url.path) for r in api.requests] == [("POST", f"{ME}/messages/send")]
    assert_authorized(api)
    sent = api.json(0)
    assert list(sent) == ["raw"]
    mime = decode_raw(sent["raw"])
    assert (mime["To"], mime["Cc"], mime["Bcc"], mime["Subject"]) == (
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
        "Lunch?",
    )
    assert mime.get_content().strip() == "Noon at the usual place?"


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"recipient": ""}, "recipient is empty"),
        ({"recipient": "bob at example"}, "is not an email address"),
        ({"cc": ["ok@example.com", "nope"]}, "cc address 'nope' is not an email address"),
        ({"bcc": [""]}, "bcc address is empty"),
        ({"subject": " ", "body": ""}, "Both subject and body are empty"),
    ],
)
@pytest.mark.parametrize("tool", [send_email, write_draft_email])
async def test_send_and_draft_reject_bad_input_before_any_request(
    tool: Callable[..., Any], arguments: dict[str, Any], complaint: str
) -> None:
    api = Api({})
    call = {"recipient": "bob@example.com", "subject": "Hi", "body": "Hello", **arguments}
    with pytest.raises(ToolExecutionError, match=complaint):
        await tool(api.context(SEND, COMPOSE), **call)
    assert api.requests == []


async def test_write_draft_email_creates_a_draft() -> None:
    api = Api({("POST", f"{ME}/drafts"): DRAFT})
    result = await write_draft_email(
        api.context(COMPOSE), recipient="bob@example.com", subject="Plan", body="Draft of the plan."
    )
    assert result == {
        "draft_id": "r-5842147468013457261",
        "message_id": "18d0a1b2c3d4e600",
        "thread_id": "18d0a1b2c3d4e600",
    }
    assert [(r.method, r.url.path) for r in api.requests] == [("POST", f"{ME}/drafts")]
    assert_authorized(api)
    created = api.json(0)
    assert list(created) == ["message"] and list(created["message"]) == ["raw"]
    mime = decode_raw(created["message"]["raw"])
    assert (mime["To"], mime["Subject"], mime["Cc"]) == ("bob@example.com", "Plan", None)


async def test_send_draft_email_sends_the_draft_by_id() -> None:
    api = Api({("POST", f"{ME}/drafts/send"): SENT})
    result = await send_draft_email(api.context(COMPOSE), draft_id="r-5842147468013457261")
    assert result == {"id": "18d0a1b2c3d4e5f9", "thread_id": "18d0a1b2c3d4e5f9", "label_ids": ["SENT"]}
    assert [(r.method, r.url.path) for r in api.requests] == [("POST", f"{ME}/drafts/send")]
    assert api.json(0) == {"id": "r-5842147468013457261"}
    assert_authorized(api)


async def test_reply_all_threads_the_reply_and_copies_everyone_but_the_user() -> None:
    api = Api(
        {
            ("GET", f"{ME}/messages/18d0a1b2c3d4e5f6"): MESSAGE_MULTIPART,
            ("POST", f"{ME}/messages/send"): {**SENT, "threadId": "18d0a1b2c3d4e5f6"},
        }
    )
    context = api.context(READONLY, SEND, user_info={"email": "alice@example.com", "sub": "1234"})
    result = await reply_to_email(context, email_id="18d0a1b2c3d4e5f6", body="Thanks, looks good.", reply_all=True)

    assert [(r.method, r.url.path) for r in api.requests] == [
        ("GET", f"{ME}/messages/18d0a1b2c3d4e5f6"),
        ("POST", f"{ME}/messages/send"),
    ]
    assert api.params(0) == [("format", "metadata")] + [
        ("metadataHeaders", h) for h in ("From", "Reply-To", "To", "Cc", "Subject", "Message-ID", "References")
    ]
    assert_authorized(api)
    sent = api.json(1)
    assert sent["threadId"] == "18d0a1b2c3d4e5f6"
    mime = decode_raw(sent["raw"])
    assert mime["To"] == "Bob Smith <bob@example.com>"
    assert mime["Cc"] == "carol@example.com, dave@example.com"
    assert mime["Subject"] == "Re: Q1 report"
    assert mime["In-Reply-To"] == "<CAB123@mail.example.com>"
    assert mime["References"] == "<CAB123@mail.example.com>"
    assert mime.get_content().strip() == "Thanks, looks good."
    assert result == {
        "id": "18d0a1b2c3d4e5f9",
        "thread_id": "18d0a1b2c3d4e5f6",
        "to": ["bob@example.com"],
        "cc": ["carol@example.com", "dave@example.com"],
    }


async def test_reply_to_sender_only_keeps_an_existing_re_prefix() -> None:
    api = Api(
        {
            ("GET", f"{ME}/messages/18d0a1b2c3d4e5f8"): MESSAGE_REPLY,
            ("POST", f"{ME}/messages/send"): SENT,
        }
    )
    result = await reply_to_email(api.context(READONLY, SEND), email_id="18d0a1b2c3d4e5f8", body="Sure.")
    mime = decode_raw(api.json(1)["raw"])
    assert (mime["To"], mime["Cc"], mime["Subject"], mime["In-Reply-To"]) == (
        "alice@example.com",
        None,
        "Re: Q1 report",
        None,
    )
    assert result["cc"] == []


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"email_id": ""}, "is not a Gmail id"),
        ({"email_id": "../labels"}, "is not a Gmail id"),
        ({"body": "  "}, "reply body is empty"),
    ],
)
async def test_reply_rejects_bad_input_before_any_request(arguments: dict[str, Any], complaint: str) -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError, match=complaint):
        await reply_to_email(api.context(READONLY, SEND), **{"email_id": "18d0a1b2c3d4e5f6", "body": "Hi", **arguments})
    assert api.requests == []


async def test_trash_email() -> None:
    api = Api({("POST", f"{ME}/messages/18d0a1b2c3d4e5f6/trash"): TRASHED})
    result = await trash_email(api.context(MODIFY), email_id="18d0a1b2c3d4e5f6")
    assert [(r.method, r.url.path, r.content) for r in api.requests] == [
        ("POST", f"{ME}/messages/18d0a1b2c3d4e5f6/trash", b"")
    ]
    assert_authorized(api)
    assert result == {
        "id": "18d0a1b2c3d4e5f6",
        "thread_id": "18d0a1b2c3d4e5f6",
        "label_ids": ["TRASH", "CATEGORY_PERSONAL"],
        "trashed": True,
    }


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        (get_thread, {"thread_id": "thread 1"}),
        (trash_email, {"email_id": "a/b"}),
        (send_draft_email, {"draft_id": ""}),
        (list_emails, {"n_emails": 0}),
        (list_emails, {"n_emails": 51}),
    ],
)
async def test_ids_and_counts_are_checked_before_any_request(
    tool: Callable[..., Any], arguments: dict[str, Any]
) -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError):
        await tool(api.context(READONLY, MODIFY, COMPOSE), **arguments)
    assert api.requests == []


# ---- the discovery document -----------------------------------------------------------------------------


def test_fixtures_follow_the_discovery_schemas() -> None:
    for fixture, schema in (
        (MESSAGE_MULTIPART, "Message"),
        (MESSAGE_HTML, "Message"),
        (MESSAGE_REPLY, "Message"),
        (LIST_PAGE_1, "ListMessagesResponse"),
        (LIST_PAGE_2, "ListMessagesResponse"),
        (THREAD, "Thread"),
        (LABELS, "ListLabelsResponse"),
        (SENT, "Message"),
        (DRAFT, "Draft"),
        (TRASHED, "Message"),
    ):
        assert_shape(fixture, "gmail", schema)


async def test_requests_are_documented_methods_with_an_accepted_scope() -> None:
    api = Api(
        {
            **messages_routes(),
            ("GET", f"{ME}/threads/18d0a1b2c3d4e5f6"): THREAD,
            ("GET", f"{ME}/labels"): LABELS,
            ("POST", f"{ME}/messages/send"): SENT,
            ("POST", f"{ME}/drafts"): DRAFT,
            ("POST", f"{ME}/drafts/send"): SENT,
            ("POST", f"{ME}/messages/18d0a1b2c3d4e5f6/trash"): TRASHED,
        }
    )
    calls: list[tuple[Any, dict[str, Any], tuple[str, ...], list[str]]] = [
        (list_emails, {"n_emails": 1}, (READONLY,), ["users.messages.list", "users.messages.get"]),
        (search_emails, {"query": "x", "max_results": 1}, (READONLY,), ["users.messages.list", "users.messages.get"]),
        (get_thread, {"thread_id": "18d0a1b2c3d4e5f6"}, (READONLY,), ["users.threads.get"]),
        (list_labels, {}, (READONLY,), ["users.labels.list"]),
        (send_email, {"recipient": "b@example.com", "subject": "s", "body": "b"}, (SEND,), ["users.messages.send"]),
        (
            write_draft_email,
            {"recipient": "b@example.com", "subject": "s", "body": "b"},
            (COMPOSE,),
            ["users.drafts.create"],
        ),
        (send_draft_email, {"draft_id": "r-1"}, (COMPOSE,), ["users.drafts.send"]),
        (
            reply_to_email,
            {"email_id": "18d0a1b2c3d4e5f6", "body": "ok"},
            (READONLY, SEND),
            ["users.messages.get", "users.messages.send"],
        ),
        (trash_email, {"email_id": "18d0a1b2c3d4e5f6"}, (MODIFY,), ["users.messages.trash"]),
    ]
    for tool, arguments, scopes, methods in calls:
        api.requests.clear()
        await tool(api.context(*scopes), **arguments)
        assert len(api.requests) == len(methods), tool
        for request, method_id in zip(api.requests, methods, strict=True):
            assert_documented(request, "gmail", method_id, scopes)


# ---- upstream errors --------------------------------------------------------------------------------------


async def test_401_asks_the_gate_to_refresh() -> None:
    api = Api({("GET", f"{ME}/labels"): httpx2.Response(401, json=ERROR_401)})
    with pytest.raises(UpstreamAuthError):
        await list_labels(api.context(READONLY))


async def test_404_names_the_missing_thing() -> None:
    api = Api({})  # every path answers the documented 404
    with pytest.raises(UpstreamError, match="the thread 18dffff000000000 was not found") as caught:
        await get_thread(api.context(READONLY), thread_id="18dffff000000000")
    assert caught.value.status_code == 404
    with pytest.raises(UpstreamError, match="the message 18dffff000000001 was not found"):
        await trash_email(api.context(MODIFY), email_id="18dffff000000001")
    with pytest.raises(UpstreamError, match="the draft r-1 was not found"):
        await send_draft_email(api.context(COMPOSE), draft_id="r-1")


async def test_429_is_retryable_with_the_wait() -> None:
    api = Api({("GET", f"{ME}/messages"): httpx2.Response(429, json=ERROR_429, headers={"Retry-After": "30"})})
    with pytest.raises(UpstreamRateLimitError, match="Retry in 30 s") as caught:
        await list_emails(api.context(READONLY))
    assert caught.value.retry_after == 30.0


async def test_403_says_the_authorization_does_not_allow_it() -> None:
    api = Api({("POST", f"{ME}/messages/send"): httpx2.Response(403, json=ERROR_403)})
    with pytest.raises(UpstreamError, match="refused access to sending the email") as caught:
        await send_email(api.context(SEND), recipient="bob@example.com", subject="Hi", body="Hello")
    assert caught.value.status_code == 403
    assert "Insufficient" not in str(caught.value)


# ---- catalog ----------------------------------------------------------------------------------------------


LABELS_SCOPE = "https://www.googleapis.com/auth/gmail.labels"
READS = {"readOnlyHint": True, "idempotentHint": True, "openWorldHint": True}


def writes(*, destructive: bool, idempotent: bool) -> dict[str, bool]:
    return {"readOnlyHint": False, "destructiveHint": destructive, "idempotentHint": idempotent, "openWorldHint": True}


def test_catalog_loads_every_tool_with_its_narrowest_scopes_and_annotations() -> None:
    catalog = load_catalog(["toolkits.gmail"], ProviderRegistry({}))
    declared = {t.mcp_name: (tuple(t.requirement.scopes), t.hints) for t in catalog if t.requirement is not None}
    assert declared == {
        "Gmail_ListEmails": ((READONLY,), READS),
        "Gmail_SearchEmails": ((READONLY,), READS),
        "Gmail_GetThread": ((READONLY,), READS),
        "Gmail_GetEmail": ((READONLY,), READS),
        "Gmail_ListThreads": ((READONLY,), READS),
        "Gmail_ListAttachments": ((READONLY,), READS),
        "Gmail_ListDrafts": ((READONLY,), READS),
        "Gmail_ListLabels": ((READONLY,), READS),
        "Gmail_SendEmail": ((SEND,), writes(destructive=True, idempotent=False)),
        "Gmail_ForwardEmail": ((READONLY, SEND), writes(destructive=True, idempotent=False)),
        "Gmail_ReplyToEmail": ((READONLY, SEND), writes(destructive=True, idempotent=False)),
        "Gmail_WriteDraftEmail": ((COMPOSE,), writes(destructive=False, idempotent=False)),
        "Gmail_WriteDraftReplyEmail": ((READONLY, COMPOSE), writes(destructive=False, idempotent=False)),
        "Gmail_UpdateDraftEmail": ((COMPOSE,), writes(destructive=True, idempotent=True)),
        "Gmail_DeleteDraftEmail": ((COMPOSE,), writes(destructive=True, idempotent=True)),
        "Gmail_SendDraftEmail": ((COMPOSE,), writes(destructive=True, idempotent=False)),
        "Gmail_TrashEmail": ((MODIFY,), writes(destructive=True, idempotent=True)),
        "Gmail_ChangeEmailLabels": ((MODIFY,), writes(destructive=False, idempotent=True)),
        "Gmail_ArchiveEmail": ((MODIFY,), writes(destructive=False, idempotent=True)),
        "Gmail_CreateLabel": ((LABELS_SCOPE,), writes(destructive=False, idempotent=False)),
    }
    assert len(catalog) == 20
    for definition in catalog:
        assert definition.requirement is not None and definition.requirement.id == "google"
        assert definition.api_name == definition.mcp_name.replace("_", ".")
        assert definition.title
        schema = definition.input_schema
        assert "context" not in schema.get("properties", {})
        for name, prop in schema.get("properties", {}).items():
            assert prop.get("description"), (definition.mcp_name, name)
