"""Shaping a provider's answer into a tool's result: the same small steps in every toolkit, written once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["iso_datetime", "pick"]


def iso_datetime(value: object, *, whole_seconds: bool = False) -> str | None:
    """A time as a service sends it (RFC 3339 / ISO 8601: '2024-05-01T09:30:00.000Z', '...+0000') as ISO 8601
    with an explicit offset ('2024-05-01T09:30:00+00:00'); without the fraction of a second when `whole_seconds`.

    None for a value that is not a string or is empty; text that is not a time comes back as it is.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (parsed.replace(microsecond=0) if whole_seconds else parsed).isoformat()


def pick(data: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The fields `keys` of `data` as they are, in that order; None for one `data` lacks."""
    return {key: data.get(key) for key in keys}
