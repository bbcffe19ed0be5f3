"""The records of the flows table, a kind each: a connection consent (`ConsentFlow`), a secret entry
(`SecretFlow`), an approval (`ApprovalFlow`), over what every flow has (`Flow`). `flow_record` reads a row as its
kind; flow_store.py writes and updates the rows."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["OPEN_STATUSES", "ApprovalFlow", "ConsentFlow", "Flow", "SecretFlow", "audited_as", "flow_record"]

# awaiting_browser: custom verification confirmed the user; the consenting browser has yet to come back
OPEN_STATUSES = ("pending", "exchanging", "awaiting_verification", "awaiting_browser")


@dataclass(frozen=True, kw_only=True)
class Flow:
    """One flow from its link to its end: what every kind has. A record is one of the kinds below, each with
    its own fields, mapped from and to the same row of the flows table (`flow_record`)."""

    kind: ClassVar[str]
    id: str
    user_id: str
    status: str
    created_at: float
    expires_at: float
    error: str | None = None
    browser_hash: str | None = field(default=None, repr=False)
    # the PKCE verifier of the redirect under way: to the provider (a consent), or to sign in (verification)
    code_verifier: str | None = field(default=None, repr=False)

    def is_expired(self, now: float) -> bool:
        return self.expires_at <= now

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES and not self.is_expired(time.time())


@dataclass(frozen=True, kw_only=True)
class ConsentFlow(Flow):
    """A connection consent: the user authorizes `scopes` at a provider (the OAuth authorization code flow)."""

    kind: ClassVar[str] = "oauth"
    provider_id: str
    scopes: tuple[str, ...]
    tool: str | None = None  # the tool that asked for it, shown on the pages


@dataclass(frozen=True, kw_only=True)
class SecretFlow(Flow):
    """A secret entry: the user types the value of the secret `name` on a page of ours."""

    kind: ClassVar[str] = "secret"
    name: str
    tool: str | None = None  # the tool that asked for it, shown on the pages


@dataclass(frozen=True, kw_only=True)
class ApprovalFlow(Flow):
    """An approval: the user says yes or no to one call of `tool` (its API name), the call known by `digest`."""

    kind: ClassVar[str] = "approval"
    tool: str
    digest: str


def audited_as(flow: Flow) -> str | None:
    """What a flow's rows in the audit trail name as `provider_id`: a consent's provider, a secret's name."""
    if isinstance(flow, ConsentFlow):
        return flow.provider_id
    return flow.name if isinstance(flow, SecretFlow) else None


def flow_record(row: Mapping[str, Any], *, code_verifier: str | None = None) -> Flow:
    """The record of a flows row, of its kind: the `provider_id` column holds a consent's provider, a secret's
    name or an approval's tool; `scopes` a consent's scopes or an approval's digest."""
    common: dict[str, Any] = {
        "id": row["id"],
        "user_id": row["user_id"],
        "status": row["status"],
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "error": row.get("error"),
        "browser_hash": row.get("browser_hash"),
        "code_verifier": code_verifier,
    }
    if row["kind"] == SecretFlow.kind:
        return SecretFlow(**common, name=row["provider_id"], tool=row.get("tool"))
    if row["kind"] == ApprovalFlow.kind:
        return ApprovalFlow(**common, tool=row["provider_id"], digest=row["scopes"])
    return ConsentFlow(  # "oauth"
        **common,
        provider_id=row["provider_id"],
        scopes=tuple(row["scopes"].split()),
        tool=row.get("tool"),
    )
