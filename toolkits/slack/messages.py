"""The Slack tools that read and write messages: send, reply in a thread, read a conversation, read a thread.

Reading follows Slack's 2025 limits for apps not in the Slack Marketplace (changelog 2025-05-29,
https://docs.slack.dev/changelog/2025/05/29/rate-limit-changes-for-non-marketplace-apps): `conversations.history`
and `conversations.replies` allow 1 request per minute with `limit` at most 15. So each call asks for one page of
at most 15 and hands back `next_cursor` for the model to ask for the next page later, rather than following it
at once into a 429; a 429 is a retryable error carrying Retry-After.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ACTS, READS, ToolContext, ToolExecutionError, email_address, tool, whole_number
from mcp_server.auth import Slack
from toolkits.slack.client import SlackAPI, ts_to_iso
from toolkits.slack.inputs import (
    RESOLVE_NAMES,
    ChannelName,
    ConversationId,
    Cursor,
    channel_id,
    checked_target,
    lookup_email,
    message_ts,
    one_of,
    page_cursor,
    time_window,
)
from toolkits.slack.inputs import channel_name as checked_channel_name
from toolkits.slack.inputs import conversation_id as checked_conversation_id
from toolkits.slack.shaping import plain_text, shape_message

#: At most this many messages per conversations.history / conversations.replies request (see above).
HISTORY_LIMIT = 15
#: Slack truncates longer message text (https://docs.slack.dev/reference/methods/chat.postMessage, "text").
MAX_TEXT = 40_000

READ_HISTORY = ["channels:history", "groups:history", "im:history", "mpim:history"]


#: Parameters several of these tools take alike.
ThreadTs = Annotated[str, "The ts of the thread's first message, e.g. '1512085950.000216' (from GetMessages)."]


def _text(message: str) -> str:
    if not isinstance(message, str) or not message.strip():
        raise ToolExecutionError("The message is empty; give the text to send.")
    if len(message) > MAX_TEXT:
        raise ToolExecutionError(f"The message is {len(message)} characters; Slack takes at most {MAX_TEXT}.")
    return message


async def _post(context: ToolContext, body: dict[str, Any]) -> dict[str, Any]:
    channel = body["channel"]
    sent = await SlackAPI(context).call("chat.postMessage", what=f"the message to {channel}", json=body)
    posted = sent.get("message") or {}
    result = {
        "conversation_id": sent.get("channel", channel),
        "ts": sent.get("ts"),
        "time": ts_to_iso(sent.get("ts")),
        "text": plain_text(posted.get("text", body["text"])),
    }
    if body.get("thread_ts"):
        result["thread_ts"] = body["thread_ts"]
    return result


async def _page(context: ToolContext, method: str, params: dict[str, Any], *, what: str) -> dict[str, Any]:
    """One page of messages, shaped, with `next_cursor` when more remain (never followed here)."""
    body = await SlackAPI(context).call(method, what=what, params=params)
    messages = [shape_message(m) for m in body.get("messages") or [] if isinstance(m, dict)]
    next_cursor = ((body.get("response_metadata") or {}).get("next_cursor") or "").strip() or None
    page: dict[str, Any] = {
        "messages": messages,
        "count": len(messages),
        "has_more": bool(body.get("has_more")) or next_cursor is not None,
    }
    if next_cursor:
        page["next_cursor"] = next_cursor
    return page


@tool(
    requires_auth=Slack(scopes=["chat:write", *RESOLVE_NAMES, "im:write", "users:read", "users:read.email"]),
    title="Send a Slack message",
    hints=ACTS,
)
async def send_message(
    context: ToolContext,
    message: Annotated[str, "The text to send (Slack markup such as *bold* and <@U123> mentions works)."],
    channel_name: Annotated[str | None, "Name of a channel to post in, e.g. 'general' or '#general'."] = None,
    conversation_id: Annotated[
        str | None, "Id of a channel or conversation to post in, e.g. 'C012AB3CD' (from Slack_ListConversations)."
    ] = None,
    user_email: Annotated[str | None, "Email of a workspace member to send a direct message to."] = None,
) -> dict[str, Any]:
    """Send a message as the user to a Slack channel, conversation, or person (direct message).

    Give exactly one target: channel_name, conversation_id, or user_email (which opens a direct message with
    that person). To answer inside a thread use Slack_ReplyInThread. Returns the conversation_id the message
    landed in, its ts (the message id, usable as a thread_ts), its time in ISO 8601 UTC and its text.
    """
    text = _text(message)
    target, value = one_of(channel_name=channel_name, conversation_id=conversation_id, user_email=user_email)
    if target == "user_email":
        email = email_address(value, name="user email")
        user = await lookup_email(context, email)
        opened = await SlackAPI(context).call(
            "conversations.open", what=f"the direct message with {email}", json={"users": user.get("id")}
        )
        channel = str((opened.get("channel") or {}).get("id"))
    elif target == "conversation_id":
        channel = checked_conversation_id(value)
    else:
        channel = await channel_id(context, (target, checked_channel_name(value)))
    return await _post(context, {"channel": channel, "text": text})


@tool(requires_auth=Slack(scopes=["chat:write", *RESOLVE_NAMES]), title="Reply in a Slack thread", hints=ACTS)
async def reply_in_thread(
    context: ToolContext,
    thread_ts: ThreadTs,
    message: Annotated[str, "The text of the reply (Slack markup works)."],
    conversation_id: ConversationId = None,
    channel_name: ChannelName = None,
    also_send_to_channel: Annotated[bool, "Also show the reply in the channel itself, not only in the thread."] = False,
) -> dict[str, Any]:
    """Reply as the user in a Slack thread: under the message whose ts is thread_ts, in the given conversation.

    Give conversation_id or channel_name and the parent message's ts. Returns conversation_id, the reply's ts,
    thread_ts, its time in ISO 8601 UTC and its text.
    """
    parent = message_ts(thread_ts, "thread_ts")
    text = _text(message)
    if not isinstance(also_send_to_channel, bool):
        raise ToolExecutionError("also_send_to_channel must be true or false.")
    channel = await channel_id(context, checked_target(conversation_id, channel_name))
    body: dict[str, Any] = {"channel": channel, "text": text, "thread_ts": parent}
    if also_send_to_channel:
        body["reply_broadcast"] = True
    return await _post(context, body)


@tool(requires_auth=Slack(scopes=[*READ_HISTORY, *RESOLVE_NAMES]), title="Read Slack messages", hints=READS)
async def get_messages(
    context: ToolContext,
    conversation_id: ConversationId = None,
    channel_name: ChannelName = None,
    limit: Annotated[int, f"How many messages at most (1-{HISTORY_LIMIT}), newest first."] = HISTORY_LIMIT,
    oldest: Annotated[str | None, "Only messages after this time, ISO 8601, e.g. '2024-05-01T00:00:00Z'."] = None,
    latest: Annotated[str | None, "Only messages before this time, ISO 8601, e.g. '2024-05-02'."] = None,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Read one page of the most recent messages of a Slack channel, private channel or direct message.

    Give conversation_id or channel_name; optionally a time window (oldest, latest in ISO 8601; without a zone
    they are read as UTC). Returns up to 15 messages newest first, each with ts (its id; a thread_ts for
    Slack_GetThreadReplies and Slack_ReplyInThread), user (a user id, see Slack_GetUserInfo), text as plain text,
    time in ISO 8601 UTC, thread_ts and reply_count for threads. When has_more is true, next_cursor is given:
    pass it back as cursor for older messages. Slack allows about one such request per minute for most apps; a
    rate-limit error says how long to wait.
    """
    target = checked_target(conversation_id, channel_name)
    count = whole_number(limit, name="limit", maximum=HISTORY_LIMIT)
    oldest_ts, latest_ts = time_window(oldest, latest)
    after = page_cursor(cursor)
    channel = await channel_id(context, target)
    params = {"channel": channel, "limit": count, "oldest": oldest_ts, "latest": latest_ts, "cursor": after}
    page = await _page(context, "conversations.history", params, what=f"the messages of {channel}")
    return {"conversation_id": channel, **page}


