"""The front door's storage: MCP clients, grants, code and token digests, pending requests, browser sessions.

Every value a client or browser presents (a code, a token, a session cookie, a request link) is stored as its
SHA-256 digest only; a client's secret and a sign-in's PKCE verifier and nonce are sealed (sealing.py). Whatever
changes a token's standing (a code exchanged, a refresh token rotated, a grant revoked) is one conditional UPDATE,
so two replicas racing on the same value cannot both win.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, or_, select, update

from mcp_server.vault.outages import translated
from mcp_server.vault.schema import browser_sessions, front_door_requests, oauth_clients, oauth_grants, oauth_tokens
from mcp_server.vault.sealing import client_context, request_context
from mcp_server.vault.store import Vault

__all__ = ["GRANT_RETENTION", "FrontDoorStore", "GrantRow", "TokenRow", "digest"]

# A grant that ended (revoked, or no token of it valid any more) is kept this long, then deleted with its digests:
# long enough to see in the database what happened to a client, short enough that ended grants do not pile up.
GRANT_RETENTION = 30 * 86400.0


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class GrantRow:
    id: str
    client_id: str
    user_id: str
    scopes: list[str]
    resource: str
    redirect_uri: str
    redirect_uri_explicit: bool
    code_challenge: str
    created_at: float
    revoked_at: float | None


@dataclass(frozen=True, slots=True)
class TokenRow:
    kind: str
    expires_at: float
    used_at: float | None
    grant: GrantRow


def _grant(row: Any) -> GrantRow:
    return GrantRow(
        id=row.id,
        client_id=row.client_id,
        user_id=row.user_id,
        scopes=row.scopes.split(),
        resource=row.resource,
        redirect_uri=row.redirect_uri,
        redirect_uri_explicit=bool(row.redirect_uri_explicit),
        code_challenge=row.code_challenge,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class FrontDoorStore:
    """The front door's rows in `vault`."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._engine = vault.engine
        self._reader = vault.engine.execution_options(authmcp_read_only=True)

    # ---------------------------------------------------------------- clients

    @translated
    async def register_client(
        self, client_id: str, client_metadata: dict[str, Any], secret: str | None, *, source: str, limit: int
    ) -> bool:
        """Store a registration, unless `limit` registrations are stored already. Returns whether it was stored."""
        keyring = self.vault.keyring
        async with self._engine.begin() as conn:
            count = (await conn.execute(select(func.count()).select_from(oauth_clients))).scalar_one()
            if count >= limit:
                return False
            await conn.execute(
                insert(oauth_clients).values(
                    id=client_id,
                    client_metadata=json.dumps(client_metadata),
                    client_secret=keyring.encrypt(secret, client_context(client_id)) if secret else None,
                    key_id=keyring.primary_key_id if secret else None,
                    registered_from=digest(source),
                    created_at=time.time(),
                )
            )
        return True

    @translated
    async def registrations_from(self, source: str, since: float) -> int:
        async with self._reader.connect() as conn:
            query = select(func.count()).where(
                oauth_clients.c.registered_from == digest(source), oauth_clients.c.created_at >= since
            )
            return int((await conn.execute(query)).scalar_one())

    @translated
    async def get_client(self, client_id: str) -> tuple[dict[str, Any], str | None] | None:
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(oauth_clients).where(oauth_clients.c.id == client_id))).first()
        if row is None:
            return None
        secret = self.vault.keyring.decrypt(row.client_secret, client_context(client_id)) if row.client_secret else None
        return json.loads(row.client_metadata), secret

    @translated
    async def purge_unused_clients(self, older_than: float) -> int:
        """Delete registrations never approved by anyone since `older_than`."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(oauth_clients).where(oauth_clients.c.used_at.is_(None), oauth_clients.c.created_at < older_than)
            )
        return int(result.rowcount)

    # ---------------------------------------------------------------- pending requests and sign-ins

    @translated
    async def create_request(self, request_id: str, client_id: str, params: dict[str, Any], *, ttl: float) -> None:
        now = time.time()
        async with self._engine.begin() as conn:
            await conn.execute(delete(front_door_requests).where(front_door_requests.c.expires_at < now))
            await conn.execute(
                insert(front_door_requests).values(
                    id=digest(request_id),
                    client_id=client_id,
                    params=json.dumps(params),
                    created_at=now,
                    expires_at=now + ttl,
                )
            )

    @translated
    async def get_request(self, request_id: str) -> tuple[str, dict[str, Any]] | None:
        async with self._reader.connect() as conn:
            row = (
                await conn.execute(
                    select(front_door_requests.c.client_id, front_door_requests.c.params).where(
                        front_door_requests.c.id == digest(request_id),
                        front_door_requests.c.expires_at > time.time(),
                    )
                )
            ).first()
        return (row.client_id, json.loads(row.params)) if row is not None else None

    @translated
    async def start_sign_in(self, request_id: str, state: str, secrets: dict[str, str]) -> None:
        row_id = digest(request_id)
        keyring = self.vault.keyring
        async with self._engine.begin() as conn:
            await conn.execute(
                update(front_door_requests)
                .where(front_door_requests.c.id == row_id)
                .values(
                    sign_in_state=digest(state),
                    secrets=keyring.encrypt(json.dumps(secrets), request_context(row_id)),
                    key_id=keyring.primary_key_id,
                )
            )

    @translated
    async def take_sign_in(self, state: str) -> tuple[str, dict[str, str]] | None:
        """The request row id and sealed secrets of the sign-in sent with `state`, once (the state is cleared)."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(front_door_requests.c.id, front_door_requests.c.secrets).where(
                        front_door_requests.c.sign_in_state == digest(state),
                        front_door_requests.c.expires_at > time.time(),
                    )
                )
            ).first()
            if row is None or row.secrets is None:
                return None
            cleared = await conn.execute(
                update(front_door_requests)
                .where(front_door_requests.c.id == row.id, front_door_requests.c.sign_in_state == digest(state))
                .values(sign_in_state=None, secrets=None, key_id=None)
            )
            if cleared.rowcount != 1:
                return None
        return row.id, json.loads(self.vault.keyring.decrypt(row.secrets, request_context(row.id)))

    @translated
    async def delete_request(self, request_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(front_door_requests).where(front_door_requests.c.id == digest(request_id))
            )
        return bool(result.rowcount == 1)

    # ---------------------------------------------------------------- browser sessions

    @translated
    async def create_session(self, cookie: str, user_id: str, email: str | None, *, ttl: float) -> None:
        now = time.time()
        async with self._engine.begin() as conn:
            await conn.execute(delete(browser_sessions).where(browser_sessions.c.expires_at < now))
            await conn.execute(
                insert(browser_sessions).values(
                    id=digest(cookie), user_id=user_id, email=email, created_at=now, expires_at=now + ttl
                )
            )

    @translated
    async def session_user(self, cookie: str) -> str | None:
        async with self._reader.connect() as conn:
            return (
                await conn.execute(
                    select(browser_sessions.c.user_id).where(
                        browser_sessions.c.id == digest(cookie), browser_sessions.c.expires_at > time.time()
                    )
                )
            ).scalar_one_or_none()

    @translated
    async def end_session(self, cookie: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(browser_sessions).where(browser_sessions.c.id == digest(cookie)))

    # ---------------------------------------------------------------- grants and tokens

    @translated
    async def create_grant(self, grant: GrantRow, code: str, *, code_ttl: float) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(oauth_grants).values(
                    id=grant.id,
                    client_id=grant.client_id,
                    user_id=grant.user_id,
                    scopes=" ".join(grant.scopes),
                    resource=grant.resource,
                    redirect_uri=grant.redirect_uri,
                    redirect_uri_explicit=int(grant.redirect_uri_explicit),
                    code_challenge=grant.code_challenge,
                    created_at=grant.created_at,
                )
            )
            await conn.execute(
                insert(oauth_tokens).values(
                    id=digest(code), kind="code", grant_id=grant.id, expires_at=grant.created_at + code_ttl
                )
            )
            await conn.execute(
                update(oauth_clients).where(oauth_clients.c.id == grant.client_id).values(used_at=grant.created_at)
            )

    @translated
    async def approved(self, user_id: str, client_id: str) -> bool:
        """Whether this user has a grant of this client that is not revoked."""
        async with self._reader.connect() as conn:
            found = (
                await conn.execute(
                    select(oauth_grants.c.id)
                    .where(
                        oauth_grants.c.user_id == user_id,
                        oauth_grants.c.client_id == client_id,
                        oauth_grants.c.revoked_at.is_(None),
                    )
                    .limit(1)
                )
            ).first()
        return found is not None

    @translated
    async def find_token(self, value: str, kind: str) -> TokenRow | None:
        async with self._reader.connect() as conn:
            row = (
                await conn.execute(
                    select(oauth_tokens.c.kind, oauth_tokens.c.expires_at, oauth_tokens.c.used_at, oauth_grants)
                    .join(oauth_grants, oauth_grants.c.id == oauth_tokens.c.grant_id)
                    .where(oauth_tokens.c.id == digest(value), oauth_tokens.c.kind == kind)
                )
            ).first()
        return TokenRow(row.kind, row.expires_at, row.used_at, _grant(row)) if row is not None else None

    @translated
    async def use_token(self, value: str, kind: str) -> bool:
        """Mark a code or refresh token used, once: False if it was used already (or is unknown)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(oauth_tokens)
                .where(
                    oauth_tokens.c.id == digest(value), oauth_tokens.c.kind == kind, oauth_tokens.c.used_at.is_(None)
                )
                .values(used_at=time.time())
            )
        return bool(result.rowcount == 1)

    @translated
    async def add_tokens(self, grant_id: str, tokens: list[tuple[str, str, float]]) -> bool:
        """Store (value, kind, expires_at) digests for a grant that is not revoked. Returns whether it was not."""
        async with self._engine.begin() as conn:
            live = (
                await conn.execute(
                    select(oauth_grants.c.id).where(oauth_grants.c.id == grant_id, oauth_grants.c.revoked_at.is_(None))
                )
            ).first()
            if live is None:
                return False
            # expired codes and tokens are of no more use (a reused one past its expiry is refused as unknown)
            await conn.execute(delete(oauth_tokens).where(oauth_tokens.c.expires_at < time.time()))
            for value, kind, expires_at in tokens:
                await conn.execute(
                    insert(oauth_tokens).values(id=digest(value), kind=kind, grant_id=grant_id, expires_at=expires_at)
                )
        return True

    @translated
    async def revoke_grants(
        self, *, grant_id: str | None = None, user_id: str | None = None, client_id: str = ""
    ) -> int:
        """Revoke one grant, or every grant of `user_id` for `client_id`; their tokens go with them."""
        now = time.time()
        where: list[ColumnElement[bool]] = [oauth_grants.c.revoked_at.is_(None)]
        if grant_id is not None:
            where.append(oauth_grants.c.id == grant_id)
        else:
            where += [oauth_grants.c.user_id == user_id, oauth_grants.c.client_id == client_id]
        async with self._engine.begin() as conn:
            ids = [r[0] for r in await conn.execute(select(oauth_grants.c.id).where(*where))]
            if ids:
                await conn.execute(update(oauth_grants).where(oauth_grants.c.id.in_(ids)).values(revoked_at=now))
                await conn.execute(delete(oauth_tokens).where(oauth_tokens.c.grant_id.in_(ids)))
        return len(ids)

    @translated
    async def purge_grants(self, older_than: float) -> int:
        """Delete the grants revoked before `older_than`, and those made before it of which no token is valid
        now (a code never exchanged, a refresh token left to expire), with their token digests. How many."""
        live = exists().where(oauth_tokens.c.grant_id == oauth_grants.c.id, oauth_tokens.c.expires_at > time.time())
        ended = or_(
            oauth_grants.c.revoked_at < older_than,
            and_(oauth_grants.c.revoked_at.is_(None), oauth_grants.c.created_at < older_than, ~live),
        )
        async with self._engine.begin() as conn:
            ids = [r[0] for r in await conn.execute(select(oauth_grants.c.id).where(ended))]
            for start in range(0, len(ids), 500):  # bounded IN lists
                batch = ids[start : start + 500]
                await conn.execute(delete(oauth_tokens).where(oauth_tokens.c.grant_id.in_(batch)))
                await conn.execute(delete(oauth_grants).where(oauth_grants.c.id.in_(batch)))
        return len(ids)

    @translated
    async def approved_clients(self, user_id: str) -> list[tuple[str, float]]:
        """(client_id, first approved at) of each client this user has a live grant of."""
        async with self._reader.connect() as conn:
            rows = await conn.execute(
                select(oauth_grants.c.client_id, func.min(oauth_grants.c.created_at))
                .where(oauth_grants.c.user_id == user_id, oauth_grants.c.revoked_at.is_(None))
                .group_by(oauth_grants.c.client_id)
                .order_by(oauth_grants.c.client_id)
            )
            return [(r[0], float(r[1])) for r in rows]
