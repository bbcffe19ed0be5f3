"""Unit tests of the Slack toolkit against a stand-in of the Slack Web API.

Every response body below is taken from the example responses on Slack's method reference pages (the URL is
beside each fixture); error bodies follow https://docs.slack.dev/apis/web-api/ ("ok": false, "error": ...,
"needed" for missing_scope) and rate limiting https://docs.slack.dev/apis/web-api/rate-limits (HTTP 429 with
Retry-After).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

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
from toolkits.slack import (
    get_conversation_info,
    get_conversation_members,
    get_messages,
    get_thread_replies,
    get_user_info,
    invite_to_channel,
    list_conversations,
    list_users,
    reply_in_thread,
    send_message,
    who_am_i,
)
from toolkits.slack.shaping import plain_text

pytestmark = pytest.mark.anyio

# --------------------------------------------------------------------------------------------- fixtures

# https://docs.slack.dev/reference/methods/chat.postMessage (example response)
POST_MESSAGE = {
    "ok": True,
    "channel": "C123ABC456",
    "ts": "1503435956.000247",
    "message": {
        "text": "Here's a message for you",
        "username": "ecto1",
        "bot_id": "B123ABC456",
        "attachments": [{"text": "This is an attachment", "id": 1, "fallback": "This is an attachment's fallback"}],
        "type": "message",
        "subtype": "bot_message",
        "ts": "1503435956.000247",
    },
}

# https://docs.slack.dev/reference/methods/conversations.open (example response)
CONVERSATIONS_OPEN = {"ok": True, "channel": {"id": "D069C7QFK"}}

# https://docs.slack.dev/reference/methods/conversations.list (example response)
CONVERSATIONS_LIST = {
    "ok": True,
    "channels": [
        {
            "id": "C012AB3CD",
            "name": "general",
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "created": 1449252889,
            "creator": "U012A3CDE",
            "is_archived": False,
            "is_general": True,
            "unlinked": 0,
            "name_normalized": "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "pending_shared": [],
            "is_pending_ext_shared": False,
            "is_member": True,
            "is_private": False,
            "is_mpim": False,
            "updated": 1678229664302,
            "topic": {"value": "Company-wide announcements and work-based matters", "creator": "", "last_set": 0},
            "purpose": {
                "value": "This channel is for team-wide communication and announcements. All team "
                "members are in this channel.",
                "creator": "",
                "last_set": 0,
            },
            "previous_names": [],
            "num_members": 4,
        },
        {
            "id": "C061EG9T2",
            "name": "random",
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "created": 1449252889,
            "creator": "U061F7AUR",
            "is_archived": False,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": "random",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "pending_shared": [],
            "is_pending_ext_shared": False,
            "is_member": True,
            "is_private": False,
            "is_mpim": False,
            "updated": 1678229664302,
            "topic": {"value": "Non-work banter and water cooler conversation", "creator": "", "last_set": 0},
            "purpose": {
                "value": "A place for non-work-related flimflam, faffing, hodge-podge or jibber-jabber "
                "you'd prefer to keep out of more focused work-related channels.",
                "creator": "",
                "last_set": 0,
            },
            "previous_names": [],
            "num_members": 4,
        },
    ],
    "response_metadata": {"next_cursor": "dGVhbTpDMDYxRkE1UEI="},
}

# https://docs.slack.dev/reference/methods/conversations.history (example response)
CONVERSATIONS_HISTORY = {
    "ok": True,
    "messages": [
        {
            "type": "message",
            "user": "U123ABC456",
            "text": "I find you punny and would like to smell your nose letter",
            "ts": "1512085950.000216",
        },
        {
            "type": "message",
            "user": "U222BBB222",
            "text": "What, you want to smell my shoes better?",
            "ts": "1512104434.000490",
        },
    ],
    "has_more": True,
    "pin_count": 0,
    "response_metadata": {"next_cursor": "bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz"},
}

# https://docs.slack.dev/reference/methods/users.info (example response; users.lookupByEmail answers the same
# shape: https://docs.slack.dev/reference/methods/users.lookupByEmail)
SPENGLER = {
    "id": "W012A3CDE",
    "team_id": "T012AB3C4",
    "name": "spengler",
    "deleted": False,
    "color": "9f69e7",
    "real_name": "Egon Spengler",
    "tz": "America/Los_Angeles",
    "tz_label": "Pacific Daylight Time",
    "tz_offset": -25200,
    "profile": {
        "avatar_hash": "ge3b51ca72de",
        "status_text": "Print is dead",
        "status_emoji": ":books:",
        "real_name": "Egon Spengler",
        "display_name": "spengler",
        "real_name_normalized": "Egon Spengler",
        "display_name_normalized": "spengler",
        "email": "spengler@ghostbusters.example.com",
        "image_24": "https://.../avatar/e3b51ca72dee4ef87916ae2b9240df50.jpg",
        "team": "T012AB3C4",
    },
    "is_admin": True,
    "is_owner": False,
    "is_primary_owner": False,
    "is_restricted": False,
    "is_ultra_restricted": False,
    "is_bot": False,
    "updated": 1502138686,
    "is_app_user": False,
    "has_2fa": False,
}
USERS_INFO = {"ok": True, "user": SPENGLER}

# https://docs.slack.dev/reference/methods/users.list (example response)
USERS_LIST = {
    "ok": True,
    "members": [
        SPENGLER,
        {
            "id": "W07QCRPA4",
            "team_id": "T0G9PQBBK",
            "name": "glinda",
            "deleted": False,
            "color": "9f69e7",
            "real_name": "Glinda Southgood",
            "tz": "America/Los_Angeles",
            "tz_label": "Pacific Daylight Time",
            "tz_offset": -25200,
            "profile": {
                "avatar_hash": "8fbdd10b41c6",
                "first_name": "Glinda",
                "last_name": "Southgood",
                "title": "Glinda the Good",
                "phone": "",
                "skype": "",
                "real_name": "Glinda Southgood",
                "real_name_normalized": "Glinda Southgood",
                "display_name": "Glinda the Fairly Good",
                "display_name_normalized": "Glinda the Fairly Good",
                "email": "glenda@south.oz.coven",
            },
            "is_admin": True,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "updated": 1480527098,
            "has_2fa": False,
        },
    ],
    "cache_ts": 1498777272,
    "response_metadata": {"next_cursor": "dXNlcjpVMEc5V0ZYTlo="},
}

# https://docs.slack.dev/reference/methods/auth.test (example response, user token)
AUTH_TEST = {
    "ok": True,
    "url": "https://subarachnoid.slack.com/",
    "team": "Subarachnoid Workspace",
    "user": "grace",
    "team_id": "T12345678",
    "user_id": "W12345678",
}

# https://docs.slack.dev/apis/web-api/ (error responses)
INVALID_AUTH = {"ok": False, "error": "invalid_auth"}
CHANNEL_NOT_FOUND = {"ok": False, "error": "channel_not_found"}
USERS_NOT_FOUND = {"ok": False, "error": "users_not_found"}
MISSING_SCOPE = {"ok": False, "error": "missing_scope", "needed": "chat:write", "provided": "users:read"}


def last_page(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "response_metadata": {"next_cursor": ""}}


# --------------------------------------------------------------------------------------------- stand-in

Reply = dict[str, Any] | httpx2.Response | Callable[[httpx2.Request], Any]


class SlackStandin:
    """Answers each Web API method from a queue of replies and records every request."""

    def __init__(self, **replies: Reply | list[Reply]) -> None:
        self.replies = {m.replace("_", "."): r if isinstance(r, list) else [r] for m, r in replies.items()}
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        method = request.url.path.removeprefix("/")
        queue = self.replies.get(method)
        assert queue, f"unexpected call to {method}"
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(reply):
            reply = reply(request)
        return reply if isinstance(reply, httpx2.Response) else httpx2.Response(200, json=reply)

    def context(self, *scopes: str) -> ToolContext:
        slack = ProviderRegistry({}).get("slack")
        assert slack is not None  # the catalogue says how Slack reports errors; the gate passes that on
        return ToolContext(
            user_id="u1",
            authorization=ToolAuthorization(
                provider_id="slack", token="tok-slack-1", scopes=scopes, error_style=slack.error_style
            ),
            http=httpx2.AsyncClient(transport=httpx2.MockTransport(self)),
            settings={"api_base_url": "https://api.test"},
        )

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def query(request: httpx2.Request) -> dict[str, str]:
    return dict(parse_qsl(request.url.query.decode() if isinstance(request.url.query, bytes) else request.url.query))


def body(request: httpx2.Request) -> Any:
    return json.loads(request.content)


def assert_authorized(request: httpx2.Request) -> None:
    assert request.headers["authorization"] == "Bearer tok-slack-1"
    assert request.url.host == "api.test"


# --------------------------------------------------------------------------------------------- catalog


def test_catalog_loads_every_tool_with_its_scopes() -> None:
    catalog = load_catalog(["toolkits.slack"], ProviderRegistry({}))
    scopes = {t.mcp_name: set(t.requirement.scopes) for t in catalog if t.requirement is not None}
    assert scopes == {
        "Slack_SendMessage": {
            "chat:write",
            "channels:read",
            "groups:read",
            "im:write",
            "users:read",
            "users:read.email",
        },
        "Slack_ListConversations": {"channels:read", "groups:read", "im:read", "mpim:read"},
        "Slack_GetMessages": {
            "channels:history",
            "groups:history",
            "im:history",
            "mpim:history",
            "channels:read",
            "groups:read",
        },
        "Slack_ListUsers": {"users:read"},
        "Slack_GetUserInfo": {"users:read", "users:read.email"},
        "Slack_WhoAmI": {"users:read"},
        "Slack_ReplyInThread": {"chat:write", "channels:read", "groups:read"},
        "Slack_GetThreadReplies": {
            "channels:history",
            "groups:history",
            "im:history",
            "mpim:history",
            "channels:read",
            "groups:read",
        },
        "Slack_GetConversationInfo": {"channels:read", "groups:read", "im:read", "mpim:read"},
        "Slack_GetConversationMembers": {"channels:read", "groups:read", "im:read", "mpim:read"},
        "Slack_InviteToChannel": {"channels:write.invites", "groups:write.invites", "channels:read", "groups:read"},
    }
    for definition in catalog:
        assert definition.requirement is not None and definition.requirement.id == "slack"
        assert definition.api_name == definition.mcp_name.replace("_", ".", 1)
        assert definition.description
        for name, prop in definition.input_schema.get("properties", {}).items():
            assert prop.get("description"), f"{definition.mcp_name}.{name} has no description"
    read_tools = {
        "Slack_ListConversations",
        "Slack_GetMessages",
        "Slack_ListUsers",
        "Slack_GetUserInfo",
        "Slack_WhoAmI",
        "Slack_GetThreadReplies",
        "Slack_GetConversationInfo",
        "Slack_GetConversationMembers",
    }
    assert not any("write" in s for name in read_tools for s in scopes[name])
    hints = {t.mcp_name: dict(t.hints) for t in catalog}
    for definition in catalog:
        assert definition.title, f"{definition.mcp_name} has no title"
        assert hints[definition.mcp_name]["openWorldHint"] is True
        assert hints[definition.mcp_name]["readOnlyHint"] is (definition.mcp_name in read_tools)
    assert {name for name, h in hints.items() if h.get("destructiveHint")} == {
        "Slack_SendMessage",
        "Slack_ReplyInThread",
    }  # a sent message cannot be taken back by this toolkit
    assert hints["Slack_InviteToChannel"] == {
        "readOnlyHint": False,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": True,
    }


# --------------------------------------------------------------------------------------------- SendMessage


async def test_send_message_to_conversation_id_posts_json() -> None:
    api = SlackStandin(chat_postMessage=POST_MESSAGE)
    result = await send_message(
        api.context("chat:write"), message="Here's a message for you", conversation_id="C123ABC456"
    )
    (request,) = api.requests
    assert_authorized(request)
    assert (request.method, request.url.path) == ("POST", "/chat.postMessage")
    assert request.headers["content-type"].startswith("application/json")
    assert body(request) == {"channel": "C123ABC456", "text": "Here's a message for you"}
    assert result == {
        "conversation_id": "C123ABC456",
        "ts": "1503435956.000247",
        "time": "2017-08-22T21:05:56+00:00",
        "text": "Here's a message for you",
    }


async def test_send_message_to_channel_name_resolves_it_via_conversations_list() -> None:
    api = SlackStandin(conversations_list=last_page(CONVERSATIONS_LIST), chat_postMessage=POST_MESSAGE)
    await send_message(api.context(), message="hi", channel_name="#Random")
    listing, post = api.requests
    assert_authorized(listing)
    assert (listing.method, listing.url.path) == ("GET", "/conversations.list")
    assert query(listing) == {"types": "public_channel,private_channel", "exclude_archived": "true", "limit": "200"}
    assert body(post) == {"channel": "C061EG9T2", "text": "hi"}


async def test_send_message_to_unknown_channel_name_lists_close_matches_and_sends_nothing() -> None:
    api = SlackStandin(conversations_list=last_page(CONVERSATIONS_LIST))
    with pytest.raises(ToolExecutionError, match=r"No channel named #genral.*Close matches: #general"):
        await send_message(api.context(), message="hi", channel_name="genral")
    assert api.paths() == ["/conversations.list"]


async def test_send_message_to_email_opens_a_direct_message() -> None:
    api = SlackStandin(
        users_lookupByEmail={"ok": True, "user": SPENGLER},
        conversations_open=CONVERSATIONS_OPEN,
        chat_postMessage={**POST_MESSAGE, "channel": "D069C7QFK"},
    )
    result = await send_message(api.context(), message="Print is dead", user_email="spengler@ghostbusters.example.com")
    lookup, opened, post = api.requests
    for request in api.requests:
        assert_authorized(request)
    assert (lookup.method, lookup.url.path) == ("GET", "/users.lookupByEmail")
    assert query(lookup) == {"email": "spengler@ghostbusters.example.com"}
    assert (opened.method, opened.url.path, body(opened)) == ("POST", "/conversations.open", {"users": "W012A3CDE"})
    assert body(post) == {"channel": "D069C7QFK", "text": "Print is dead"}
    assert result["conversation_id"] == "D069C7QFK"


async def test_send_message_to_unknown_email_is_a_clear_not_found() -> None:
    api = SlackStandin(users_lookupByEmail=USERS_NOT_FOUND)
    with pytest.raises(UpstreamError, match=r"the user with email nobody@example\.com was not found") as caught:
        await send_message(api.context(), message="hi", user_email="nobody@example.com")
    assert caught.value.status_code == 404
    assert api.paths() == ["/users.lookupByEmail"]


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"message": "hi"}, "exactly one of channel_name or conversation_id or user_email"),
        ({"message": "hi", "channel_name": "general", "conversation_id": "C012AB3CD"}, "exactly one"),
        ({"message": "   ", "conversation_id": "C012AB3CD"}, "message is empty"),
        ({"message": "hi", "user_email": "   "}, "exactly one"),
        ({"message": "hi", "user_email": "spengler"}, "not an email address"),
        ({"message": "hi", "conversation_id": "general"}, "not a Slack conversation id"),
        ({"message": "hi", "channel_name": "two words"}, "not a Slack channel name"),
    ],
)
async def test_send_message_rejects_bad_input_before_any_request(arguments: dict[str, Any], complaint: str) -> None:
    api = SlackStandin()
    with pytest.raises(ToolExecutionError, match=complaint):
        await send_message(api.context(), **arguments)
    assert api.requests == []


async def test_missing_scope_names_the_needed_scope() -> None:
    api = SlackStandin(chat_postMessage=MISSING_SCOPE)
    with pytest.raises(UpstreamError, match="lacks the scope chat:write") as caught:
        await send_message(api.context(), message="hi", conversation_id="C012AB3CD")
    assert caught.value.status_code == 403


async def test_other_slack_error_codes_are_named() -> None:
    api = SlackStandin(chat_postMessage={"ok": False, "error": "not_in_channel"})
    with pytest.raises(UpstreamError, match="error code 'not_in_channel'"):
        await send_message(api.context(), message="hi", conversation_id="C012AB3CD")


# --------------------------------------------------------------------------------------------- ListConversations


async def test_list_conversations_follows_two_pages() -> None:
    second = last_page(
        {
            **CONVERSATIONS_LIST,
            "channels": [{"id": "D069C7QFK", "is_im": True, "user": "W012A3CDE", "created": 1449252889}],
        }
    )
    api = SlackStandin(conversations_list=[CONVERSATIONS_LIST, second])
    result = await list_conversations(api.context(), types=["public_channel", "im"])
    first_request, second_request = api.requests
    assert_authorized(first_request)
    assert (first_request.method, first_request.url.path) == ("GET", "/conversations.list")
    assert query(first_request) == {"types": "public_channel,im", "exclude_archived": "true", "limit": "200"}
    assert query(second_request)["cursor"] == "dGVhbTpDMDYxRkE1UEI="
    assert result["count"] == 3 and result["truncated"] is False
    assert result["conversations"][0] == {
        "id": "C012AB3CD",
        "type": "public_channel",
        "name": "general",
        "is_member": True,
        "is_archived": False,
        "num_members": 4,
        "topic": "Company-wide announcements and work-based matters",
        "purpose": "This channel is for team-wide communication and announcements. All team members are in this "
        "channel.",
        "created": "2015-12-04T18:14:49+00:00",
    }
    assert result["conversations"][2] == {
        "id": "D069C7QFK",
        "type": "im",
        "user": "W012A3CDE",
        "created": "2015-12-04T18:14:49+00:00",
    }


async def test_list_conversations_defaults_to_every_type() -> None:
    api = SlackStandin(conversations_list=last_page(CONVERSATIONS_LIST))
    await list_conversations(api.context())
    assert query(api.requests[0])["types"] == "public_channel,private_channel,mpim,im"


async def test_list_conversations_pagination_is_bounded() -> None:
    api = SlackStandin(conversations_list=CONVERSATIONS_LIST)  # always says there is more
    result = await list_conversations(api.context())
    assert len(api.requests) == 10
    assert result["truncated"] is True


async def test_list_conversations_rejects_unknown_types() -> None:
    api = SlackStandin()
    with pytest.raises(ToolExecutionError, match=r"Unknown conversation type\(s\) \['channels'\].*public_channel"):
        await list_conversations(api.context(), types=["channels"])
    assert api.requests == []


# --------------------------------------------------------------------------------------------- GetMessages


async def test_get_messages_converts_iso_times_and_shapes_messages() -> None:
    api = SlackStandin(conversations_history=CONVERSATIONS_HISTORY)
    result = await get_messages(
        api.context(),
        conversation_id="C012AB3CD",
        limit=2,
        oldest="2017-11-30T00:00:00Z",
        latest="2017-12-01T09:00:00+01:00",
    )
    (request,) = api.requests
    assert_authorized(request)
    assert (request.method, request.url.path) == ("GET", "/conversations.history")
    assert query(request) == {
        "channel": "C012AB3CD",
        "oldest": "1512000000.000000",
        "latest": "1512115200.000000",
        "limit": "2",
    }
    assert result == {
        "conversation_id": "C012AB3CD",
        "messages": [
            {
                "ts": "1512085950.000216",
                "user": "U123ABC456",
                "text": "I find you punny and would like to smell your nose letter",
                "time": "2017-11-30T23:52:30+00:00",
            },
            {
                "ts": "1512104434.000490",
                "user": "U222BBB222",
                "text": "What, you want to smell my shoes better?",
                "time": "2017-12-01T05:00:34+00:00",
            },
        ],
        "count": 2,
        "has_more": True,
        "next_cursor": "bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz",
    }


async def test_get_messages_asks_for_one_page_of_at_most_15_and_never_follows_the_cursor() -> None:
    # Slack's changelog 2025-05-29: conversations.history allows 1 request per minute with limit <= 15 for apps
    # not in the Marketplace, so a second request at once would be a 429.
    api = SlackStandin(conversations_history=[CONVERSATIONS_HISTORY, last_page(CONVERSATIONS_HISTORY)])
    result = await get_messages(api.context(), conversation_id="C012AB3CD")
    (request,) = api.requests
    assert query(request) == {"channel": "C012AB3CD", "limit": "15"}
    assert result["count"] == 2 and result["has_more"] is True
    assert result["next_cursor"] == "bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz"


async def test_get_messages_passes_the_cursor_back_for_the_next_page() -> None:
    api = SlackStandin(conversations_history=last_page({**CONVERSATIONS_HISTORY, "has_more": False}))
    result = await get_messages(
        api.context(), conversation_id="C012AB3CD", limit=5, cursor="bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz"
    )
    (request,) = api.requests
    assert query(request) == {"channel": "C012AB3CD", "limit": "5", "cursor": "bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz"}
    assert result["has_more"] is False and "next_cursor" not in result


async def test_get_messages_by_channel_name_and_thread_fields() -> None:
    threaded = last_page(
        {
            **CONVERSATIONS_HISTORY,
            "messages": [
                {
                    "type": "message",
                    "user": "U123ABC456",
                    "text": "see <@U222BBB222> in <#C012AB3CD|general> &amp; <https://example.com|the doc>",
                    "ts": "1512085950.000216",
                    "thread_ts": "1512085950.000216",
                    "reply_count": 2,
                }
            ],
        }
    )
    api = SlackStandin(conversations_list=last_page(CONVERSATIONS_LIST), conversations_history=threaded)
    result = await get_messages(api.context(), channel_name="general")
    assert api.paths() == ["/conversations.list", "/conversations.history"]
    assert query(api.requests[1])["channel"] == "C012AB3CD"
    assert result["messages"] == [
        {
            "ts": "1512085950.000216",
            "user": "U123ABC456",
            "text": "see @U222BBB222 in #general & the doc (https://example.com)",
            "time": "2017-11-30T23:52:30+00:00",
            "thread_ts": "1512085950.000216",
            "reply_count": 2,
        }
    ]


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({}, "exactly one of conversation_id or channel_name"),
        ({"conversation_id": "C012AB3CD", "oldest": "yesterday"}, "oldest='yesterday' is not an ISO 8601"),
        ({"conversation_id": "C012AB3CD", "latest": "2024-13-01"}, "latest='2024-13-01' is not an ISO 8601"),
        ({"conversation_id": "C012AB3CD", "oldest": "2024-05-02", "latest": "2024-05-01"}, "must be before"),
        ({"conversation_id": "C012AB3CD", "limit": 0}, "limit must be a whole number from 1 to 15, not 0"),
        ({"conversation_id": "C012AB3CD", "limit": 500}, "from 1 to 15, not 500"),
        ({"conversation_id": "C012AB3CD", "limit": 16}, "from 1 to 15"),
        ({"conversation_id": "C012AB3CD", "cursor": "not a cursor!"}, "pass next_cursor exactly"),
        ({"conversation_id": "#general"}, "not a Slack conversation id"),
    ],
)
async def test_get_messages_rejects_bad_input_before_any_request(arguments: dict[str, Any], complaint: str) -> None:
    api = SlackStandin()
    with pytest.raises(ToolExecutionError, match=complaint):
        await get_messages(api.context(), **arguments)
    assert api.requests == []


async def test_get_messages_channel_not_found() -> None:
    api = SlackStandin(conversations_history=CHANNEL_NOT_FOUND)
    with pytest.raises(UpstreamError, match="the messages of C0NOTHERE was not found") as caught:
        await get_messages(api.context(), conversation_id="C0NOTHERE")
    assert caught.value.status_code == 404


# --------------------------------------------------------------------------------------------- users


async def test_list_users_shapes_members_across_pages() -> None:
    api = SlackStandin(
        users_list=[
            USERS_LIST,
            last_page({**USERS_LIST, "members": [{**SPENGLER, "id": "W0DELETED", "name": "gone", "deleted": True}]}),
        ]
    )
    result = await list_users(api.context())
    first, second = api.requests
    assert_authorized(first)
    assert (first.method, first.url.path, query(first)) == ("GET", "/users.list", {"limit": "200"})
    assert query(second) == {"limit": "200", "cursor": "dXNlcjpVMEc5V0ZYTlo="}
    assert result["count"] == 2 and result["truncated"] is False
    assert result["users"][1] == {
        "id": "W07QCRPA4",
        "name": "glinda",
        "real_name": "Glinda Southgood",
        "display_name": "Glinda the Fairly Good",
        "email": "glenda@south.oz.coven",
        "title": "Glinda the Good",
        "timezone": "America/Los_Angeles",
        "is_bot": False,
        "is_admin": True,
        "deleted": False,
    }


async def test_get_user_info_by_id() -> None:
    api = SlackStandin(users_info=USERS_INFO)
    result = await get_user_info(api.context(), user_id="W012A3CDE")
    (request,) = api.requests
    assert_authorized(request)
    assert (request.method, request.url.path, query(request)) == ("GET", "/users.info", {"user": "W012A3CDE"})
    assert result == {
        "id": "W012A3CDE",
        "name": "spengler",
        "real_name": "Egon Spengler",
        "display_name": "spengler",
        "email": "spengler@ghostbusters.example.com",
        "timezone": "America/Los_Angeles",
        "is_bot": False,
        "is_admin": True,
        "deleted": False,
    }


async def test_get_user_info_by_email() -> None:
    api = SlackStandin(users_lookupByEmail={"ok": True, "user": SPENGLER})
    result = await get_user_info(api.context(), email="spengler@ghostbusters.example.com")
    assert query(api.requests[0]) == {"email": "spengler@ghostbusters.example.com"}
    assert result["id"] == "W012A3CDE"


async def test_get_user_info_user_not_found() -> None:
    api = SlackStandin(users_info={"ok": False, "error": "user_not_found"})
    with pytest.raises(UpstreamError, match="the user W0NOBODY0 was not found"):
        await get_user_info(api.context(), user_id="W0NOBODY0")


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({}, "exactly one of user_id or email"),
        ({"user_id": "spengler"}, "not a Slack user id"),
        ({"email": "x@"}, "not an email address"),
        ({"user_id": "W012A3CDE", "email": "a@b.co"}, "exactly one"),
    ],
)
async def test_get_user_info_rejects_bad_input_before_any_request(arguments: dict[str, Any], complaint: str) -> None:
    api = SlackStandin()
    with pytest.raises(ToolExecutionError, match=complaint):
        await get_user_info(api.context(), **arguments)
    assert api.requests == []


async def test_who_am_i_combines_auth_test_and_users_info() -> None:
    api = SlackStandin(auth_test=AUTH_TEST, users_info=USERS_INFO)
    result = await who_am_i(api.context())
    test, info = api.requests
    assert_authorized(test)
    assert_authorized(info)
    assert (test.method, test.url.path) == ("POST", "/auth.test")
    assert (info.method, info.url.path, query(info)) == ("GET", "/users.info", {"user": "W12345678"})
    assert result["user_id"] == "W12345678"
    assert result["real_name"] == "Egon Spengler"
    assert (result["team"], result["team_id"], result["url"]) == (
        "Subarachnoid Workspace",
        "T12345678",
        "https://subarachnoid.slack.com/",
    )


# --------------------------------------------------------------------------------------------- error mapping


@pytest.mark.parametrize("code", ["not_authed", "invalid_auth", "token_revoked", "token_expired"])
async def test_slack_auth_error_codes_are_upstream_auth_errors(code: str) -> None:
    api = SlackStandin(auth_test={"ok": False, "error": code})
    with pytest.raises(UpstreamAuthError):
        await who_am_i(api.context())


async def test_http_401_is_an_upstream_auth_error() -> None:
    api = SlackStandin(users_list=httpx2.Response(401, json=INVALID_AUTH))
    with pytest.raises(UpstreamAuthError):
        await list_users(api.context())


async def test_http_404_names_the_thing() -> None:
    api = SlackStandin(users_info=httpx2.Response(404, text="not found"))
    with pytest.raises(UpstreamError, match=r"the user W012A3CDE was not found \(HTTP 404\)") as caught:
        await get_user_info(api.context(), user_id="W012A3CDE")
    assert caught.value.status_code == 404


async def test_http_429_is_retryable_with_the_wait() -> None:
    api = SlackStandin(
        conversations_history=httpx2.Response(
            429, headers={"Retry-After": "30"}, json={"ok": False, "error": "ratelimited"}
        )
    )
    with pytest.raises(UpstreamRateLimitError, match="Retry in 30 s") as caught:
        await get_messages(api.context(), conversation_id="C012AB3CD")
    assert caught.value.retry_after == 30.0


async def test_ratelimited_code_without_429_is_still_a_rate_limit() -> None:
    api = SlackStandin(users_list={"ok": False, "error": "ratelimited"})
    with pytest.raises(UpstreamRateLimitError):
        await list_users(api.context())


async def test_error_messages_never_echo_free_text_from_slack() -> None:
    api = SlackStandin(users_list={"ok": False, "error": "secret stuff <b>tok-xyz</b>"})
    with pytest.raises(UpstreamError) as caught:
        await list_users(api.context())
    assert "tok-xyz" not in str(caught.value)


def test_plain_text_of_slack_markup() -> None:
    assert plain_text("<!here> <!subteam^SAZ94GDB8|@team> <mailto:a@b.co|a@b.co> &lt;3") == "@here @team a@b.co <3"


# --------------------------------------------------------------------------------------------- threads

# https://docs.slack.dev/reference/methods/conversations.replies (example response)
CONVERSATIONS_REPLIES = {
    "messages": [
        {
            "type": "message",
            "user": "U061F7AUR",
            "text": "island",
            "thread_ts": "1482960137.003543",
            "reply_count": 3,
            "subscribed": True,
            "last_read": "1484678597.521003",
            "unread_count": 0,
            "ts": "1482960137.003543",
        },
        {
            "type": "message",
            "user": "U061F7AUR",
            "text": "one island",
            "thread_ts": "1482960137.003543",
            "parent_user_id": "U061F7AUR",
            "ts": "1483037603.017503",
        },
        {
            "type": "message",
            "user": "U061F7AUR",
            "text": "two island",
            "thread_ts": "1482960137.003543",
            "parent_user_id": "U061F7AUR",
            "ts": "1483051909.018632",
        },
        {
            "type": "message",
            "user": "U061F7AUR",
            "text": "three for the land",
            "thread_ts": "1482960137.003543",
            "parent_user_id": "U061F7AUR",
            "ts": "1483125339.020269",
        },
    ],
    "has_more": True,
    "ok": True,
    "response_metadata": {"next_cursor": "bmV4dF90czoxNDg0Njc4MjkwNTE3MDkx"},
}


async def test_get_thread_replies_reads_one_page_of_the_thread() -> None:
    api = SlackStandin(conversations_replies=CONVERSATIONS_REPLIES)
    result = await get_thread_replies(
        api.context(), conversation_id="C012AB3CD", thread_ts="1482960137.003543", limit=4
    )
    (request,) = api.requests
    assert_authorized(request)
    assert (request.method, request.url.path) == ("GET", "/conversations.replies")
    assert query(request) == {"channel": "C012AB3CD", "ts": "1482960137.003543", "limit": "4"}
    assert result["conversation_id"] == "C012AB3CD" and result["thread_ts"] == "1482960137.003543"
    assert [m["text"] for m in result["messages"]] == ["island", "one island", "two island", "three for the land"]
    assert result["messages"][1] == {
        "ts": "1483037603.017503",
        "user": "U061F7AUR",
        "text": "one island",
        "time": "2016-12-29T18:53:23+00:00",
        "thread_ts": "1482960137.003543",
    }
    assert (result["count"], result["has_more"], result["next_cursor"]) == (4, True, "bmV4dF90czoxNDg0Njc4MjkwNTE3MDkx")


async def test_get_thread_replies_429_is_a_retryable_error_with_the_wait() -> None:
    api = SlackStandin(
        conversations_replies=httpx2.Response(
            429, headers={"Retry-After": "60"}, json={"ok": False, "error": "ratelimited"}
        )
    )
    with pytest.raises(UpstreamRateLimitError, match="Retry in 60 s") as caught:
        await get_thread_replies(
            api.context(),
            conversation_id="C012AB3CD",
            thread_ts="1482960137.003543",
            cursor="bmV4dF90czoxNDg0Njc4MjkwNTE3MDkx",
        )
    assert caught.value.retry_after == 60.0
    assert query(api.requests[0])["cursor"] == "bmV4dF90czoxNDg0Njc4MjkwNTE3MDkx"


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"conversation_id": "C012AB3CD", "thread_ts": "yesterday"}, "not a Slack message timestamp"),
        ({"thread_ts": "1482960137.003543"}, "exactly one of conversation_id or channel_name"),
        ({"conversation_id": "C012AB3CD", "thread_ts": "1482960137.003543", "limit": 20}, "from 1 to 15"),
    ],
)
async def test_get_thread_replies_rejects_bad_input_before_any_request(
    arguments: dict[str, Any], complaint: str
) -> None:
    api = SlackStandin()
    with pytest.raises(ToolExecutionError, match=complaint):
        await get_thread_replies(api.context(), **arguments)
    assert api.requests == []


async def test_reply_in_thread_posts_with_thread_ts() -> None:
    reply = {**POST_MESSAGE, "message": {**POST_MESSAGE["message"], "thread_ts": "1482960137.003543"}}
    api = SlackStandin(conversations_list=last_page(CONVERSATIONS_LIST), chat_postMessage=reply)
    result = await reply_in_thread(
        api.context(),
        channel_name="random",
        thread_ts="1482960137.003543",
        message="Here's a message for you",
        also_send_to_channel=True,
    )
    _listing, post = api.requests
    assert_authorized(post)
    assert (post.method, post.url.path) == ("POST", "/chat.postMessage")
    assert body(post) == {
        "channel": "C061EG9T2",
        "text": "Here's a message for you",
        "thread_ts": "1482960137.003543",
        "reply_broadcast": True,
    }
    assert result == {
        "conversation_id": "C123ABC456",
        "ts": "1503435956.000247",
        "time": "2017-08-22T21:05:56+00:00",
        "text": "Here's a message for you",
        "thread_ts": "1482960137.003543",
    }


async def test_reply_in_thread_without_broadcast_sends_no_reply_broadcast() -> None:
    api = SlackStandin(chat_postMessage=POST_MESSAGE)
    await reply_in_thread(api.context(), conversation_id="C012AB3CD", thread_ts="1482960137.003543", message="ok")
    assert body(api.requests[0]) == {"channel": "C012AB3CD", "text": "ok", "thread_ts": "1482960137.003543"}


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"conversation_id": "C012AB3CD", "thread_ts": "1482960137", "message": "hi"}, "not a Slack message timestamp"),
        ({"conversation_id": "C012AB3CD", "thread_ts": "1482960137.003543", "message": " "}, "message is empty"),
        ({"conversation_id": "C012AB3CD", "thread_ts": "1482960137.003543", "message": "x" * 40_001}, "at most 40000"),
        (
            {"channel_name": "no spaces please", "thread_ts": "1482960137.003543", "message": "hi"},
            "not a Slack channel name",
        ),
    ],
)
async def test_reply_in_thread_rejects_bad_input_before_any_request(arguments: dict[str, Any], complaint: str) -> None:
    api = SlackStandin()
    with pytest.raises(ToolExecutionError, match=complaint):
        await reply_in_thread(api.context(), **arguments)
    assert api.requests == []


# --------------------------------------------------------------------------------------------- conversation details

# https://docs.slack.dev/reference/methods/conversations.info (example response; num_members with
# include_num_members=true)
CONVERSATIONS_INFO = {
    "ok": True,
    "channel": {
        "id": "C012AB3CD",
        "name": "general",
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": False,
        "created": 1654868334,
        "is_archived": False,
        "is_general": True,
        "unlinked": 0,
        "name_normalized": "general",
        "is_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": "T123ABC456",
        "updated": 1723528245513,
        "parent_conversation": None,
        "creator": "U123ABC456",
        "is_ext_shared": False,
        "shared_team_ids": ["T123ABC456"],
        "pending_connected_team_ids": [],
        "is_member": True,
        "last_read": "1723528245.512309",
        "topic": {"value": "For public discussion of generalities", "creator": "W012A3BCD", "last_set": 1449709364},
        "purpose": {
            "value": "This part of the workspace is for fun. Make fun here.",
            "creator": "W012A3BCD",
            "last_set": 1449709364,
        },
        "previous_names": ["specifics", "abstractions", "etc"],
        "num_members": 23,
    },
}

# https://docs.slack.dev/reference/methods/conversations.members (example response)
CONVERSATIONS_MEMBERS = {
    "ok": True,
    "members": ["U023BECGF", "U061F7AUR", "W012A3CDE"],
    "response_metadata": {"next_cursor": "e3VzZXJfaWQ6IFcxMjM0NTY3fQ=="},
}

# https://docs.slack.dev/reference/methods/conversations.invite (example response, abridged to the fields shaped)
CONVERSATIONS_INVITE = {
    "ok": True,
    "channel": {
        "id": "C012AB3CD",
        "name": "general",
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "created": 1449252889,
        "creator": "W012A3BCD",
        "is_archived": False,
        "is_general": True,
        "name_normalized": "general",
        "is_member": True,
        "is_private": False,
        "is_mpim": False,
        "topic": {"value": "For public discussion of generalities", "creator": "W012A3BCD", "last_set": 1449709364},
        "purpose": {
            "value": "This part of the workspace is for fun. Make fun here.",
            "creator": "W012A3BCD",
            "last_set": 1449709364,
        },
        "num_members": 23,
    },
}


async def test_get_conversation_info_asks_for_the_member_count() -> None:
    api = SlackStandin(conversations_info=CONVERSATIONS_INFO)
    result = await get_conversation_info(api.context(), conversation_id="C012AB3CD")
    (request,) = api.requests
    assert_authorized(request)
    assert (request.method, request.url.path) == ("GET", "/conversations.info")
    assert query(request) == {"channel": "C012AB3CD", "include_num_members": "true"}
    assert result == {
        "id": "C012AB3CD",
        "type": "public_channel",
        "name": "general",
        "is_member": True,
        "is_archived": False,
        "num_members": 23,
        "topic": "For public discussion of generalities",
        "purpose": "This part of the workspace is for fun. Make fun here.",
        "created": "2022-06-10T13:38:54+00:00",
    }


async def test_get_conversation_info_not_found_names_the_conversation() -> None:
    api = SlackStandin(conversations_info=CHANNEL_NOT_FOUND)
    with pytest.raises(UpstreamError, match="the conversation C0NOTHERE was not found") as caught:
        await get_conversation_info(api.context(), conversation_id="C0NOTHERE")
    assert caught.value.status_code == 404


async def test_get_conversation_members_returns_ids_and_the_cursor() -> None:
    api = SlackStandin(conversations_list=last_page(CONVERSATIONS_LIST), conversations_members=CONVERSATIONS_MEMBERS)
    result = await get_conversation_members(api.context(), channel_name="#general", limit=3)
    _listing, members = api.requests
    assert (members.method, members.url.path) == ("GET", "/conversations.members")
    assert query(members) == {"channel": "C012AB3CD", "limit": "3"}
    assert result == {
        "conversation_id": "C012AB3CD",
        "member_ids": ["U023BECGF", "U061F7AUR", "W012A3CDE"],
        "count": 3,
        "has_more": True,
        "next_cursor": "e3VzZXJfaWQ6IFcxMjM0NTY3fQ==",
    }


async def test_get_conversation_members_next_page_and_limits() -> None:
    api = SlackStandin(conversations_members=last_page(CONVERSATIONS_MEMBERS))
    result = await get_conversation_members(
        api.context(), conversation_id="C012AB3CD", cursor="e3VzZXJfaWQ6IFcxMjM0NTY3fQ=="
    )
    assert query(api.requests[0]) == {"channel": "C012AB3CD", "limit": "100", "cursor": "e3VzZXJfaWQ6IFcxMjM0NTY3fQ=="}
    assert result["has_more"] is False and "next_cursor" not in result
    with pytest.raises(ToolExecutionError, match="limit must be a whole number from 1 to 200, not 500"):
        await get_conversation_members(api.context(), conversation_id="C012AB3CD", limit=500)
    assert len(api.requests) == 1


async def test_invite_to_channel_posts_the_user_ids() -> None:
    api = SlackStandin(conversations_invite=CONVERSATIONS_INVITE)
    result = await invite_to_channel(
        api.context(), conversation_id="C012AB3CD", user_ids=["W1234567890", "U2345678901", "W1234567890"]
    )
    (request,) = api.requests
    assert_authorized(request)
    assert (request.method, request.url.path) == ("POST", "/conversations.invite")
    assert body(request) == {"channel": "C012AB3CD", "users": "W1234567890,U2345678901"}
    assert result["invited"] == ["W1234567890", "U2345678901"]
    assert result["channel"]["id"] == "C012AB3CD" and result["channel"]["num_members"] == 23


async def test_invite_to_channel_already_in_channel_is_named() -> None:
    api = SlackStandin(conversations_invite={"ok": False, "error": "already_in_channel"})
    with pytest.raises(UpstreamError, match="error code 'already_in_channel'"):
        await invite_to_channel(api.context(), conversation_id="C012AB3CD", user_ids=["W1234567890"])


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"conversation_id": "C012AB3CD", "user_ids": []}, "user_ids is required"),
        ({"conversation_id": "C012AB3CD", "user_ids": ["spengler"]}, "not a Slack user id"),
        ({"conversation_id": "C012AB3CD", "user_ids": [f"U{n:09d}" for n in range(101)]}, "At most 100"),
        ({"conversation_id": "D069C7QFK", "user_ids": ["W1234567890"]}, "is a direct message"),
        ({"user_ids": ["W1234567890"]}, "exactly one of conversation_id or channel_name"),
    ],
)
async def test_invite_to_channel_rejects_bad_input_before_any_request(
    arguments: dict[str, Any], complaint: str
) -> None:
    api = SlackStandin()
    with pytest.raises(ToolExecutionError, match=complaint):
        await invite_to_channel(api.context(), **arguments)
    assert api.requests == []
