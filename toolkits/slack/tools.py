"""The Slack tools: send a message, list conversations, read messages, look up users, and who the user is."""

from __future__ import annotations

import difflib
import html
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from mcp_server import ToolContext, ToolExecutionError, email_address, tool
from mcp_server.auth import Slack
from toolkits.slack.client import MAX_PAGES, PAGE_SIZE, call, paginate, ts_to_iso

CONVERSATION_TYPES = ("public_channel", "private_channel", "mpim", "im")
_CONVERSATION_ID = re.compile(r"[CDG][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UWB][A-Z0-9]{2,}")
_CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_\-.]{0,79}")
MAX_MESSAGES = 200


# ---------------------------------------------------------------------------------------------- validation


def _one_of(**targets: str | None) -> tuple[str, str]:
    given = {name: value.strip() for name, value in targets.items() if value is not None and value.strip()}
    names = " or ".join(targets)
    if len(given) != 1:
        said = "none" if not given else " and ".join(given)
        raise ToolExecutionError(f"Give exactly one of {names} (got {said}).")
    return next(iter(given.items()))


def _channel_name(value: str) -> str:
    name = value.strip().lstrip("#").strip().lower()
    if not _CHANNEL_NAME.fullmatch(name):
        raise ToolExecutionError(
            f"{value!r} is not a Slack channel name: use the name without spaces, e.g. 'general' or '#general'."
        )
    return name


def _conversation_id(value: str) -> str:
    value = value.strip()
    if not _CONVERSATION_ID.fullmatch(value):
        raise ToolExecutionError(
            f"{value!r} is not a Slack conversation id: ids look like 'C012AB3CD' (channel), 'G…' (private) or "
            f"'D…' (direct message). Use Slack_ListConversations to find one, or pass channel_name instead."
        )
    return value




def _user_id(value: str) -> str:
    value = value.strip()
    if not _USER_ID.fullmatch(value):
        raise ToolExecutionError(
            f"{value!r} is not a Slack user id: ids look like 'U012AB3CD' or 'W012A3CDE'. "
            f"Use Slack_ListUsers to find one, or pass email instead."
        )
    return value


