"""The Microsoft toolkit's Outlook mail tools against a stand-in of Microsoft Graph (graph_examples.py)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from mcp_server import ToolContext, ToolExecutionError, UpstreamAuthError, UpstreamError, UpstreamRateLimitError
from tests.toolkits.microsoft.graph_examples import BASE, DRAFT, MESSAGE, PLANNER_MESSAGE, messages_page
from tests.toolkits.recorder import Recorder, body_of, context_for
from toolkits.microsoft import (
    get_email,
    list_emails,
    reply_to_email,
    search_emails,
    send_draft_email,
    send_email,
    write_draft_email,
)

pytestmark = pytest.mark.anyio

TOKEN = "tok-graph-1"
LIST_FIELDS = (
    "id,conversationId,subject,from,toRecipients,ccRecipients,receivedDateTime,bodyPreview,isRead,hasAttachments,"
    "webLink"
)


def make_context(recorder: Recorder) -> ToolContext:
    return context_for(recorder, provider_id="microsoft", token=TOKEN, settings={"api_base_url": BASE})


def check_auth(request: httpx2.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


SHAPED_CONCERT = {
    "id": "AAMkADhMGAAA=",
    "conversation_id": "AAQkADOUpag6yWs=",
    "from": "Adele Vance <adelev@contoso.OnMicrosoft.com>",
    "to": ["Alex Wilber <AlexW@contoso.OnMicrosoft.com>"],
    "cc": [],
    "subject": "9/9/2018: concert",
    "received": "2018-09-09T03:15:08+00:00",
    "preview": "The group represents Nevada.",
    "is_read": True,
    "has_attachments": False,
    "web_link": MESSAGE["webLink"],
}


async def test_list_emails_reads_the_inbox_newest_first_and_follows_the_next_link() -> None:
    next_link = f"{BASE}/me/mailFolders/inbox/messages?$top=3&$skip=1"
    recorder = Recorder(
        httpx2.Response(200, json=messages_page(MESSAGE, next_link=next_link)),
        httpx2.Response(200, json=messages_page(PLANNER_MESSAGE)),
    )
    result = await list_emails(make_context(recorder), n_emails=3)

    first, second = recorder.requests
    for request in (first, second):
        assert request.method == "GET"
        check_auth(request)
    assert first.url.path == "/v1.0/me/mailFolders/inbox/messages"
    assert dict(first.url.params) == {"$top": "3", "$select": LIST_FIELDS, "$orderby": "receivedDateTime desc"}
    assert str(second.url) == next_link  # the link as Graph gave it, nothing added
    assert result["count"] == 2 and result["truncated"] is False
    assert result["emails"][0] == SHAPED_CONCERT
    assert result["emails"][1]["from"] == "Microsoft Planner <noreply@Planner.Office365.com>"
    assert result["emails"][1]["is_read"] is False


async def test_list_emails_never_follows_a_next_link_to_another_host() -> None:
    page = messages_page(MESSAGE, next_link="https://elsewhere.example/v1.0/me/messages?$skip=1")
    recorder = Recorder(httpx2.Response(200, json=page))
    result = await list_emails(make_context(recorder), n_emails=5, folder="SentItems")
    assert recorder.only().url.path == "/v1.0/me/mailFolders/sentitems/messages"
    assert result["count"] == 1 and result["truncated"] is True


async def test_list_emails_stops_after_a_bounded_number_of_pages() -> None:
    def endless(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=messages_page(PLANNER_MESSAGE, next_link=f"{BASE}/me/messages?$skip=9"))

    recorder = Recorder(*([endless] * 10))
    result = await list_emails(make_context(recorder), n_emails=50)
    assert len(recorder.requests) == 5
    assert result["count"] == 5 and result["truncated"] is True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"n_emails": 0}, "from 1 to 50", id="zero"),
        pytest.param({"n_emails": 51}, "from 1 to 50", id="too-many"),
        pytest.param({"folder": "../users/x"}, "not a Microsoft Graph id", id="path-in-folder"),
        pytest.param({"folder": ""}, "not a Microsoft Graph id", id="empty-folder"),
    ],
)
async def test_list_emails_rejects_bad_input_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await list_emails(make_context(recorder), **arguments)
    assert recorder.requests == []


async def test_search_emails_sends_one_quoted_search_with_the_filters() -> None:
    recorder = Recorder(httpx2.Response(200, json=messages_page(MESSAGE)))
    result = await search_emails(
        make_context(recorder),
        query='concert "Nevada"',
        sender="adelev@contoso.OnMicrosoft.com",
        subject="9/9/2018 concert",
        max_results=5,
    )
    request = recorder.only()
    check_auth(request)
    assert request.url.path == "/v1.0/me/messages"
    search = "concert  Nevada  from:adelev@contoso.OnMicrosoft.com subject:'9/9/2018 concert'"
    assert dict(request.url.params) == {"$search": f'"{search}"', "$top": "5", "$select": LIST_FIELDS}
    assert result == {"search": search, "emails": [SHAPED_CONCERT], "count": 1, "truncated": False}


async def test_search_emails_needs_something_to_search_for() -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match="Give a query, a sender or a subject"):
        await search_emails(make_context(recorder), query="  ")
    assert recorder.requests == []


async def test_get_email_turns_the_html_body_into_text() -> None:
    recorder = Recorder(httpx2.Response(200, json=MESSAGE))
    result = await get_email(make_context(recorder), email_id="AAMkADhMGAAA=")
    request = recorder.only()
    assert request.method == "GET"
    assert request.url.path == "/v1.0/me/messages/AAMkADhMGAAA="
    assert dict(request.url.params) == {"$select": LIST_FIELDS + ",body"}
    assert result == {**SHAPED_CONCERT, "body": "The group represents Nevada.", "body_truncated": False}


async def test_get_email_cuts_a_long_body_and_says_so() -> None:
    long = {**MESSAGE, "body": {"contentType": "text", "content": "x" * 5000}}
    result = await get_email(make_context(Recorder(httpx2.Response(200, json=long))), email_id="AAMkADhMGAAA=")
    assert result["body_truncated"] is True
    assert result["body"].endswith("[... truncated: 1000 more characters not shown]")


async def test_send_email_posts_send_mail_with_a_text_body() -> None:
    # user-sendmail.md (user: sendMail): 202 Accepted, no body.
    recorder = Recorder(httpx2.Response(202))
    result = await send_email(
        make_context(recorder),
        to=["AlexW@contoso.OnMicrosoft.com", "alexw@contoso.onmicrosoft.com"],
        subject="Meet for lunch?",
        body="The new cafeteria is open.",
        cc=["danas@contoso.onmicrosoft.com"],
    )
    request = recorder.only()
    check_auth(request)
    assert request.method == "POST" and request.url.path == "/v1.0/me/sendMail"
    assert body_of(request) == {
        "message": {
            "subject": "Meet for lunch?",
            "body": {"contentType": "Text", "content": "The new cafeteria is open."},
            "toRecipients": [{"emailAddress": {"address": "AlexW@contoso.OnMicrosoft.com"}}],
            "ccRecipients": [{"emailAddress": {"address": "danas@contoso.onmicrosoft.com"}}],
        },
        "saveToSentItems": True,
    }
    assert result == {
        "sent": True,
        "to": ["AlexW@contoso.OnMicrosoft.com"],
        "cc": ["danas@contoso.onmicrosoft.com"],
        "bcc": [],
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"to": []}, "at least one recipient", id="no-recipient"),
        pytest.param({"to": ["not an address"]}, "not an email address", id="bad-recipient"),
        pytest.param({"cc": ["x@"]}, "not an email address", id="bad-cc"),
        pytest.param({"subject": " ", "body": ""}, "Both subject and body are empty", id="empty"),
        pytest.param({"subject": "s" * 999}, "at most 998", id="long-subject"),
    ],
)
async def test_send_email_rejects_bad_input_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    call = {"to": ["ana@example.com"], "subject": "Hi", "body": "Hello", **arguments}
    with pytest.raises(ToolExecutionError, match=message):
        await send_email(make_context(recorder), **call)
    assert recorder.requests == []


@pytest.mark.parametrize(("reply_all", "action"), [(False, "reply"), (True, "replyAll")])
async def test_reply_to_email_posts_the_comment(reply_all: bool, action: str) -> None:
    # message-reply.md / message-replyall.md: POST with {"comment": ...}, 202 Accepted.
    recorder = Recorder(httpx2.Response(202))
    result = await reply_to_email(
        make_context(recorder), email_id="AAMkADhMGAAA=", body="Sounds good!", reply_all=reply_all
    )
    request = recorder.only()
    assert request.method == "POST"
    assert request.url.path == f"/v1.0/me/messages/AAMkADhMGAAA=/{action}"
    assert body_of(request) == {"comment": "Sounds good!"}
    assert result == {"replied_to": "AAMkADhMGAAA=", "reply_all": reply_all}


async def test_reply_to_email_needs_a_body() -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match="reply body is empty"):
        await reply_to_email(make_context(recorder), email_id="AAMkADhMGAAA=", body="  ")
    assert recorder.requests == []


async def test_write_draft_email_creates_a_message_and_returns_its_id() -> None:
    recorder = Recorder(httpx2.Response(201, json=DRAFT))
    result = await write_draft_email(
        make_context(recorder),
        subject="Did you see last night's game?",
        body="They were awesome!",
        to=["AlexW@contoso.OnMicrosoft.com"],
    )
    request = recorder.only()
    assert request.method == "POST" and request.url.path == "/v1.0/me/messages"
    assert body_of(request) == {
        "subject": "Did you see last night's game?",
        "body": {"contentType": "Text", "content": "They were awesome!"},
        "toRecipients": [{"emailAddress": {"address": "AlexW@contoso.OnMicrosoft.com"}}],
    }
    assert result == {
        "draft_id": "AAMkADA1MTAAAAqldOAAA=",
        "subject": "Did you see last night's game?",
        "to": ["AlexW@contoso.OnMicrosoft.com"],
        "cc": [],
        "web_link": DRAFT["webLink"],
    }


async def test_send_draft_email_posts_send() -> None:
    # message-send.md (message: send): 202 Accepted, no body.
    recorder = Recorder(httpx2.Response(202))
    result = await send_draft_email(make_context(recorder), draft_id="AAMkADA1MTAAAAqldOAAA=")
    request = recorder.only()
    assert request.method == "POST" and request.url.path == "/v1.0/me/messages/AAMkADA1MTAAAAqldOAAA=/send"
    assert request.content == b""
    assert result == {"sent": True, "draft_id": "AAMkADA1MTAAAAqldOAAA="}


@pytest.mark.parametrize("bad", ["", "a/b", "id?x=1", "a b", "..", ".", "x" * 513])
async def test_ids_are_checked_before_any_request(bad: str) -> None:
    recorder = Recorder()
    for call in (
        lambda c: get_email(c, email_id=bad),
        lambda c: reply_to_email(c, email_id=bad, body="x"),
        lambda c: send_draft_email(c, draft_id=bad),
    ):
        with pytest.raises(ToolExecutionError, match="not a Microsoft Graph id"):
            await call(make_context(recorder))
    assert recorder.requests == []


# Graph's error body (https://learn.microsoft.com/graph/errors): {"error": {"code", "message", "innerError"}}.
# The codes below are the documented ones; the toolkit never reads the body.
def graph_error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, json={"error": {"code": code, "message": "..."}}, headers=headers)


async def test_upstream_errors_map_to_authmcp_errors() -> None:
    with pytest.raises(UpstreamAuthError):
        await list_emails(make_context(Recorder(graph_error(401, "InvalidAuthenticationToken"))))
    with pytest.raises(UpstreamError, match="the email AAMkADhMGAAA= was not found") as caught:
        await get_email(make_context(Recorder(graph_error(404, "ErrorItemNotFound"))), email_id="AAMkADhMGAAA=")
    assert caught.value.status_code == 404
    with pytest.raises(UpstreamError, match="refused access to sending the email"):
        await send_email(
            make_context(Recorder(graph_error(403, "ErrorAccessDenied"))), to=["a@b.co"], subject="s", body="b"
        )
    with pytest.raises(UpstreamRateLimitError, match="Retry in 12 s") as limited:
        await search_emails(
            make_context(Recorder(graph_error(429, "TooManyRequests", {"Retry-After": "12"}))), query="x"
        )
    assert limited.value.retry_after == 12.0


async def test_default_base_url_is_graph_v1() -> None:
    recorder = Recorder(httpx2.Response(202))
    context = context_for(recorder, provider_id="microsoft", token=TOKEN, settings={})
    await send_draft_email(context, draft_id="AAMkADA1MTAAAAqldOAAA=")
    assert str(recorder.only().url) == "https://graph.microsoft.com/v1.0/me/messages/AAMkADA1MTAAAAqldOAAA=/send"
