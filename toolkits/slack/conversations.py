"""The Slack tools about conversations themselves: list them, describe one, list its members, invite people."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import READS, SETS, ToolContext, ToolExecutionError, tool, whole_number
from mcp_server.auth import Slack
from toolkits.slack.client import SlackAPI
from toolkits.slack.inputs import (
    RESOLVE_NAMES,
    ChannelName,
    ConversationId,
    Cursor,
    channel_id,
    checked_target,
    page_cursor,
    user_id,
)
from toolkits.slack.shaping import shape_conversation

CONVERSATION_TYPES = ("public_channel", "private_channel", "mpim", "im")
READ_CONVERSATIONS = ["channels:read", "groups:read", "im:read", "mpim:read"]
# conversations.invite with a user token: https://docs.slack.dev/reference/methods/conversations.invite
INVITE_SCOPES = ["channels:write.invites", "groups:write.invites"]
MAX_MEMBERS_PAGE = 200  # Slack recommends no more than 200 per page (https://docs.slack.dev/apis/web-api/pagination)
MAX_INVITEES = 100  # conversations.invite: "Up to 100 users may be listed" (the method's argument description)


@tool(requires_auth=Slack(scopes=READ_CONVERSATIONS), title="List Slack conversations", hints=READS)
async def list_conversations(
    context: ToolContext,
    types: Annotated[
        list[str] | None,
        "Kinds of conversation to list, any of 'public_channel', 'private_channel', 'mpim' (group direct "
        "messages), 'im' (direct messages). Default: all four.",
    ] = None,
) -> dict[str, Any]:
    """List the Slack conversations the user can see: channels, private channels, group and direct messages.

    Use it to find a conversation_id for Slack_GetMessages or Slack_SendMessage. Returns each conversation's id,
    type, name (channels), user (the other person of a direct message), membership, topic and purpose; archived
    channels are left out. `truncated` is true when more existed than were fetched.
    """
    wanted = list(dict.fromkeys(t.strip() for t in (types or CONVERSATION_TYPES)))
    unknown = [t for t in wanted if t not in CONVERSATION_TYPES]
    if unknown or not wanted:
        raise ToolExecutionError(
            f"Unknown conversation type(s) {unknown or wanted}; use any of {', '.join(CONVERSATION_TYPES)}."
        )
    raw, truncated = await SlackAPI(context).paginate(
        "conversations.list",
        "channels",
        what="the list of conversations",
        params={"types": ",".join(wanted), "exclude_archived": "true"},
    )
    conversations = [shape_conversation(c) for c in raw]
    return {"conversations": conversations, "count": len(conversations), "truncated": truncated}


@tool(requires_auth=Slack(scopes=READ_CONVERSATIONS), title="Get a Slack conversation's details", hints=READS)
async def get_conversation_info(
    context: ToolContext, conversation_id: ConversationId = None, channel_name: ChannelName = None
) -> dict[str, Any]:
    """Describe one Slack conversation: its id, type, name, topic, purpose, member count, whether the user is a
    member, whether it is archived, and when it was created (ISO 8601 UTC).

    Give conversation_id (any kind, including direct messages) or channel_name.
    """
    target = checked_target(conversation_id, channel_name)
    channel = await channel_id(context, target)
    body = await SlackAPI(context).call(
        "conversations.info",
        what=f"the conversation {channel}",
        params={"channel": channel, "include_num_members": "true"},
    )
    return shape_conversation(dict(body.get("channel") or {}))


@tool(requires_auth=Slack(scopes=READ_CONVERSATIONS), title="List a Slack conversation's members", hints=READS)
async def get_conversation_members(
    context: ToolContext,
    conversation_id: ConversationId = None,
    channel_name: ChannelName = None,
    limit: Annotated[int, f"How many member ids at most in this page (1-{MAX_MEMBERS_PAGE})."] = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """List the members of a Slack conversation, one page at a time, as user ids.

    Give conversation_id or channel_name. Returns member_ids (look people up with Slack_GetUserInfo) and count;
    when has_more is true, pass next_cursor back as cursor for the next page.
    """
    target = checked_target(conversation_id, channel_name)
    count = whole_number(limit, name="limit", maximum=MAX_MEMBERS_PAGE)
    after = page_cursor(cursor)
    channel = await channel_id(context, target)
    body = await SlackAPI(context).call(
        "conversations.members",
        what=f"the members of {channel}",
        params={"channel": channel, "limit": count, "cursor": after},
    )
    members = [m for m in body.get("members") or [] if isinstance(m, str)]
    next_cursor = ((body.get("response_metadata") or {}).get("next_cursor") or "").strip() or None
    result: dict[str, Any] = {
        "conversation_id": channel,
        "member_ids": members,
        "count": len(members),
        "has_more": next_cursor is not None,
    }
    if next_cursor:
        result["next_cursor"] = next_cursor
    return result


@tool(
    requires_auth=Slack(scopes=[*INVITE_SCOPES, *RESOLVE_NAMES]), title="Invite people to a Slack channel", hints=SETS
)
async def invite_to_channel(
    context: ToolContext,
    user_ids: Annotated[list[str], "Ids of the people to invite, e.g. ['U012AB3CD'] (from Slack_ListUsers)."],
    conversation_id: Annotated[str | None, "Id of the public or private channel, e.g. 'C012AB3CD'."] = None,
    channel_name: ChannelName = None,
) -> dict[str, Any]:
    """Invite one or more people to a public or private Slack channel the user is in.

    Give conversation_id or channel_name, and the user ids to invite (at most 100). Returns the channel
    (id, name, type, member count) and the invited ids. Inviting someone already in the channel fails with the
    error code already_in_channel.
    """
    if not isinstance(user_ids, list) or not user_ids:
        raise ToolExecutionError("user_ids is required: give a list of Slack user ids such as ['U012AB3CD'].")
    invitees = list(dict.fromkeys(user_id(str(u)) for u in user_ids))
    if len(invitees) > MAX_INVITEES:
        raise ToolExecutionError(f"At most {MAX_INVITEES} people can be invited at once; got {len(invitees)}.")
    target = checked_target(conversation_id, channel_name)
    if target[1].startswith("D"):
        raise ToolExecutionError(
            f"{target[1]} is a direct message; invite people to a channel (an id starting C or G)."
        )
    channel = await channel_id(context, target)
    body = await SlackAPI(context).call(
        "conversations.invite",
        what=f"the invitation to {channel}",
        json={"channel": channel, "users": ",".join(invitees)},
    )
    return {"channel": shape_conversation(dict(body.get("channel") or {"id": channel})), "invited": invitees}