def _to_ts(value: str | None, name: str) -> str | None:
    """ISO 8601 (a date, or a date and time; no zone means UTC) as a Slack timestamp "seconds.micros"."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise ToolExecutionError(
            f"{name}={value!r} is not an ISO 8601 date or time; give e.g. '2024-05-01' or "
            f"'2024-05-01T09:30:00+02:00' (a time without a zone is read as UTC)."
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return f"{when.timestamp():.6f}"


# ---------------------------------------------------------------------------------------------- shaping

_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<([^>|]+)(?:\|([^>]*))?>")


def plain_text(text: str | None) -> str:
    """Slack's message markup as plain text: <@U1> -> @U1, <#C1|general> -> #general, <url|label> -> label (url)."""
    if not text:
        return ""

    def mention(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil == "!":
            return label if label and label.startswith("@") else f"@{label or target.split('^')[0]}"
        return f"{sigil}{label or target}"

    def link(match: re.Match[str]) -> str:
        url, label = match.groups()
        url = url.removeprefix("mailto:")
        return f"{label} ({url})" if label and label != url else url

    return html.unescape(_LINK.sub(link, _MENTION.sub(mention, text)))


def _message(raw: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "ts": raw.get("ts"),
        "user": raw.get("user") or raw.get("bot_id"),
        "text": plain_text(raw.get("text")),
        "time": ts_to_iso(raw.get("ts")),
    }
    if raw.get("thread_ts"):
        shaped["thread_ts"] = raw["thread_ts"]
    if raw.get("reply_count"):
        shaped["reply_count"] = raw["reply_count"]
    if raw.get("subtype"):
        shaped["subtype"] = raw["subtype"]
    return shaped


def _conversation_type(raw: dict[str, Any]) -> str:
    if raw.get("is_im"):
        return "im"
    if raw.get("is_mpim"):
        return "mpim"
    if raw.get("is_private") or raw.get("is_group"):
        return "private_channel"
    return "public_channel"


def _conversation(raw: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {"id": raw.get("id"), "type": _conversation_type(raw)}
    if raw.get("name"):
        shaped["name"] = raw["name"]
    if raw.get("user"):
        shaped["user"] = raw["user"]  # the other person of a direct message
    for key in ("is_member", "is_archived", "num_members"):
        if key in raw:
            shaped[key] = raw[key]
    for key in ("topic", "purpose"):
        value = (raw.get(key) or {}).get("value")
        if value:
            shaped[key] = plain_text(value)
    if raw.get("created"):
        shaped["created"] = ts_to_iso(raw["created"])
    return shaped


def _user(raw: dict[str, Any]) -> dict[str, Any]:
    profile = raw.get("profile") or {}
    shaped: dict[str, Any] = {
        "id": raw.get("id"),
        "name": raw.get("name"),
        "real_name": raw.get("real_name") or profile.get("real_name"),
        "display_name": profile.get("display_name") or None,
        "email": profile.get("email"),
        "title": profile.get("title") or None,
        "timezone": raw.get("tz"),
        "is_bot": bool(raw.get("is_bot")),
        "is_admin": bool(raw.get("is_admin")),
        "deleted": bool(raw.get("deleted")),
    }
    return {k: v for k, v in shaped.items() if v is not None}


# ---------------------------------------------------------------------------------------------- resolving


async def _resolve_channel_name(context: ToolContext, name: str) -> str:
    """The id of the public or private channel called `name`; a clear error with close matches otherwise."""
    channels, _ = await paginate(
        context, "conversations.list", "channels", what="the list of channels",
        params={"types": "public_channel,private_channel", "exclude_archived": "true"},
    )
    names: dict[str, str] = {}
    for channel in channels:
        for candidate in (channel.get("name"), channel.get("name_normalized")):
            if isinstance(candidate, str) and candidate:
                names.setdefault(candidate.lower(), str(channel.get("id")))
    if name in names:
        return names[name]
    close = difflib.get_close_matches(name, list(names), n=5, cutoff=0.6)
    hint = f" Close matches: {', '.join('#' + c for c in close)}." if close else ""
    raise ToolExecutionError(
        f"No channel named #{name} is visible to the user (archived channels are not searched).{hint} "
        f"Use Slack_ListConversations to see the channels, or pass conversation_id."
    )


async def _lookup_email(context: ToolContext, email: str) -> dict[str, Any]:
    body = await call(context, "users.lookupByEmail", what=f"the user with email {email}", params={"email": email})
    return dict(body.get("user") or {})


# ---------------------------------------------------------------------------------------------- tools


@tool(requires_auth=Slack(scopes=["chat:write", "channels:read", "groups:read", "im:write", "users:read",
                                  "users:read.email"]))
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
    that person). Returns the conversation_id the message landed in, its ts (the message id, usable as a
    thread_ts), its time in ISO 8601 UTC and its text.
    """
    if not message or not message.strip():
        raise ToolExecutionError("The message is empty; give the text to send.")
    target, value = _one_of(channel_name=channel_name, conversation_id=conversation_id, user_email=user_email)
    if target == "channel_name":
        channel = await _resolve_channel_name(context, _channel_name(value))
    elif target == "conversation_id":
        channel = _conversation_id(value)
    else:
        email = email_address(value, name="user email")
        user = await _lookup_email(context, email)
        opened = await call(
            context, "conversations.open", what=f"the direct message with {email}", json={"users": user.get("id")}
        )
        channel = str((opened.get("channel") or {}).get("id"))
    sent = await call(
        context, "chat.postMessage", what=f"the message to {channel}", json={"channel": channel, "text": message}
    )
    posted = sent.get("message") or {}
    return {
        "conversation_id": sent.get("channel", channel),
        "ts": sent.get("ts"),
        "time": ts_to_iso(sent.get("ts")),
        "text": plain_text(posted.get("text", message)),
    }


@tool(requires_auth=Slack(scopes=["channels:read", "groups:read", "im:read", "mpim:read"]))
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
    raw, truncated = await paginate(
        context, "conversations.list", "channels", what="the list of conversations",
        params={"types": ",".join(wanted), "exclude_archived": "true"},
    )
    conversations = [_conversation(c) for c in raw]
    return {"conversations": conversations, "count": len(conversations), "truncated": truncated}


@tool(requires_auth=Slack(scopes=["channels:history", "groups:history", "im:history", "mpim:history",
                                  "channels:read", "groups:read"]))
async def get_messages(
    context: ToolContext,
    conversation_id: Annotated[
        str | None, "Id of the conversation, e.g. 'C012AB3CD' (from Slack_ListConversations)."
    ] = None,
    channel_name: Annotated[str | None, "Name of a channel instead of an id, e.g. 'general'."] = None,
    limit: Annotated[int, "How many messages at most (1-200), newest first."] = 20,
    oldest: Annotated[str | None, "Only messages after this time, ISO 8601, e.g. '2024-05-01T00:00:00Z'."] = None,
    latest: Annotated[str | None, "Only messages before this time, ISO 8601, e.g. '2024-05-02'."] = None,
) -> dict[str, Any]:
    """Read the most recent messages of a Slack channel, private channel, or direct message conversation.

    Give conversation_id or channel_name; optionally a time window (oldest, latest in ISO 8601; without a zone
    they are read as UTC). Returns messages newest first, each with ts (its id), user (a user id, see
    Slack_GetUserInfo), text as plain text, time in ISO 8601 UTC and thread_ts when it belongs to a thread;
    `has_more` says whether older messages exist in the window.
    """
    target, value = _one_of(conversation_id=conversation_id, channel_name=channel_name)
    if not 1 <= limit <= MAX_MESSAGES:
        raise ToolExecutionError(f"limit={limit} is out of range; give a number from 1 to {MAX_MESSAGES}.")
    oldest_ts, latest_ts = _to_ts(oldest, "oldest"), _to_ts(latest, "latest")
    if oldest_ts and latest_ts and float(oldest_ts) >= float(latest_ts):
        raise ToolExecutionError(f"oldest ({oldest}) must be before latest ({latest}).")
    if target == "conversation_id":
        channel = _conversation_id(value)
    else:
        channel = await _resolve_channel_name(context, _channel_name(value))
    raw, has_more = await paginate(
        context, "conversations.history", "messages", what=f"the messages of {channel}",
        params={"channel": channel, "oldest": oldest_ts, "latest": latest_ts},
        max_items=limit, page_size=min(limit, PAGE_SIZE), max_pages=MAX_PAGES,
    )
    messages = [_message(m) for m in raw]
    return {"conversation_id": channel, "messages": messages, "count": len(messages), "has_more": has_more}


@tool(requires_auth=Slack(scopes=["users:read"]))
async def list_users(context: ToolContext) -> dict[str, Any]:
    """List the people (and bots) in the user's Slack workspace, leaving out deactivated accounts.

    Returns each member's id (for Slack_GetUserInfo or mentions as <@id>), name, real_name, display_name,
    timezone and whether it is a bot or an admin. `truncated` is true when the workspace had more members than
    were fetched.
    """
    raw, truncated = await paginate(context, "users.list", "members", what="the list of users",
                                    max_items=PAGE_SIZE * MAX_PAGES)
    users = [_user(u) for u in raw if not u.get("deleted")]
    return {"users": users, "count": len(users), "truncated": truncated}


@tool(requires_auth=Slack(scopes=["users:read", "users:read.email"]))
async def get_user_info(
    context: ToolContext,
    user_id: Annotated[str | None, "The Slack user id, e.g. 'U012AB3CD' (as seen in messages)."] = None,
    email: Annotated[str | None, "The person's email address, instead of user_id."] = None,
) -> dict[str, Any]:
    """Look up one Slack user by id or by email address.

    Give exactly one of user_id or email. Returns the user's id, name, real_name, display_name, email, title,
    timezone and whether the account is a bot, an admin or deactivated.
    """
    target, value = _one_of(user_id=user_id, email=email)
    if target == "user_id":
        uid = _user_id(value)
        body = await call(context, "users.info", what=f"the user {uid}", params={"user": uid})
        return _user(dict(body.get("user") or {}))
    return _user(await _lookup_email(context, email_address(value, name="email")))


@tool(requires_auth=Slack(scopes=["users:read"]))
async def who_am_i(context: ToolContext) -> dict[str, Any]:
    """Tell who the authorized Slack user is: their user id, names, and the workspace (team) they act in.

    Use it before acting "as me" in Slack. Returns user_id, name, real_name, display_name, email (when Slack
    shares it), timezone, team, team_id and the workspace url.
    """
    identity = await call(context, "auth.test", what="the user's identity", post=True)
    uid = str(identity.get("user_id") or "")
    body = await call(context, "users.info", what=f"the user {uid}", params={"user": uid})
    user = _user(dict(body.get("user") or {}))
    user.pop("id", None)
    return {
        "user_id": uid,
        **user,
        "team": identity.get("team"),
        "team_id": identity.get("team_id"),
        "url": identity.get("url"),
    }
