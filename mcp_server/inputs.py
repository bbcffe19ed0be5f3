"""Checking a tool's input before any request, with messages that say what would be right.

Shared by every toolkit so the same mistake gets the same answer whichever tool the model called.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mcp_server.errors import ToolExecutionError

__all__ = ["email_address", "email_addresses"]

# name@domain.tld, with nothing that would split or quote an address in a header (spaces, commas, <>, quotes)
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+")


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
