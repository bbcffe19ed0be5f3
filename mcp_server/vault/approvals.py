"""Approvals asked on a page of ours (for clients that cannot show a form), kept as flows of kind "approval".

Read as an `ApprovalFlow` (flow_store.py): its `tool` (the tool's API name, the row's `provider_id`) and its
`digest` (the call's, see mcp_server/calls/approval.py; the row's `scopes`). The readable description of the
call, which holds argument values, is stored encrypted like any flow secret.
pending -> completed (approved) -> used (the call ran, once) | failed (declined or expired; a decline's error
changes once the app has been told, see `take_decline`). With user
verification a yes goes pending -> awaiting_verification (the description held as `{"description": ...}` with
the confirmation, see verification.py) -> exchanging -> completed once the person is shown to be the user.

A yes answered in the client's form (2026-07-28) leaves a row only once it is used: inserted as
"used", its id a digest of the question's nonce, kept (like any flow, see `purge_flows`) until the question has
expired, so a second use of the same answer, on any replica, collides with it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.exc import IntegrityError

from mcp_server.vault.flow_records import ApprovalFlow
from mcp_server.vault.outages import translated
from mcp_server.vault.schema import flows
from mcp_server.vault.sealing import flow_context
from mcp_server.vault.store import Vault

__all__ = [
    "consume_approval",
    "create_approval",
    "decide_approval",
    "find_pending_approval",
    "read_description",
    "take_decline",
    "use_answer",
]

KIND = ApprovalFlow.kind
_DECLINED = "The person declined this call."


@translated
async def create_approval(
    vault: Vault, flow_id: str, user_id: str, tool: str, digest: str, description: str, *, ttl: float
) -> ApprovalFlow:
    flow = await vault.create_flow(flow_id, user_id, tool, [digest], ttl=ttl, kind=KIND)
    assert isinstance(flow, ApprovalFlow)
    sealed = vault.keyring.encrypt(description, flow_context(flow_id, "held_tokens"))
    async with vault.engine.begin() as conn:
        await conn.execute(
            update(flows).where(flows.c.id == flow_id).values(held_tokens=sealed, key_id=vault.keyring.primary_key_id)
        )
    return flow


@translated
async def find_pending_approval(vault: Vault, user_id: str, tool: str, digest: str) -> ApprovalFlow | None:
    """The unanswered approval of this call that no browser has opened yet, to hand out again (like a consent link:
    once opened, a call made again gets a new link, so nobody is stuck with one opened elsewhere)."""
    flow = await vault.find_pending_flow(user_id, tool, [digest], kind=KIND)
    assert flow is None or isinstance(flow, ApprovalFlow)
    return flow


@translated
async def read_description(vault: Vault, flow_id: str) -> str | None:
    async with vault.engine.execution_options(authmcp_read_only=True).connect() as conn:
        row = (
            await conn.execute(
                select(flows.c.held_tokens, flows.c.status).where(flows.c.id == flow_id, flows.c.kind == KIND)
            )
        ).first()
    if row is None or not row.held_tokens:
        return None
    text = vault.keyring.decrypt(row.held_tokens, flow_context(flow_id, "held_tokens"))
    return text if row.status in ("pending", "completed") else str(json.loads(text).get("description", ""))


@translated
async def decide_approval(
    vault: Vault, flow_id: str, *, approve: bool, from_statuses: Sequence[str] = ("pending",)
) -> ApprovalFlow | None:
    """Record the person's answer, once, while the approval is in one of `from_statuses` and unexpired."""
    now = time.time()
    values = (
        {"status": "completed", "completed_at": now}
        if approve
        else {
            "status": "failed",
            "error": _DECLINED,
            "completed_at": now,
            "held_tokens": None,
        }
    )
    async with vault.engine.begin() as conn:
        result = await conn.execute(
            update(flows)
            .where(
                flows.c.id == flow_id,
                flows.c.kind == KIND,
                flows.c.status.in_(tuple(from_statuses)),
                flows.c.expires_at > now,
            )
            .values(**values)
        )
        if result.rowcount != 1:
            return None
        await vault.notices.announce(conn, flow_id)
    flow = await vault.get_flow(flow_id)
    assert flow is None or isinstance(flow, ApprovalFlow)
    return flow


def _this_call(user_id: str, tool: str, digest: str, status: str, now: float) -> tuple[ColumnElement[bool], ...]:
    """The unexpired approvals of exactly this call (user, tool, digest of the arguments) in `status`."""
    return (
        flows.c.kind == KIND,
        flows.c.user_id == user_id,
        flows.c.provider_id == tool,
        flows.c.scopes == digest,
        flows.c.status == status,
        flows.c.expires_at > now,
    )


@translated
async def consume_approval(vault: Vault, user_id: str, tool: str, digest: str) -> bool:
    """Use an approved, unexpired approval of exactly this call, once. Returns whether there was one."""
    now = time.time()
    async with vault.engine.begin() as conn:
        candidate = (
            await conn.execute(select(flows.c.id).where(*_this_call(user_id, tool, digest, "completed", now)).limit(1))
        ).scalar_one_or_none()
        if candidate is None:
            return False
        result = await conn.execute(
            update(flows)
            .where(flows.c.id == candidate, flows.c.status == "completed")
            .values(status="used", held_tokens=None)
        )
    return result.rowcount == 1


@translated
async def use_answer(vault: Vault, nonce: str, user_id: str, tool: str, digest: str, *, expires_at: float) -> bool:
    """Take the answer to the form question `nonce` (about this call), once. Returns False if it was taken before.

    The row is left without `completed_at`, so purging keeps it until `expires_at` has passed: until then a second
    use would otherwise go unnoticed (past it, the question itself is refused as expired).
    """
    row_id = hashlib.sha256(b"approval answer:" + nonce.encode()).hexdigest()  # never a link anyone was given
    try:
        async with vault.engine.begin() as conn:
            await conn.execute(
                insert(flows).values(
                    id=row_id,
                    kind=KIND,
                    user_id=user_id,
                    provider_id=tool,
                    scopes=digest,
                    status="used",
                    created_at=time.time(),
                    expires_at=expires_at,
                )
            )
    except IntegrityError:  # the primary key is taken: this answer was used already, here or on another replica
        return False
    return True


_DECLINED_TOLD = "The person declined this call; the app was told."


@translated
async def take_decline(vault: Vault, user_id: str, tool: str, digest: str) -> bool:
    """Whether the person declined exactly this call on the page and the app has not been told yet: it is told
    now, once (the row's error says so), and the same call made again is asked again."""
    now = time.time()
    async with vault.engine.begin() as conn:
        result = await conn.execute(
            update(flows)
            .where(*_this_call(user_id, tool, digest, "failed", now), flows.c.error == _DECLINED)
            .values(error=_DECLINED_TOLD)
        )
    return result.rowcount > 0
