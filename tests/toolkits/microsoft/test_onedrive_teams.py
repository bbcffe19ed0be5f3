"""The Microsoft toolkit's OneDrive and Teams tools against a stand-in of Microsoft Graph (graph_examples.py)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from mcp_server import ToolContext, ToolExecutionError, UpstreamError
from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry
from tests.toolkits.microsoft.graph_examples import (
    BASE,
    CHANNEL_MESSAGES,
    CHANNELS,
    CHAT_MESSAGES,
    CHATS,
    DRIVE_DOCX,
    DRIVE_FILE,
    DRIVE_FOLDER,
    JOINED_TEAMS,
    SEARCH_NEXT_LINK,
    SENT_CHAT_MESSAGE,
)
from tests.toolkits.recorder import Recorder, body_of, context_for
from toolkits.microsoft import (
    get_channel_messages,
    get_chat_messages,
    get_file_content,
    list_channels,
    list_chats,
    list_files,
    list_teams,
    search_files,
    send_channel_message,
    send_chat_message,
)

pytestmark = pytest.mark.anyio

TOKEN = "tok-graph-1"
ITEM_FIELDS = "id,name,size,webUrl,lastModifiedDateTime,file,folder,parentReference"
CHAT_ID = "19:2da4c29f6d7041eca70b638b43d45437@thread.v2"
TEAM_ID = "172b0cce-e65d-44ce-9a49-91d9f2e8493a"
CHANNEL_ID = "19:561fbdbbfca848a484f0a6f00ce9dbbd@thread.tacv2"


def make_context(recorder: Recorder) -> ToolContext:
    return context_for(recorder, provider_id="microsoft", token=TOKEN, settings={"api_base_url": BASE})


SHAPED_NOTES = {
    "id": "0123456789abc!789",
    "name": "notes.md",
    "type": "file",
    "mime_type": "text/markdown",
    "size": 1182,
    "child_count": None,
    "modified": "2016-03-21T20:01:37+00:00",
    "path": "/drive/root:/Contoso Project",
    "web_url": DRIVE_FILE["webUrl"],
}


# --- OneDrive ------------------------------------------------------------------------------------------------


async def test_search_files_calls_the_search_function_with_a_quoted_query() -> None:
    recorder = Recorder(
        httpx2.Response(200, json={"value": [DRIVE_FOLDER, DRIVE_FILE], "@odata.nextLink": SEARCH_NEXT_LINK})
    )
    result = await search_files(make_context(recorder), query="Contoso's Project", max_results=2)
    request = recorder.only()  # two asked, two given: the next link is not followed
    assert request.method == "GET"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.url.path == "/v1.0/me/drive/root/search(q='Contoso''s Project')"
    assert dict(request.url.params) == {"$top": "2", "$select": ITEM_FIELDS}
    assert result["truncated"] is True
    assert result["files"] == [
        {
            "id": "0123456789abc!123",
            "name": "Contoso Project",
            "type": "folder",
            "mime_type": None,
            "size": None,
            "child_count": 4,
            "modified": None,
            "path": None,
            "web_url": None,
        },
        SHAPED_NOTES,
    ]


async def test_list_files_lists_the_root_or_a_folder() -> None:
    recorder = Recorder(httpx2.Response(200, json={"value": [DRIVE_FILE]}), httpx2.Response(200, json={"value": []}))
    root = await list_files(make_context(recorder))
    inside = await list_files(make_context(recorder), folder_id="0123456789abc!123", max_results=5)
    first, second = recorder.requests
    assert first.url.path == "/v1.0/me/drive/root/children"
    assert dict(first.url.params) == {"$top": "50", "$select": ITEM_FIELDS}
    assert second.url.path == "/v1.0/me/drive/items/0123456789abc!123/children"
    assert root == {"files": [SHAPED_NOTES], "count": 1, "truncated": False}
    assert inside == {"files": [], "count": 0, "truncated": False}


async def test_get_file_content_follows_the_download_redirect_without_the_token() -> None:
    # driveitem-get-content.md (Download the contents of a DriveItem): 302 Found with Location, a
    # pre-authenticated URL on another host.
    download = "https://public.dm.files.1drv.test/y4mABC/notes.md?download=1"
    recorder = Recorder(
        httpx2.Response(200, json=DRIVE_FILE),
        httpx2.Response(302, headers={"Location": download}),
        httpx2.Response(
            200, content=b"# Notes\r\n\r\nShip it.", headers={"Content-Type": "text/markdown; charset=utf-8"}
        ),
    )
    result = await get_file_content(make_context(recorder), file_id="0123456789abc!789")
    metadata, content, redirected = recorder.requests
    assert metadata.url.path == "/v1.0/me/drive/items/0123456789abc!789"
    assert dict(metadata.url.params) == {"$select": ITEM_FIELDS}
    assert content.url.path == "/v1.0/me/drive/items/0123456789abc!789/content"
    assert content.headers["authorization"] == f"Bearer {TOKEN}"
    assert str(redirected.url) == download
    assert "authorization" not in redirected.headers
    assert result == {
        "id": "0123456789abc!789",
        "name": "notes.md",
        "mime_type": "text/markdown",
        "size": 1182,
        "web_url": DRIVE_FILE["webUrl"],
        "content": "# Notes\n\nShip it.",
        "content_truncated": False,
    }


@pytest.mark.parametrize(
    ("item", "message"),
    [
        pytest.param(DRIVE_FOLDER, "is a folder", id="folder"),
        pytest.param(DRIVE_DOCX, "is not a text file", id="word-document"),
        pytest.param({**DRIVE_FILE, "size": 5_000_000}, "more than the 1000000 read here", id="too-big"),
    ],
)
async def test_get_file_content_reads_only_small_text_files(item: dict[str, Any], message: str) -> None:
    recorder = Recorder(httpx2.Response(200, json=item))
    with pytest.raises(ToolExecutionError, match=message):
        await get_file_content(make_context(recorder), file_id=str(item["id"]))
    assert len(recorder.requests) == 1  # the metadata only, never the content


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda c: search_files(c, query=" "), "query is empty", id="empty-query"),
        pytest.param(lambda c: search_files(c, query="x", max_results=0), "from 1 to 100", id="zero"),
        pytest.param(lambda c: list_files(c, folder_id="root/../x"), "not a Microsoft Graph id", id="path"),
        pytest.param(lambda c: get_file_content(c, file_id="a b"), "not a Microsoft Graph id", id="space"),
    ],
)
async def test_onedrive_input_is_checked_before_any_request(call: Any, message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await call(make_context(recorder))
    assert recorder.requests == []


# --- Teams ---------------------------------------------------------------------------------------------------


async def test_list_chats_expands_members() -> None:
    recorder = Recorder(httpx2.Response(200, json=CHATS))
    result = await list_chats(make_context(recorder), max_results=10)
    request = recorder.only()
    assert request.url.path == "/v1.0/me/chats"
    assert dict(request.url.params) == {
        "$top": "10",
        "$expand": "members,lastMessagePreview",
        "$orderby": "lastMessagePreview/createdDateTime desc",
    }
    assert result["chats"][0] == {
        "id": "19:meeting_MjdhNjM4YzUtYzExZi00OTFkLTkzZTAtNTVlNmZmMDhkNGU2@thread.v2",
        "topic": "Meeting chat sample",
        "type": "meeting",
        "members": ["Robin Kline", "Adele Vance"],
        "last_message": {"from": "Adele Vance", "created": "2020-12-08T23:58:32+00:00", "text": "Agenda for Friday"},
        "web_url": CHATS["value"][0]["webUrl"],
    }
    assert result["chats"][1]["id"] == CHAT_ID and result["chats"][1]["last_message"] is None
    assert result["count"] == 2


async def test_list_teams_and_channels() -> None:
    recorder = Recorder(httpx2.Response(200, json=JOINED_TEAMS), httpx2.Response(200, json=CHANNELS))
    teams = await list_teams(make_context(recorder))
    channels = await list_channels(make_context(recorder), team_id=TEAM_ID)
    first, second = recorder.requests
    assert first.url.path == "/v1.0/me/joinedTeams" and first.url.query == b""
    assert second.url.path == f"/v1.0/teams/{TEAM_ID}/channels"
    assert teams["teams"] == [
        {
            "id": TEAM_ID,
            "name": "Contoso Team",
            "description": "This is a Contoso team, used to showcase the range of properties supported by this API",
            "is_archived": False,
        }
    ]
    assert channels == {
        "team_id": TEAM_ID,
        "channels": [
            {
                "id": CHANNEL_ID,
                "name": "General",
                "description": "AutoTestTeam_20200527192224000",
                "membership": "standard",
                "web_url": CHANNELS["value"][0]["webUrl"],
            }
        ],
        "count": 1,
        "truncated": False,
    }


async def test_get_chat_messages_returns_plain_text_newest_first() -> None:
    page = {**CHAT_MESSAGES, "@odata.nextLink": f"{BASE}/chats/{CHAT_ID}/messages?$top=3&$skiptoken=M2Uy"}
    recorder = Recorder(httpx2.Response(200, json=page))
    result = await get_chat_messages(make_context(recorder), chat_id=CHAT_ID, max_results=3)
    request = recorder.only()
    assert request.url.path == f"/v1.0/chats/{CHAT_ID}/messages"
    assert dict(request.url.params) == {"$top": "3", "$orderby": "createdDateTime desc"}
    hello, image, event = result["messages"]
    assert hello == {
        "id": "1616964509832",
        "reply_to_id": None,
        "from": "Robin Kline",
        "created": "2021-03-28T20:48:29+00:00",
        "type": "message",
        "subject": None,
        "text": "Hello world",
        "text_truncated": False,
        "web_url": None,
    }
    assert image["text"] == ""  # an inline image only: no text
    assert event["from"] == "" and event["type"] == "unknownFutureValue"
    assert event["created"] == "2021-03-1706:47:05.123Z"  # the documented example's malformed time, kept as given
    assert result["truncated"] is True


async def test_get_channel_messages_turns_html_into_text() -> None:
    recorder = Recorder(httpx2.Response(200, json=CHANNEL_MESSAGES))
    result = await get_channel_messages(make_context(recorder), team_id=TEAM_ID, channel_id=CHANNEL_ID)
    request = recorder.only()
    assert request.url.path == f"/v1.0/teams/{TEAM_ID}/channels/{CHANNEL_ID}/messages"
    assert dict(request.url.params) == {"$top": "20"}
    message = result["messages"][0]
    assert message["text"] == "Hello team\n\nThe release is on Friday."
    assert message["subject"] == "Release plan"


async def test_send_chat_message_posts_a_text_body() -> None:
    recorder = Recorder(httpx2.Response(201, json=SENT_CHAT_MESSAGE))
    result = await send_chat_message(make_context(recorder), chat_id=CHAT_ID, text=" Hello world ")
    request = recorder.only()
    assert request.method == "POST" and request.url.path == f"/v1.0/chats/{CHAT_ID}/messages"
    assert body_of(request) == {"body": {"contentType": "text", "content": "Hello world"}}
    assert result["id"] == "1616991463150" and result["text"] == "Hello world"


@pytest.mark.parametrize(
    ("reply_to", "path"),
    [
        (None, f"/v1.0/teams/{TEAM_ID}/channels/{CHANNEL_ID}/messages"),
        ("1616965872395", f"/v1.0/teams/{TEAM_ID}/channels/{CHANNEL_ID}/messages/1616965872395/replies"),
    ],
)
async def test_send_channel_message_posts_or_replies(reply_to: str | None, path: str) -> None:
    # chatmessage-post.md and chatmessage-post-replies.md: 201 with the chatMessage.
    recorder = Recorder(httpx2.Response(201, json=SENT_CHAT_MESSAGE))
    await send_channel_message(
        make_context(recorder), team_id=TEAM_ID, channel_id=CHANNEL_ID, text="Hello world", reply_to_message_id=reply_to
    )
    request = recorder.only()
    assert request.method == "POST" and request.url.path == path
    assert body_of(request) == {"body": {"contentType": "text", "content": "Hello world"}}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda c: send_chat_message(c, chat_id=CHAT_ID, text=" "), "text is empty", id="empty"),
        pytest.param(lambda c: send_chat_message(c, chat_id=CHAT_ID, text="x" * 28_001), "at most 28000", id="long"),
        pytest.param(
            lambda c: send_chat_message(c, chat_id="19:x/../y", text="hi"), "not a Microsoft Graph id", id="chat"
        ),
        pytest.param(lambda c: get_chat_messages(c, chat_id=CHAT_ID, max_results=51), "from 1 to 50", id="count"),
        pytest.param(lambda c: list_channels(c, team_id=""), "not a Microsoft Graph id", id="team"),
        pytest.param(
            lambda c: send_channel_message(
                c, team_id=TEAM_ID, channel_id=CHANNEL_ID, text="x", reply_to_message_id="a?b"
            ),
            "not a Microsoft Graph id",
            id="reply-to",
        ),
    ],
)
async def test_teams_input_is_checked_before_any_request(call: Any, message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await call(make_context(recorder))
    assert recorder.requests == []


async def test_teams_on_a_personal_account_is_refused_with_a_clear_error() -> None:
    recorder = Recorder(httpx2.Response(403, json={"error": {"code": "Forbidden", "message": "..."}}))
    with pytest.raises(UpstreamError, match="refused access to the user's Teams chats"):
        await list_chats(make_context(recorder))


# --- Catalog -------------------------------------------------------------------------------------------------


def test_every_tool_has_its_narrow_permission_and_annotations() -> None:
    catalog = {d.mcp_name: d for d in load_catalog(["toolkits.microsoft"], ProviderRegistry({}))}
    scopes = {name: tuple(d.requirement.scopes) for name, d in catalog.items()}  # type: ignore[union-attr]
    assert scopes == {
        "Microsoft_ListEmails": ("Mail.Read",),
        "Microsoft_SearchEmails": ("Mail.Read",),
        "Microsoft_GetEmail": ("Mail.Read",),
        "Microsoft_SendEmail": ("Mail.Send",),
        "Microsoft_ReplyToEmail": ("Mail.Send",),
        "Microsoft_WriteDraftEmail": ("Mail.ReadWrite",),
        "Microsoft_SendDraftEmail": ("Mail.Send",),
        "Microsoft_ListEvents": ("Calendars.Read",),
        "Microsoft_CreateEvent": ("Calendars.ReadWrite",),
        "Microsoft_UpdateEvent": ("Calendars.ReadWrite",),
        "Microsoft_DeleteEvent": ("Calendars.ReadWrite",),
        "Microsoft_GetFreeBusy": ("Calendars.Read",),
        "Microsoft_SearchFiles": ("Files.Read",),
        "Microsoft_ListFiles": ("Files.Read",),
        "Microsoft_GetFileContent": ("Files.Read",),
        "Microsoft_ListChats": ("Chat.ReadBasic",),
        "Microsoft_ListTeams": ("Team.ReadBasic.All",),
        "Microsoft_ListChannels": ("Channel.ReadBasic.All",),
        "Microsoft_GetChatMessages": ("Chat.Read",),
        "Microsoft_GetChannelMessages": ("ChannelMessage.Read.All",),
        "Microsoft_SendChatMessage": ("ChatMessage.Send",),
        "Microsoft_SendChannelMessage": ("ChannelMessage.Send",),
    }
    for name, definition in catalog.items():
        assert definition.requirement is not None and definition.requirement.id == "microsoft"
        assert definition.title, name
        assert definition.hints["openWorldHint"] is True, name
        reads = name.split("_")[1].startswith(("List", "Search", "Get"))
        assert definition.hints["readOnlyHint"] is reads, name
        if not reads:
            assert "destructiveHint" in definition.hints and "idempotentHint" in definition.hints, name
        for parameter, schema in definition.input_schema.get("properties", {}).items():
            assert schema.get("description"), (name, parameter)
    assert catalog["Microsoft_SendEmail"].hints["destructiveHint"] is True
    assert catalog["Microsoft_DeleteEvent"].hints == {
        "readOnlyHint": False,
        "destructiveHint": True,
        "idempotentHint": True,
        "openWorldHint": True,
    }
    assert catalog["Microsoft_WriteDraftEmail"].hints["destructiveHint"] is False
