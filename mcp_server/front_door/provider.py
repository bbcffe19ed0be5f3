"""authmcp as the OAuth 2.1 authorization server of its MCP clients: the MCP SDK's provider protocol on the vault.

The SDK's handlers (`mcp.server.auth`) speak the protocol: request parsing, PKCE S256 verification, client
authentication, the error answers. This class keeps the state they ask for, in the vault (so any replica serves
any step), and decides what only authmcp can:

- `authorize` checks the RFC 8707 `resource` (only `<public_url>/mcp`) and parks the request until a signed-in
  browser approves it (mcp_server/web/front_door.py); its answer carries `iss` (RFC 9207).
- codes are single-use and live CODE_TTL seconds; a code presented twice revokes the grant it made.
- refresh tokens rotate on every use; a rotated one presented again revokes the whole grant (RFC 9700 §4.14.2).
- access tokens are opaque and looked up in the vault on every request, so a revocation (RFC 7009), on any
  replica, answers 401 from the next request on.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    RegistrationError,
    TokenError,
    construct_redirect_uri,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from mcp_server.calls.identity import Caller
from mcp_server.config import is_loopback
from mcp_server.front_door.clients import LoopbackPortClient, registration_source
from mcp_server.front_door.documents import DocumentClients, is_document_url
from mcp_server.vault.front_door import FrontDoorStore, GrantRow

__all__ = ["CODE_TTL", "FrontDoor", "GrantedAccess", "GrantedCode", "GrantedRefresh"]

CODE_TTL = 60.0  # seconds an authorization code may wait for its exchange
REQUEST_TTL = 600.0  # seconds a browser has to sign in and approve
REFRESH_TTL = 30 * 86400.0
MAX_CLIENTS = 10_000  # registrations stored at once (unused ones expire after UNUSED_CLIENT_TTL)
UNUSED_CLIENT_TTL = 86400.0
REGISTRATIONS_PER_HOUR = 20  # from one address


class GrantedCode(AuthorizationCode):
    grant_id: str


class GrantedRefresh(RefreshToken):
    grant_id: str


class GrantedAccess(AccessToken):
    grant_id: str


class FrontDoor:
    """The SDK's `OAuthAuthorizationServerProvider`, and the verifier of the access tokens it issues."""

    def __init__(self, store: FrontDoorStore, *, public_url: str, access_token_ttl: int) -> None:
        self.store = store
        self.issuer = public_url
        self.resource = f"{public_url}/mcp"
        self.access_token_ttl = access_token_ttl
        # a public_url on loopback, over http or https: a development setup, whose clients may live on loopback too
        self.loopback_development = is_loopback(urlsplit(public_url).hostname or "")
        self.documents = DocumentClients(development=self.loopback_development)

    # ---------------------------------------------------------------- clients

    def is_document_client(self, client_id: str) -> bool:
        return is_document_url(client_id, development=self.loopback_development)

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        if self.is_document_client(client_id):
            return await self.documents.get(client_id)
        found = await self.store.get_client(client_id)
        if found is None:
            return None
        metadata, secret = found
        return LoopbackPortClient.model_validate({**metadata, "client_id": client_id, "client_secret": secret})

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        assert client_info.client_id is not None
        source = registration_source.get()
        if await self.store.registrations_from(source, time.time() - 3600) >= REGISTRATIONS_PER_HOUR:
            raise RegistrationError("invalid_client_metadata", "too many registrations from this address; try later")
        await self.store.purge_unused_clients(time.time() - UNUSED_CLIENT_TTL)
        metadata = client_info.model_dump(mode="json", exclude={"client_id", "client_secret"}, exclude_none=True)
        stored = await self.store.register_client(
            client_info.client_id, metadata, client_info.client_secret, source=source, limit=MAX_CLIENTS
        )
        if not stored:
            raise RegistrationError("invalid_client_metadata", "this server holds as many registrations as it takes")

    # ---------------------------------------------------------------- authorization requests

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource is not None and params.resource.rstrip("/") != self.resource:
            raise AuthorizeError("invalid_target", f"this server issues tokens for {self.resource} only")
        request_id = secrets.token_urlsafe(32)
        assert client.client_id is not None
        await self.store.create_request(
            request_id,
            client.client_id,
            {
                "state": params.state,
                "scopes": params.scopes or [],
                "code_challenge": params.code_challenge,
                "redirect_uri": str(params.redirect_uri),
                "redirect_uri_explicit": params.redirect_uri_provided_explicitly,
            },
            ttl=REQUEST_TTL,
        )
        return f"{self.issuer}/authorize/continue?request={request_id}"

    async def approve(self, request_id: str, user_id: str) -> str | None:
        """The person approved: a grant and its code; the client's redirect URL, or None if the request is gone."""
        found = await self.store.get_request(request_id)
        if found is None or not found[0] or not await self.store.delete_request(request_id):
            return None
        client_id, params = found
        code = secrets.token_urlsafe(32)
        grant = GrantRow(
            id=secrets.token_hex(16),
            client_id=client_id,
            user_id=user_id,
            scopes=list(params["scopes"]),
            resource=self.resource,
            redirect_uri=params["redirect_uri"],
            redirect_uri_explicit=bool(params["redirect_uri_explicit"]),
            code_challenge=params["code_challenge"],
            created_at=time.time(),
            revoked_at=None,
        )
        await self.store.create_grant(grant, code, code_ttl=CODE_TTL)
        return construct_redirect_uri(params["redirect_uri"], code=code, state=params["state"], iss=self.issuer)

    async def deny(self, request_id: str) -> str | None:
        """The person said no: the client's redirect URL with `error=access_denied`, or None if the request is gone."""
        found = await self.store.get_request(request_id)
        if found is None or not found[0] or not await self.store.delete_request(request_id):
            return None
        params = found[1]
        return construct_redirect_uri(
            params["redirect_uri"], error="access_denied", state=params["state"], iss=self.issuer
        )

    # ---------------------------------------------------------------- codes and tokens

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> GrantedCode | None:
        row = await self.store.find_token(authorization_code, "code")
        if row is None or row.grant.client_id != client.client_id or row.grant.revoked_at is not None:
            return None
        if row.used_at is not None:  # presented again: whoever holds it, the grant it made is no longer safe
            await self.store.revoke_grants(grant_id=row.grant.id)
            return None
        grant = row.grant
        return GrantedCode(
            code=authorization_code,
            scopes=grant.scopes,
            expires_at=row.expires_at,
            client_id=grant.client_id,
            code_challenge=grant.code_challenge,
            redirect_uri=grant.redirect_uri,  # type: ignore[arg-type]
            redirect_uri_provided_explicitly=grant.redirect_uri_explicit,
            resource=grant.resource,
            subject=grant.user_id,
            grant_id=grant.id,
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: GrantedCode
    ) -> OAuthToken:
        if not await self.store.use_token(authorization_code.code, "code"):
            await self.store.revoke_grants(grant_id=authorization_code.grant_id)
            raise TokenError("invalid_grant", "authorization code was already used")
        return await self._issue(authorization_code.grant_id, authorization_code.scopes)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> GrantedRefresh | None:
        row = await self.store.find_token(refresh_token, "refresh")
        if row is None or row.grant.client_id != client.client_id or row.grant.revoked_at is not None:
            return None
        if row.used_at is not None:  # a rotated token again: stolen or replayed; end the whole grant
            await self.store.revoke_grants(grant_id=row.grant.id)
            return None
        return GrantedRefresh(
            token=refresh_token,
            client_id=row.grant.client_id,
            scopes=row.grant.scopes,
            expires_at=int(row.expires_at),
            resource=row.grant.resource,
            subject=row.grant.user_id,
            grant_id=row.grant.id,
        )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: GrantedRefresh, scopes: list[str]
    ) -> OAuthToken:
        if not await self.store.use_token(refresh_token.token, "refresh"):
            await self.store.revoke_grants(grant_id=refresh_token.grant_id)
            raise TokenError("invalid_grant", "refresh token was already used")
        return await self._issue(refresh_token.grant_id, scopes)

    async def _issue(self, grant_id: str, scopes: list[str]) -> OAuthToken:
        now = time.time()
        access, refresh = f"amcp_at_{secrets.token_urlsafe(32)}", f"amcp_rt_{secrets.token_urlsafe(32)}"
        tokens = [(access, "access", now + self.access_token_ttl), (refresh, "refresh", now + REFRESH_TTL)]
        if not await self.store.add_tokens(grant_id, tokens):
            raise TokenError("invalid_grant", "this grant was revoked")
        return OAuthToken(
            access_token=access,
            token_type="Bearer",
            expires_in=self.access_token_ttl,
            refresh_token=refresh,
            scope=" ".join(scopes) if scopes else None,
        )

    async def load_access_token(self, token: str) -> GrantedAccess | None:
        if not token.startswith("amcp_at_"):
            return None
        row = await self.store.find_token(token, "access")
        if row is None or row.grant.revoked_at is not None or row.expires_at <= time.time():
            return None
        return GrantedAccess(
            token="",  # never kept
            client_id=row.grant.client_id,
            scopes=row.grant.scopes,
            expires_at=int(row.expires_at),
            resource=row.grant.resource,
            subject=row.grant.user_id,
            claims={"iss": self.issuer},
            grant_id=row.grant.id,
        )

    async def exchange_identity_assertion(self, client: OAuthClientInformationFull, params: Any) -> OAuthToken:
        """SEP-990's grant is not offered (the SDK's routes do not enable it)."""
        raise TokenError("unsupported_grant_type", "the JWT bearer grant is not supported here")

    async def revoke_token(self, token: Any) -> None:
        """RFC 7009: either token of a grant ends the whole grant."""
        await self.store.revoke_grants(grant_id=token.grant_id)

    # ---------------------------------------------------------------- the resource's side

    async def caller(self, token: bytes, digest: bytes) -> Caller | None:
        """The caller of an access token issued here for this resource (its audience), or None."""
        try:
            text = token.decode("ascii")
        except UnicodeDecodeError:
            return None
        access = await self.load_access_token(text)
        if access is None or access.resource != self.resource:
            return None
        return Caller(
            AccessToken(
                token="",
                client_id=access.client_id,
                scopes=access.scopes,
                expires_at=access.expires_at,
                resource=access.resource,
                subject=access.subject,
                claims=access.claims,
            )
        )
