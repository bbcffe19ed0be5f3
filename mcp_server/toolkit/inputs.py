"""Checking a tool's input before any request, with messages that say what would be right.

Shared by every toolkit so the same mistake gets the same answer whichever tool the model called.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp_server.errors import ToolExecutionError

__all__ = [
    "EmailBcc",
    "EmailBody",
    "EmailCc",
    "EmailDraftId",
    "EmailFromFilter",
    "EmailMatchCount",
    "EmailRecentCount",
    "EmailSubject",
    "EmailSubjectFilter",
    "date_time",
    "email_address",
    "email_addresses",
    "time_zone",
    "whole_number",
]

# name@domain.tld, with nothing that would split or quote an address in a header (spaces, commas, <>, quotes)
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+")

#: The parameters every tool that writes an email takes alike, described the same way in every toolkit.
EmailSubject = Annotated[str, "The subject line."]
EmailBody = Annotated[str, "The plain-text body."]
EmailCc = Annotated[list[str] | None, "Addresses to copy."]
EmailBcc = Annotated[list[str] | None, "Addresses to blind-copy."]
#: The parameters every mailbox's list, search and draft tools take alike.
EmailRecentCount = Annotated[int, "How many of the most recent emails to return, 1 to 50."]
EmailFromFilter = Annotated[str | None, "Only emails from this address or name."]
EmailSubjectFilter = Annotated[str | None, "Only emails whose subject contains these words."]
EmailMatchCount = Annotated[int, "How many matching emails to return at most, 1 to 50."]
EmailDraftId = Annotated[str, "The draft_id WriteDraftEmail returned."]


def email_address(value: object, *, name: str) -> str:
    """`value` stripped, if it looks like one email address (name@domain.tld).

    Raises:
        ToolExecutionError: It is empty, not a string, or not one address; the message names `name`.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ToolExecutionError(f"The {name} is empty; give an email address such as 'ana@example.com'.")
    if not _ADDRESS.fullmatch(text):
        raise ToolExecutionError(
            f"The {name} {value!r} is not an email address; give one address such as 'ana@example.com'."
        )
    return text


def email_addresses(values: Iterable[object] | None, *, name: str) -> list[str]:
    """Each address checked with `email_address`, duplicates (in any letter case) dropped, order kept.

    Raises:
        ToolExecutionError: `values` is not a list, or one of them is not an address.
    """
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ToolExecutionError(f"Give the {name}s as a list of email addresses, e.g. ['ana@example.com'].")
    kept: dict[str, str] = {}
    for value in values:
        address = email_address(value, name=name)
        kept.setdefault(address.lower(), address)
    return list(kept.values())


def whole_number(value: object, *, name: str, maximum: int, minimum: int = 1) -> int:
    """`value` if it is a whole number from `minimum` to `maximum` (True and False are not numbers).

    Raises:
        ToolExecutionError: It is not; the message names `name` and the range.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ToolExecutionError(f"{name} must be a whole number from {minimum} to {maximum}, not {value!r}.")
    return value


def time_zone(value: object, *, name: str = "timezone") -> ZoneInfo:
    """The IANA time zone `value` names ('Europe/Paris').

    Raises:
        ToolExecutionError: It names none; the message shows good names.
    """
    try:
        return ZoneInfo(str(value).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolExecutionError(
            f"{name} {value!r} is not an IANA time zone; use a name such as 'Europe/Paris' or 'America/New_York'."
        ) from None


def date_time(value: object, *, name: str, zone: str | None = None) -> datetime:
    """An aware datetime from ISO 8601 text: with its UTC offset ('2030-05-01T10:00:00+02:00', '...Z'), or
    local time in the IANA time zone `zone` when the text has no offset.

    Raises:
        ToolExecutionError: It is empty, not ISO 8601, or has no offset and no zone was given.
    """
    text = value.strip() if isinstance(value, str) else ""
    example = "e.g. '2030-05-01T10:00:00+02:00' or '2030-05-01T08:00:00Z'"
    if not text:
        raise ToolExecutionError(f"{name} is required: an ISO 8601 time with its UTC offset, {example}.")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ToolExecutionError(
            f"{name} {value!r} is not an ISO 8601 time; give one with its offset, {example}."
        ) from None
    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        return parsed
    if zone is None or not zone.strip():
        raise ToolExecutionError(f"{name} {value!r} has no UTC offset; add one, {example}, or give a timezone.")
    return parsed.replace(tzinfo=time_zone(zone))