@tool(requires_auth=Slack(scopes=[*READ_HISTORY, *RESOLVE_NAMES]), title="Read a Slack thread", hints=READS)
async def get_thread_replies(
    context: ToolContext,
    thread_ts: ThreadTs,
    conversation_id: ConversationId = None,
    channel_name: ChannelName = None,
    limit: Annotated[int, f"How many messages at most (1-{HISTORY_LIMIT}), oldest first."] = HISTORY_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Read one page of a Slack thread: its first message and the replies under it, oldest first.

    Give conversation_id or channel_name and the thread's ts (a message's ts or thread_ts from
    Slack_GetMessages). Returns up to 15 messages (ts, user, text as plain text, time in ISO 8601 UTC); when
    has_more is true, pass next_cursor back as cursor for the next page. Slack allows about one such request
    per minute for most apps; a rate-limit error says how long to wait.
    """
    parent = message_ts(thread_ts, "thread_ts")
    target = checked_target(conversation_id, channel_name)
    count = whole_number(limit, name="limit", maximum=HISTORY_LIMIT)
    after = page_cursor(cursor)
    channel = await channel_id(context, target)
    params = {"channel": channel, "ts": parent, "limit": count, "cursor": after}
    page = await _page(context, "conversations.replies", params, what=f"the thread {parent} in {channel}")
    return {"conversation_id": channel, "thread_ts": parent, **page}
