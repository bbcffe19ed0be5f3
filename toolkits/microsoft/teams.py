"""Microsoft Teams through Microsoft Graph: the user's chats, teams and channels, reading and sending messages.

Teams through Graph needs a work or school account; personal Microsoft accounts get a 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ACTS, READS, ToolContext, tool, whole_number
from mcp_server.auth import Microsoft
from toolkits.microsoft import client

CHAT_READBASIC = "Chat.ReadBasic"
CHAT_READ = "Chat.Read"
CHAT_MESSAGE_SEND = "ChatMessage.Send"
TEAM_READBASIC = "Team.ReadBasic.All"
CHANNEL_READBASIC = "Channel.ReadBasic.All"
CHANNEL_MESSAGE_READ = "ChannelMessage.Read.All"
CHANNEL_MESSAGE_SEND = "ChannelMessage.Send"

MAX_ITEMS = 50  # the largest $top Graph allows for chats and chat and channel messages
MAX_MESSAGE_CHARS = 28_000  # Teams refuses messages much over 28 KB


#: Parameters several of these tools take alike.
TeamId = Annotated[str, "The id of the team, as ListTeams returned it."]
LatestMessages = Annotated[int, "How many of the latest messages to return, 1 to 50."]
ChannelId = Annotated[str, "The id of the channel, as ListChannels returned it."]
MessageText = Annotated[str, "The plain-text message."]


def _sender(message: dict[str, Any]) -> str:
    origin = message.get("from") or {}
    for kind in ("user", "application", "device"):
        identity = origin.get(kind) if isinstance(origin, dict) else None
        if isinstance(identity, dict) and identity.get("displayName"):
            return str(identity["displayName"])
    return ""


def _shape_message(message: dict[str, Any]) -> dict[str, Any]:
    text, truncated = client.truncate(client.body_text(message.get("body")))
    return {
        "id": message.get("id"),
        "reply_to_id": message.get("replyToId"),
        "from": _sender(message),
        "created": client.iso_time(message.get("createdDateTime")),
        "type": message.get("messageType"),
        "subject": message.get("subject"),
        "text": text,
        "text_truncated": truncated,
        "web_url": message.get("webUrl"),
    }


def _preview(info: object) -> dict[str, Any] | None:
    """A chat's last message (Graph's chatMessageInfo), its text cut short."""
    if not isinstance(info, dict):
        return None
    text = client.body_text(info.get("body"))
    return {
        "from": _sender(info),
        "created": client.iso_time(info.get("createdDateTime")),
        "text": text if len(text) <= 200 else text[:200] + "...",
    }


def _check_text(text: str) -> dict[str, Any]:
    return {"body": {"contentType": "text", "content": client.check_text(text, "text", maximum=MAX_MESSAGE_CHARS)}}


@tool(requires_auth=Microsoft(scopes=[CHAT_READBASIC]), title="List Teams chats", hints=READS)
async def list_chats(
    context: ToolContext,
    max_results: Annotated[int, "How many chats to return at most, 1 to 50."] = 20,
) -> dict[str, Any]:
    """List the user's Microsoft Teams chats (one-on-one, group and meeting chats), most recently active first.

    Returns `chats`, each with `id` (for GetChatMessages and SendChatMessage), topic, type (oneOnOne, group or
    meeting), members (display names), last_message (from, created in ISO 8601 with time zone, and the start
    of its text) and web_url.
    """
    max_results = whole_number(max_results, name="max_results", maximum=MAX_ITEMS)
    return await client.GraphAPI(context).listing(
        "/me/chats",
        what="the user's Teams chats",
        limit=max_results,
        params={
            "$expand": "members,lastMessagePreview",
            "$orderby": "lastMessagePreview/createdDateTime desc",
        },
        key="chats",
        shape=_shape_chat,
    )


def _shape_chat(chat: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": chat.get("id"),
        "topic": chat.get("topic"),
        "type": chat.get("chatType"),
        "members": [str(m.get("displayName") or "") for m in chat.get("members") or [] if isinstance(m, dict)],
        "last_message": _preview(chat.get("lastMessagePreview")),
        "web_url": chat.get("webUrl"),
    }


@tool(requires_auth=Microsoft(scopes=[TEAM_READBASIC]), title="List my Teams teams", hints=READS)
async def list_teams(context: ToolContext) -> dict[str, Any]:
    """List the Microsoft Teams teams the user is a member of.

    Returns `teams`, each with `id` (for ListChannels), name, description and is_archived.
    """
    return await client.GraphAPI(context).listing(
        "/me/joinedTeams", what="the user's teams", limit=200, key="teams", shape=_shape_team, top=False
    )


def _shape_team(team: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": team.get("id"),
        "name": team.get("displayName") or "",
        "description": team.get("description") or "",
        "is_archived": bool(team.get("isArchived")),
    }


@tool(requires_auth=Microsoft(scopes=[CHANNEL_READBASIC]), title="List Teams channels", hints=READS)
async def list_channels(
    context: ToolContext,
    team_id: TeamId,
) -> dict[str, Any]:
    """List the channels of a Microsoft Teams team the user belongs to.

    Returns `team_id` and `channels`, each with `id` (for GetChannelMessages and SendChannelMessage), name,
    description, membership (standard, private or shared) and web_url.
    """
    team_id = client.check_id(team_id, "team_id", "ListTeams")
    return await client.GraphAPI(context).listing(
        f"/teams/{team_id}/channels",
        what=f"the channels of the team {team_id}",
        limit=200,
        top=False,
        key="channels",
        shape=_shape_channel,
        about={"team_id": team_id},
    )


def _shape_channel(channel: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": channel.get("id"),
        "name": channel.get("displayName") or "",
        "description": channel.get("description") or "",
        "membership": channel.get("membershipType"),
        "web_url": channel.get("webUrl"),
    }


@tool(requires_auth=Microsoft(scopes=[CHAT_READ]), title="Read Teams chat messages", hints=READS)
async def get_chat_messages(
    context: ToolContext,
    chat_id: Annotated[str, "The id of the chat, as ListChats returned it, e.g. '19:2da4c29f...@thread.v2'."],
    max_results: LatestMessages = 20,
) -> dict[str, Any]:
    """Read the latest messages of one of the user's Microsoft Teams chats, newest first, as plain text.

    Returns `chat_id` and `messages`, each with `id`, from (display name), created (ISO 8601 with time zone),
    type (message, or a system event), text (cut after a few thousand characters; `text_truncated` says so) and
    web_url; and `truncated` when older messages were left out.
    """
    chat_id = client.check_id(chat_id, "chat_id", "ListChats")
    what = f"the messages of the chat {chat_id}"
    newest_first = {"$orderby": "createdDateTime desc"}
    return await _messages(context, f"/chats/{chat_id}", what, {"chat_id": chat_id}, max_results, newest_first)


@tool(requires_auth=Microsoft(scopes=[CHANNEL_MESSAGE_READ]), title="Read Teams channel messages", hints=READS)
async def get_channel_messages(
    context: ToolContext,
    team_id: TeamId,
    channel_id: ChannelId,
    max_results: LatestMessages = 20,
) -> dict[str, Any]:
    """Read the latest top-level messages (not the replies) of a Microsoft Teams channel, as plain text.

    The ChannelMessage.Read.All permission this needs must be granted by an administrator of the user's
    organization. Returns `messages`, each with `id` (reply to it with SendChannelMessage), from, created (ISO
    8601 with time zone), type, subject, text and web_url; and `truncated` when older messages were left out.
    """
    team_id = client.check_id(team_id, "team_id", "ListTeams")
    channel_id = client.check_id(channel_id, "channel_id", "ListChannels")
    what = f"the messages of the channel {channel_id}"
    about = {"team_id": team_id, "channel_id": channel_id}
    return await _messages(context, f"/teams/{team_id}/channels/{channel_id}", what, about, max_results)


async def _messages(
    context: ToolContext,
    conversation: str,
    what: str,
    about: dict[str, str],
    max_results: int,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The answer of a tool reading the latest messages of a chat or channel (the path `conversation`): `about`
    (its ids), then `messages`, their `count` and `truncated`."""
    max_results = whole_number(max_results, name="max_results", maximum=MAX_ITEMS)
    return await client.GraphAPI(context).listing(
        f"{conversation}/messages",
        what=what,
        limit=max_results,
        params=params,
        key="messages",
        shape=_shape_message,
        about=about,
    )


