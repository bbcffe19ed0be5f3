"""The vault's records as the rest of authmcp sees them: decrypted, frozen, never printing a token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Connection", "PendingRevocation"]

MAX_LEEWAY_SECONDS = 60.0  # refresh a token at most this long before it expires (clock skew, time in flight)
LEEWAY_FRACTION = 0.1  # ... and at most this part of its lifetime: a 4 s token is good for 3.6 s


@dataclass(frozen=True)
class Connection:
    """A user's authorization at one provider, decrypted."""

    user_id: str
    provider_id: str
    status: str
    scopes: tuple[str, ...]
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    token_type: str
    expires_at: float | None
    user_info: dict[str, Any]
    version: int
    updated_at: float
    token_extras: dict[str, str] = field(default_factory=dict)  # e.g. Salesforce's instance_url

    def is_stale(self, now: float) -> bool:
        """Past expiry, or within the leeway of it: `min(60 s, a tenth of the token's lifetime)`, so a short-lived
        token is not refreshed on every call. The lifetime counts from when the token was stored."""
        if self.expires_at is None:
            return False
        leeway = min(MAX_LEEWAY_SECONDS, LEEWAY_FRACTION * max(0.0, self.expires_at - self.updated_at))
        return self.expires_at - leeway <= now

    def covers(self, scopes: Sequence[str]) -> bool:
        return set(scopes) <= set(self.scopes)


@dataclass(frozen=True)
class PendingRevocation:
    """A token to revoke at its provider, kept until the provider confirms."""

    id: str
    user_id: str
    provider_id: str
    token: str = field(repr=False)
    token_type_hint: str
    attempts: int
