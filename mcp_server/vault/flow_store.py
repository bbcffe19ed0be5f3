"""The flows table: one consent, secret entry or approval from its link to its end, read as the record of its
kind (flow_records.py).

A flow is bound to the browser that first opened its link (`browser_hash`, the sha256 of a cookie only that
browser holds) and, when users are verified, to a verification secret of its own (`confirm_hash`): neither is
the flow id, which the link's creator knows. `Vault` inherits these methods; every one is one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from mcp_server.vault.connection_store import ConnectionStore
from mcp_server.vault.flow_records import OPEN_STATUSES, ConsentFlow, Flow, SecretFlow, flow_record
from mcp_server.vault.outages import translate_outages
from mcp_server.vault.schema import flows, user_secrets
from mcp_server.vault.sealing import flow_context, secret_context

if TYPE_CHECKING:
    from mcp_server.vault.records import Connection

__all__ = ["ORPHANED_FLOW_ERROR", "REPLACED", "FlowStore"]

REPLACED = "replaced by a newer link"  # the error of a flow failed because its user opened too many
ORPHANED_FLOW_ERROR = (
    "authmcp stopped while completing this authorization, so nothing was stored. Start again from your app."
)


@translate_outages
class FlowStore(ConnectionStore):  # on the connection store: a finished flow stores its connection with it
    async def create_flow(
        self,
        flow_id: str,
        user_id: str,
        provider_id: str,
        scopes: Sequence[str],
        *,
        ttl: float,
        kind: str = "oauth",
        tool: str | None = None,
    ) -> Flow:
        now = time.time()
        row = {
            "id": flow_id,
            "kind": kind,
            "user_id": user_id,
            "provider_id": provider_id,
            "scopes": " ".join(scopes),
            "status": "pending",
            "created_at": now,
            "expires_at": now + ttl,
            "tool": tool,
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(flows).values(**row))
        return flow_record(row)

    async def replace_oldest_flows(self, user_id: str, keep: int) -> list[str]:
        """Fail the user's oldest open flows beyond the newest `keep`; their links then say they were replaced."""
        query = (
            select(flows.c.id)
            .where(flows.c.user_id == user_id, flows.c.status.in_(OPEN_STATUSES), flows.c.expires_at > time.time())
            .order_by(flows.c.created_at.desc())
            .offset(keep)
        )
        return await self._fail_all(query, REPLACED)

    async def fail_open_flows(self, error: str) -> list[str]:
        """Fail every open flow, whoever's: their links lead where they must not any more. Returns their ids."""
        return await self._fail_all(select(flows.c.id).where(flows.c.status.in_(OPEN_STATUSES)), error)

    async def _fail_all(self, query: Any, error: str) -> list[str]:
        async with self.engine.begin() as conn:
            ids = list((await conn.execute(query)).scalars())
            for flow_id in ids:
                await self._fail(conn, flow_id, error)
        for flow_id in ids:
            await self.notices.committed(flow_id)
        return ids

    async def get_flow(self, flow_id: str) -> Flow | None:
        return await self._find(flows.c.id == flow_id)

    async def flow_by_state(self, state_hash: str) -> Flow | None:
        """The flow a callback's state belongs to, whatever its status (to answer a repeated callback)."""
        return await self._find(flows.c.state_hash == state_hash)

    async def find_flow_by_confirmation(self, confirm_hash: str, *, with_verifier: bool = False) -> Flow | None:
        return await self._find(flows.c.confirm_hash == confirm_hash, with_verifier=with_verifier)

    async def _find(self, where: Any, *, with_verifier: bool = False) -> Flow | None:
        async with self.reader.connect() as conn:
            row = (await conn.execute(select(flows).where(where))).mappings().first()
        return self._decode_flow(row, with_verifier=with_verifier) if row else None

    async def find_pending_flow(
        self, user_id: str, provider_id: str, scopes: Sequence[str], *, kind: str = "oauth"
    ) -> Flow | None:
        """An unexpired pending flow for exactly these scopes that no browser has opened yet, to hand out again."""
        query = (
            select(flows)
            .where(
                flows.c.kind == kind,
                flows.c.user_id == user_id,
                flows.c.provider_id == provider_id,
                flows.c.status == "pending",
                flows.c.browser_hash.is_(None),  # opened elsewhere: a new link, so nobody is stuck with it
                flows.c.scopes == " ".join(scopes),
                flows.c.expires_at > time.time() + 60,  # leave the user time to finish it
            )
            .order_by(flows.c.created_at.desc())
            .limit(1)
        )
        async with self.reader.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return self._decode_flow(row, with_verifier=False) if row else None

    async def bind_browser(self, flow_id: str, browser_hash: str) -> bool:
        """Bind a pending flow to the first browser that opens it, once."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(flows)
                .where(
                    flows.c.id == flow_id,
                    flows.c.status == "pending",
                    flows.c.browser_hash.is_(None),
                    flows.c.expires_at > time.time(),
                )
                .values(browser_hash=browser_hash)
            )
        return result.rowcount == 1

    async def arm_flow(self, flow_id: str, state_hash: str, code_verifier: str) -> bool:
        """Record the state and PKCE verifier of a redirect to the provider; the previous ones stop working."""
        sealed = self.keyring.encrypt(code_verifier, flow_context(flow_id))
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(flows)
                .where(
                    flows.c.id == flow_id,
                    flows.c.kind == "oauth",
                    flows.c.status == "pending",
                    flows.c.expires_at > time.time(),
                )
                .values(state_hash=state_hash, code_verifier=sealed, key_id=self.keyring.primary_key_id)
            )
        return result.rowcount == 1

    async def claim_flow(self, state_hash: str) -> ConsentFlow | None:
        """Take the pending, unexpired flow with this state for the code exchange, once (pending -> exchanging).

        A second callback with the same state finds nothing: an authorization code is exchanged at most once.
        """
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(flows)
                .where(flows.c.state_hash == state_hash, flows.c.status == "pending", flows.c.expires_at > time.time())
                .values(status="exchanging", claimed_at=time.time())
            )
            if result.rowcount != 1:
                return None
            row = (await conn.execute(select(flows).where(flows.c.state_hash == state_hash))).mappings().one()
        flow = self._decode_flow(row, with_verifier=True)
        assert isinstance(flow, ConsentFlow)  # only a consent is armed with a state (`arm_flow`)
        return flow

    async def fail_flow(self, flow_id: str, error: str) -> None:
        async with self.engine.begin() as conn:
            failed = await self._fail(conn, flow_id, error)
        if failed:
            await self.notices.committed(flow_id)

    async def _fail(self, conn: Any, flow_id: str, error: str) -> bool:
        result = await conn.execute(
            update(flows)
            .where(flows.c.id == flow_id, flows.c.status.in_(OPEN_STATUSES))
            .values(
                status="failed",
                error=error,
                code_verifier=None,
                held_tokens=None,
                key_id=None,
                completed_at=time.time(),
            )
        )
        if result.rowcount:
            await self.notices.announce(conn, flow_id)
        return bool(result.rowcount)

    async def fail_orphaned_flows(self, bound: float, flow_id: str | None = None) -> int:
        """Fail the flows stuck in their code exchange for longer than `bound` seconds: the process that claimed
        them died (or hangs) mid-exchange. Only `flow_id` if given. Returns how many."""
        where = [flows.c.status == "exchanging", flows.c.claimed_at < time.time() - bound]
        if flow_id is not None:
            where.append(flows.c.id == flow_id)
        async with self.engine.begin() as conn:
            ids = [row[0] for row in await conn.execute(select(flows.c.id).where(*where))]
            for orphan in ids:
                await conn.execute(
                    update(flows)
                    .where(flows.c.id == orphan, flows.c.status == "exchanging")
                    .values(
                        status="failed",
                        error=ORPHANED_FLOW_ERROR,
                        code_verifier=None,
                        held_tokens=None,
                        key_id=None,
                        completed_at=time.time(),
                    )
                )
                await self.notices.announce(conn, orphan)
        return len(ids)

    async def hold_tokens(
        self,
        flow_id: str,
        payload: str,
        *,
        confirm_hash: str | None = None,
        code_verifier: str | None = None,
        from_status: str = "exchanging",
    ) -> bool:
        """Keep what the browser obtained (tokens, or a typed secret), encrypted, until the user is verified
        (-> awaiting_verification). `confirm_hash` is the hash of the one value that can verify it; an `idp`
        verification also keeps the PKCE verifier of its sign-in."""
        sealed = self.keyring.encrypt(payload, flow_context(flow_id, "held_tokens"))
        verifier = self.keyring.encrypt(code_verifier, flow_context(flow_id)) if code_verifier else None
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(flows)
                .where(flows.c.id == flow_id, flows.c.status == from_status, flows.c.expires_at > time.time())
                .values(
                    status="awaiting_verification",
                    held_tokens=sealed,
                    code_verifier=verifier,
                    confirm_hash=confirm_hash,
                    key_id=self.keyring.primary_key_id,
                    claimed_at=None,
                )
            )
        return result.rowcount == 1

    async def await_browser(self, flow_id: str, return_hash: str) -> bool:
        """Custom verification confirmed the flow's user (awaiting_verification -> awaiting_browser): the held
        tokens stay held until the consenting browser brings back the value whose hash replaces `confirm_hash`
        (so the confirmation the verifier received is spent)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(flows)
                .where(
                    flows.c.id == flow_id,
                    flows.c.status == "awaiting_verification",
                    flows.c.expires_at > time.time(),
                )
                .values(status="awaiting_browser", confirm_hash=return_hash)
            )
        return result.rowcount == 1

    async def release_held_tokens(
        self, flow_id: str, *, from_status: str = "awaiting_verification"
    ) -> tuple[Flow, str] | None:
        """Take a verified flow's held tokens, once (awaiting_verification or awaiting_browser -> exchanging)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(flows)
                .where(
                    flows.c.id == flow_id,
                    flows.c.status == from_status,
                    flows.c.expires_at > time.time(),
                )
                .values(status="exchanging", code_verifier=None, claimed_at=time.time())
            )
            if result.rowcount != 1:
                return None
            row = (await conn.execute(select(flows).where(flows.c.id == flow_id))).mappings().one()
        payload = self.keyring.decrypt(row["held_tokens"], flow_context(flow_id, "held_tokens"))
        return self._decode_flow(row, with_verifier=False), payload

    async def complete_flow(self, flow: ConsentFlow, **connection: Any) -> Connection:
        """Store the connection and mark the flow completed in one transaction."""
        async with self.engine.begin() as conn:
            saved = await self.save_connection(flow.user_id, flow.provider_id, conn=conn, **connection)
            await conn.execute(
                update(flows)
                .where(flows.c.id == flow.id)
                .values(status="completed", code_verifier=None, held_tokens=None, completed_at=time.time())
            )
            await self.notices.announce(conn, flow.id)
        await self.notices.committed(flow.id)
        return saved

    async def open_flows(self) -> tuple[int, float | None]:
        """How many flows are still waiting for a browser, and when the last of them expires."""
        query = select(func.count(), func.max(flows.c.expires_at)).where(
            flows.c.status.in_(OPEN_STATUSES), flows.c.expires_at > time.time()
        )
        async with self.reader.connect() as conn:
            count, last = (await conn.execute(query)).one()
        return int(count), last

    async def complete_secret_flow(
        self, flow_id: str, value: str, *, from_status: str = "pending"
    ) -> SecretFlow | None:
        """Store the value typed for a secret flow and complete the flow, once, in one transaction."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(flows)
                .where(
                    flows.c.id == flow_id,
                    flows.c.kind == "secret",
                    flows.c.status == from_status,
                    flows.c.expires_at > time.time(),
                )
                .values(status="completed", held_tokens=None, completed_at=time.time())
            )
            if result.rowcount != 1:
                return None
            row = (await conn.execute(select(flows).where(flows.c.id == flow_id))).mappings().one()
            user_id, name = row["user_id"], row["provider_id"]
            values = {
                "value": self.keyring.encrypt(value, secret_context(user_id, name)),
                "key_id": self.keyring.primary_key_id,
                "updated_at": time.time(),
            }
            key = and_(user_secrets.c.user_id == user_id, user_secrets.c.name == name)
            if (await conn.execute(update(user_secrets).where(key).values(**values))).rowcount == 0:
                await conn.execute(insert(user_secrets).values(user_id=user_id, name=name, **values))
            await self.notices.announce(conn, flow_id)
        await self.notices.committed(flow_id)
        flow = self._decode_flow(row, with_verifier=False)
        assert isinstance(flow, SecretFlow)
        return flow

    async def expire_flows(self) -> int:
        """Mark pending flows past their expiry as failed. Returns how many."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(flows)
                .where(flows.c.status.in_(OPEN_STATUSES), flows.c.expires_at <= time.time())
                .values(status="failed", error="expired", code_verifier=None, held_tokens=None)
            )
        return result.rowcount

    async def purge_flows(self, finished_before: float) -> int:
        """Delete the flows that finished (or expired) before `finished_before`. Returns how many."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(flows).where(
                    or_(
                        and_(flows.c.completed_at.is_not(None), flows.c.completed_at < finished_before),
                        flows.c.expires_at < finished_before,
                    )
                )
            )
        return result.rowcount

    def _decode_flow(self, row: Any, *, with_verifier: bool) -> Flow:
        verifier = None
        if with_verifier and row["code_verifier"]:
            verifier = self.keyring.decrypt(row["code_verifier"], flow_context(row["id"]))
        return flow_record(row, code_verifier=verifier)
