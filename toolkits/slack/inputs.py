"""Checking what the model gave before any request, and turning names into the ids Slack's methods take."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from mcp_server import ToolContext, ToolExecutionError
from toolkits.slack.client import SlackAPI

RESOLVE_NAMES = ["channels:read", "groups:read"]  # conversations.list, to turn a channel name into its id

ConversationId = Annotated[str | None, "Id of the conversation, e.g. 'C012AB3CD' (from Slack_ListConversations)."]
ChannelName = Annotated[str | None, "Name of a channel instead of an id, e.g. 'general'."]
Cursor = Annotated[
    str | None, "next_cursor from the previous call of this tool, for the next page; leave out at first."
]

_CONVERSATION_ID = re.compile(r"[CDG][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UWB][A-Z0-9]{2,}")
_CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_\-.]{0,79}")
_MESSAGE_TS = re.compile(r"\d{9,11}\.\d{6}")
_CURSOR = re.compile(r"[A-Za-z0-9+/=_\-:]{1,512}")


def one_of(**targets: str | None) -> tuple[str, str]:
    given = {name: value.strip() for name, value in targets.items() if value is not None and value.strip()}
    names = " or ".join(targets)
    if len(given) != 1:
        said = "none" if not given else " and ".join(given)
        raise ToolExecutionError(f"Give exactly one of {names} (got {said}).")
    return next(iter(given.items()))


def _matching(pattern: re.Pattern[str], value: object, complaint: str) -> str:
    """`value` stripped if it fully matches `pattern`; else a ToolExecutionError saying `complaint`."""
    text = value.strip() if isinstance(value, str) else ""
    if not pattern.fullmatch(text):
        raise ToolExecutionError(complaint)
    return text


def channel_name(value: str) -> str:
    name = value.strip().lstrip("#") if isinstance(value, str) else ""
    return _matching(
        _CHANNEL_NAME,
        name.lower(),
        f"{value!r} is not a Slack channel name: use the name without spaces, e.g. 'general' or '#general'.",
    )


def conversation_id(value: str) -> str:
    return _matching(
        _CONVERSATION_ID,
        value,
        f"{value!r} is not a Slack conversation id: ids look like 'C012AB3CD' (channel), 'G…' (private) or 'D…' "
        f"(direct message). Use Slack_ListConversations to find one, or pass channel_name instead.",
    )


def user_id(value: str) -> str:
    return _matching(
        _USER_ID,
        value,
        f"{value!r} is not a Slack user id: ids look like 'U012AB3CD' or 'W012A3CDE'. Use Slack_ListUsers to "
        f"find one, or pass email instead.",
    )


def message_ts(value: str, name: str) -> str:
    """A message's ts ("1512085950.000216"), as Slack_GetMessages returns it."""
    return _matching(
        _MESSAGE_TS,
        value,
        f"{name}={value!r} is not a Slack message timestamp: give the message's ts exactly as Slack_GetMessages "
        f"returned it, e.g. '1512085950.000216'.",
    )


def page_cursor(value: str | None) -> str | None:
    """A `next_cursor` from an earlier answer, passed back unchanged; None for the first page."""
    if value is None or not value.strip():
        return None
    if not _CURSOR.fullmatch(value.strip()):
        raise ToolExecutionError(
            "cursor is not a Slack cursor: pass next_cursor exactly as the previous call returned it, or leave it "
            "out for the first page."
        )
    return value.strip()


def to_ts(value: str | None, name: str) -> str | None:
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


def time_window(oldest: str | None, latest: str | None) -> tuple[str | None, str | None]:
    oldest_ts, latest_ts = to_ts(oldest, "oldest"), to_ts(latest, "latest")
    if oldest_ts and latest_ts and float(oldest_ts) >= float(latest_ts):
        raise ToolExecutionError(f"oldest ({oldest}) must be before latest ({latest}).")
    return oldest_ts, latest_ts


def checked_target(conversation_id_: str | None, channel_name_: str | None) -> tuple[str, str]:
    """("conversation_id", id) or ("channel_name", name), both checked; resolve the name with `channel_id`."""
    target, value = one_of(conversation_id=conversation_id_, channel_name=channel_name_)
    return (target, conversation_id(value)) if target == "conversation_id" else (target, channel_name(value))


async def channel_id(context: ToolContext, target: tuple[str, str]) -> str:
    kind, value = target
    return value if kind == "conversation_id" else await resolve_channel_name(context, value)


async def resolve_channel_name(context: ToolContext, name: str) -> str:
    """The id of the public or private channel called `name`; a clear error with close matches otherwise."""
    channels, _ = await SlackAPI(context).paginate(
        "conversations.list",
        "channels",
        what="the list of channels",
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


async def lookup_email(context: ToolContext, email: str) -> dict[str, Any]:
    body = await SlackAPI(context).call(
        "users.lookupByEmail", what=f"the user with email {email}", params={"email": email}
    )
    return dict(body.get("user") or {})
