"""Unit tests of ListDrafts, UpdateDraftEmail, DeleteDraftEmail, WriteDraftReplyEmail, ChangeEmailLabels,
ArchiveEmail and CreateLabel against a stand-in of the Gmail API v1.

Fixtures follow the schemas of Gmail v1's discovery document (tests/toolkits/google_discovery: Draft,
ListDraftsResponse, Label, Message) and the reference pages
https://developers.google.com/gmail/api/reference/rest/v1/users.drafts and
https://developers.google.com/gmail/api/reference/rest/v1/users.messages/modify; drafts.delete answers an
empty body.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from mcp_server import ToolExecutionError, UpstreamError
from tests.toolkits.gmail.test_tools import (
    COMPOSE,
    DRAFT,
    LABELS,
    ME,
    MESSAGE_MULTIPART,
    MODIFY,
    READONLY,
    Api,
    assert_authorized,
    decode_raw,
)
from tests.toolkits.google_discovery import assert_documented, assert_shape
from toolkits.gmail import (
    archive_email,
    change_email_labels,
    create_label,
    delete_draft_email,
    list_drafts,
    update_draft_email,
    write_draft_reply_email,
)

pytestmark = pytest.mark.anyio

LABELS_SCOPE = "https://www.googleapis.com/auth/gmail.labels"
DRAFT_ID = "r-5842147468013457261"
# users.drafts.list: {drafts: [{id, message: {id, threadId}}], nextPageToken, resultSizeEstimate}.
DRAFTS = {
    "drafts": [{"id": DRAFT_ID, "message": {"id": "18d0a1b2c3d4e600", "threadId": "18d0a1b2c3d4e5f6"}}],
    "resultSizeEstimate": 1,
}
# users.drafts.get with format=full: a Draft whose message is a full Message (a reply in a thread).
DRAFT_FULL = {"id": DRAFT_ID, "message": {**MESSAGE_MULTIPART, "id": "18d0a1b2c3d4e600", "labelIds": ["DRAFT"]}}
# users.drafts.get with format=metadata: the message's headers, no body.
DRAFT_METADATA = {
    "id": DRAFT_ID,
    "message": {
        "id": "18d0a1b2c3d4e600",
        "threadId": "18d0a1b2c3d4e5f6",
        "labelIds": ["DRAFT"],
        "payload": {
            "mimeType": "text/plain",
            "headers": [
                {"name": "To", "value": "bob@example.com"},
                {"name": "In-Reply-To", "value": "<CAB123@mail.example.com>"},
                {"name": "References", "value": "<CAB123@mail.example.com>"},
            ],
        },
    },
}
# users.messages.modify returns the Message; users.labels.create the Label.
MODIFIED = {"id": "18d0a1b2c3d4e5f6", "threadId": "18d0a1b2c3d4e5f6", "labelIds": ["Label_12", "IMPORTANT"]}
CREATED_LABEL = {
    "id": "Label_13",
    "name": "Receipts",
    "messageListVisibility": "show",
    "labelListVisibility": "labelShow",
    "type": "user",
}


def test_fixtures_follow_the_discovery_schemas() -> None:
    for fixture, schema in (
        (DRAFTS, "ListDraftsResponse"),
        (DRAFT_FULL, "Draft"),
        (DRAFT_METADATA, "Draft"),
        (MODIFIED, "Message"),
        (CREATED_LABEL, "Label"),
    ):
        assert_shape(fixture, "gmail", schema)


async def test_list_drafts_reads_each_draft() -> None:
    api = Api({("GET", f"{ME}/drafts"): DRAFTS, ("GET", f"{ME}/drafts/{DRAFT_ID}"): DRAFT_FULL})
    result = await list_drafts(api.context(READONLY), max_results=3)
    assert_documented(api.requests[0], "gmail", "users.drafts.list", (READONLY,))
    assert_documented(api.requests[1], "gmail", "users.drafts.get", (READONLY,))
    assert (api.params(0), api.params(1)) == ([("maxResults", "3")], [("format", "full")])
    assert_authorized(api)
    assert result == {
        "count": 1,
        "drafts": [
            {
                "draft_id": DRAFT_ID,
                "message_id": "18d0a1b2c3d4e600",
                "thread_id": "18d0a1b2c3d4e5f6",
                "to": "Alice <alice@example.com>, carol@example.com",
                "cc": "dave@example.com",
                "subject": "Q1 report",
                "date": "2024-01-15T10:00:00+01:00",
                "body": "Hi Alice,\n\nThe Q1 report is ready for review.\n\nBob",
                "body_truncated": False,
            }
        ],
    }


async def test_update_draft_email_replaces_the_message_and_keeps_the_thread() -> None:
    api = Api(
        {
            ("GET", f"{ME}/drafts/{DRAFT_ID}"): DRAFT_METADATA,
            ("PUT", f"{ME}/drafts/{DRAFT_ID}"): {
                **DRAFT,
                "message": {**DRAFT["message"], "threadId": "18d0a1b2c3d4e5f6"},
            },
        }
    )
    result = await update_draft_email(
        api.context(COMPOSE),
        draft_id=DRAFT_ID,
        recipient="bob@example.com",
        subject="Re: Q1 report",
        body="New text",
        cc=["carol@example.com"],
    )
    assert_documented(api.requests[0], "gmail", "users.drafts.get", (COMPOSE,))
    assert_documented(api.requests[1], "gmail", "users.drafts.update", (COMPOSE,))
    assert api.params(0) == [("format", "metadata")]
    sent = api.json(1)
    assert sent["id"] == DRAFT_ID and sent["message"]["threadId"] == "18d0a1b2c3d4e5f6"
    mime = decode_raw(sent["message"]["raw"])
    assert (mime["To"], mime["Cc"], mime["Subject"], mime["In-Reply-To"], mime["References"]) == (
        "bob@example.com",
        "carol@example.com",
        "Re: Q1 report",
        "<CAB123@mail.example.com>",
        "<CAB123@mail.example.com>",
    )
    assert mime.get_content().strip() == "New text"
    assert result == {"draft_id": DRAFT_ID, "message_id": "18d0a1b2c3d4e600", "thread_id": "18d0a1b2c3d4e5f6"}


async def test_delete_draft_email_sends_delete() -> None:
    api = Api({("DELETE", f"{ME}/drafts/{DRAFT_ID}"): httpx2.Response(204)})
    result = await delete_draft_email(api.context(COMPOSE), draft_id=DRAFT_ID)
    assert_documented(api.requests[0], "gmail", "users.drafts.delete", (COMPOSE,))
    assert result == {"draft_id": DRAFT_ID, "deleted": True}


async def test_write_draft_reply_email_saves_a_threaded_reply() -> None:
    api = Api({("GET", f"{ME}/messages/18d0a1b2c3d4e5f6"): MESSAGE_MULTIPART, ("POST", f"{ME}/drafts"): DRAFT})
    context = api.context(READONLY, COMPOSE, user_info={"email": "alice@example.com"})
    result = await write_draft_reply_email(context, email_id="18d0a1b2c3d4e5f6", body="Will do.", reply_all=True)
    assert_documented(api.requests[0], "gmail", "users.messages.get", (READONLY, COMPOSE))
    assert_documented(api.requests[1], "gmail", "users.drafts.create", (READONLY, COMPOSE))
    message = api.json(1)["message"]
    assert message["threadId"] == "18d0a1b2c3d4e5f6"
    mime = decode_raw(message["raw"])
    assert (mime["To"], mime["Cc"], mime["Subject"]) == (
        "Bob Smith <bob@example.com>",
        "carol@example.com, dave@example.com",
        "Re: Q1 report",
    )
    assert result == {
        "draft_id": DRAFT_ID,
        "message_id": "18d0a1b2c3d4e600",
        "thread_id": "18d0a1b2c3d4e600",
        "to": ["bob@example.com"],
        "cc": ["carol@example.com", "dave@example.com"],
    }


async def test_change_email_labels_resolves_names_and_modifies() -> None:
    api = Api({("GET", f"{ME}/labels"): LABELS, ("POST", f"{ME}/messages/18d0a1b2c3d4e5f6/modify"): MODIFIED})
    result = await change_email_labels(
        api.context(MODIFY), email_id="18d0a1b2c3d4e5f6", add_labels=["work"], remove_labels=["INBOX"]
    )
    assert_documented(api.requests[0], "gmail", "users.labels.list", (MODIFY,))
    assert_documented(api.requests[1], "gmail", "users.messages.modify", (MODIFY,))
    assert api.json(1) == {"addLabelIds": ["Label_12"], "removeLabelIds": ["INBOX"]}
    assert result == {"id": "18d0a1b2c3d4e5f6", "thread_id": "18d0a1b2c3d4e5f6", "label_ids": ["Label_12", "IMPORTANT"]}


async def test_change_email_labels_names_an_unknown_label_without_modifying() -> None:
    api = Api({("GET", f"{ME}/labels"): LABELS})
    with pytest.raises(ToolExecutionError, match="No label named 'Travel'; see ListLabels"):
        await change_email_labels(api.context(MODIFY), email_id="18d0a1b2c3d4e5f6", add_labels=["Travel"])
    assert len(api.requests) == 1


async def test_archive_email_removes_the_inbox_label() -> None:
    api = Api({("POST", f"{ME}/messages/18d0a1b2c3d4e5f6/modify"): {**MODIFIED, "labelIds": ["Label_12"]}})
    result = await archive_email(api.context(MODIFY), email_id="18d0a1b2c3d4e5f6")
    assert_documented(api.requests[0], "gmail", "users.messages.modify", (MODIFY,))
    assert api.json(0) == {"removeLabelIds": ["INBOX"]}
    assert result["label_ids"] == ["Label_12"]


async def test_create_label_posts_a_visible_label() -> None:
    api = Api({("POST", f"{ME}/labels"): CREATED_LABEL})
    result = await create_label(api.context(LABELS_SCOPE), name=" Receipts ")
    assert_documented(api.requests[0], "gmail", "users.labels.create", (LABELS_SCOPE,))
    assert api.json(0) == {"name": "Receipts", "labelListVisibility": "labelShow", "messageListVisibility": "show"}
    assert result == {"id": "Label_13", "name": "Receipts", "type": "user"}


async def test_create_label_that_exists_is_a_clear_rejection() -> None:
    # Gmail answers 409 ALREADY_EXISTS for a duplicate name (Google's error model, https://cloud.google.com/apis/design/errors).
    api = Api(
        {
            ("POST", f"{ME}/labels"): httpx2.Response(
                409,
                json={"error": {"code": 409, "message": "Label name exists or conflicts", "status": "ALREADY_EXISTS"}},
            )
        }
    )
    with pytest.raises(UpstreamError, match="rejected creating the label 'Work' \\(HTTP 409\\)"):
        await create_label(api.context(LABELS_SCOPE), name="Work")


@pytest.mark.parametrize(
    ("tool", "arguments", "complaint"),
    [
        (list_drafts, {"max_results": 0}, "from 1 to 25"),
        (
            update_draft_email,
            {"draft_id": "r 1", "recipient": "b@example.com", "subject": "s", "body": "b"},
            "is not a Gmail id",
        ),
        (
            update_draft_email,
            {"draft_id": "r-1", "recipient": "nope", "subject": "s", "body": "b"},
            "is not an email address",
        ),
        (
            update_draft_email,
            {"draft_id": "r-1", "recipient": "b@example.com", "subject": "", "body": " "},
            "Both subject and body are empty",
        ),
        (delete_draft_email, {"draft_id": ""}, "is not a Gmail id"),
        (write_draft_reply_email, {"email_id": "18d0a1b2c3d4e5f6", "body": ""}, "reply body is empty"),
        (change_email_labels, {"email_id": "18d0a1b2c3d4e5f6"}, "nothing would change"),
        (change_email_labels, {"email_id": "18d0a1b2c3d4e5f6", "add_labels": "Work"}, "must be a list"),
        (
            change_email_labels,
            {"email_id": "18d0a1b2c3d4e5f6", "add_labels": ["Work"], "remove_labels": ["work"]},
            "both added and removed",
        ),
        (archive_email, {"email_id": "../x"}, "is not a Gmail id"),
        (create_label, {"name": "  "}, "name is empty"),
        (create_label, {"name": "x" * 226}, "keep it to 225"),
    ],
)
async def test_bad_input_is_refused_before_any_request(tool: Any, arguments: dict[str, Any], complaint: str) -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError, match=complaint):
        await tool(api.context(READONLY, COMPOSE, MODIFY, LABELS_SCOPE), **arguments)
    assert api.requests == []