@tool(requires_auth=Microsoft(scopes=[CHAT_MESSAGE_SEND]), title="Send a Teams chat message", hints=ACTS)
async def send_chat_message(
    context: ToolContext,
    chat_id: Annotated[str, "The id of the chat, as ListChats returned it."],
    text: MessageText,
) -> dict[str, Any]:
    """Send a plain-text message as the user to one of their Microsoft Teams chats. Everyone in the chat sees
    it at once.

    Returns the sent message: `id`, from, created (ISO 8601 with time zone), text and web_url.
    """
    chat_id = client.check_id(chat_id, "chat_id", "ListChats")
    body = _check_text(text)
    sent = await client.GraphAPI(context).request(
        "POST", f"/chats/{chat_id}/messages", what=f"the chat {chat_id}", json=body
    )
    return _shape_message(sent)


@tool(requires_auth=Microsoft(scopes=[CHANNEL_MESSAGE_SEND]), title="Send a Teams channel message", hints=ACTS)
async def send_channel_message(
    context: ToolContext,
    team_id: TeamId,
    channel_id: ChannelId,
    text: MessageText,
    reply_to_message_id: Annotated[
        str | None, "To reply in a thread: the id of the channel message, as GetChannelMessages returned it."
    ] = None,
) -> dict[str, Any]:
    """Post a plain-text message as the user in a Microsoft Teams channel, as a new post or as a reply in a
    thread. Everyone in the channel can see it at once.

    Returns the sent message: `id`, reply_to_id, from, created (ISO 8601 with time zone), text and web_url.
    """
    team_id = client.check_id(team_id, "team_id", "ListTeams")
    channel_id = client.check_id(channel_id, "channel_id", "ListChannels")
    path = f"/teams/{team_id}/channels/{channel_id}/messages"
    if reply_to_message_id is not None and reply_to_message_id.strip():
        message_id = client.check_id(reply_to_message_id, "reply_to_message_id", "GetChannelMessages")
        path = f"{path}/{message_id}/replies"
    body = _check_text(text)
    sent = await client.GraphAPI(context).request("POST", path, what=f"the channel {channel_id}", json=body)
    return _shape_message(sent)
