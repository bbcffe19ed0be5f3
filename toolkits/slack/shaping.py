"""Slack objects shaped for a model: plain text for Slack markup, ISO 8601 times, ids kept for the next tool."""

from __future__ import annotations

import html
import re
from typing import Any

from mcp_server import pick
from toolkits.slack.client import ts_to_iso

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


def shape_message(raw: dict[str, Any]) -> dict[str, Any]:
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


def shape_conversation(raw: dict[str, Any]) -> dict[str, Any]:
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


def shape_user(raw: dict[str, Any]) -> dict[str, Any]:
    profile = raw.get("profile") or {}
    shaped: dict[str, Any] = {
        **pick(raw, "id", "name"),
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
