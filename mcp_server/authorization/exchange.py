"""The exchange side of a flow (a part of `FlowService`, which inherits it): from the provider's redirect to a
stored connection.

`redirect` sends the flow's browser to the provider with fresh state and PKCE; `complete` handles the redirect
back to `/oauth/callback`: state and browser checked, the code exchanged once and only in that browser, and what
it obtained bound to the flow's user (`bind_connection`), or held until the user is verified (`verification.py`).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from mcp_server.authorization.connections import ConnectionService
from mcp_server.authorization.errors import CallbackError, FlowUnavailable, WrongBrowser
from mcp_server.authorization.verification import digest
from mcp_server.errors import OAuthError, ProviderUnavailable
from mcp_server.observability.audit import AuditLog, flow_ref
from mcp_server.observability.telemetry import traced
from mcp_server.providers import Provider, oauth2
from mcp_server.providers.rfc9207 import issuer_matches
from mcp_server.vault import DecryptionError, Flow, Vault
from mcp_server.vault.flow_records import ConsentFlow

__all__ = ["CodeExchange", "Landing", "hash_state"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Landing:
    """Where the browser goes next once a step of a flow is done."""

    flow: Flow
    url: str


def hash_state(state: str) -> str:
    return digest(state)


class CodeExchange:
    """The exchange half of `FlowService` (which inherits it)."""

    vault: Vault
    audit: AuditLog
    connections: ConnectionService
    http_timeout: float

    if TYPE_CHECKING:

        @property
        def redirect_uri(self) -> str: ...
        @property
        def verifies_users(self) -> bool: ...
        def provider(self, provider_id: str) -> Provider: ...
        def browser_matches(self, flow: Flow, cookies: Mapping[str, str]) -> bool: ...
        async def hold_for_verification(self, flow: Flow, payload: dict[str, Any], *, from_status: str) -> str: ...
        async def finish(self, flow_id: str) -> None: ...
        async def flow_status(self, flow_id: str) -> Flow | None: ...
        def audit_failure(self, flow: Flow, reason: str, error_kind: str | None = None) -> None: ...

    @traced("authmcp.flow.redirect")
    async def redirect(self, flow_id: str) -> str:
        """The provider URL for the flow's browser, with fresh state and PKCE (the previous ones stop working).

        Raises:
            FlowUnavailable: The flow is unknown, already finished, or expired.
        """
        flow = await self.vault.get_flow(flow_id)
        if not isinstance(flow, ConsentFlow):
            raise FlowUnavailable("This authorization link is not known. Go back to your app and try the tool again.")
        if flow.status == "completed":
            raise FlowUnavailable("This authorization is already complete. You can close this tab.")
        if flow.status != "pending" or flow.is_expired(time.time()):
            raise FlowUnavailable("This authorization link has expired. Go back to your app and try the tool again.")
        provider = self.provider(flow.provider_id)
        state = secrets.token_urlsafe(32)  # 256 bits, single use, stored only as a hash
        code_verifier = secrets.token_urlsafe(64)  # 86 characters (RFC 7636 §4.1: 43 to 128)
        if not await self.vault.arm_flow(flow.id, hash_state(state), code_verifier):
            raise FlowUnavailable("This authorization link has expired. Go back to your app and try the tool again.")
        return oauth2.authorization_url(
            provider, redirect_uri=self.redirect_uri, scopes=flow.scopes, state=state, code_verifier=code_verifier
        )

    # ---------------------------------------------------------------- completing

    @traced("authmcp.flow.callback")
    async def complete(self, params: Mapping[str, str], cookies: Mapping[str, str]) -> Landing:
        """Handle the provider's redirect to `/oauth/callback`: check state and browser, exchange the code once.

        Raises:
            CallbackError: What went wrong, in words for the person in the browser. `WrongBrowser` when the
                browser is not the flow's: then nothing was exchanged and the flow is left as it was.
        """
        state = params.get("state")
        if not state:
            raise CallbackError("The response from the provider has no state. Start again from your app.")
        found = await self.vault.flow_by_state(hash_state(state))
        if found is not None and found.status == "pending" and not self.browser_matches(found, cookies):
            raise WrongBrowser(found.id)
        flow = await self.vault.claim_flow(hash_state(state))
        if flow is None:
            return await self._repeated_callback(hash_state(state))
        try:
            return await self._exchange(flow, params)
        except CallbackError as exc:
            await self.vault.fail_flow(flow.id, str(exc))
            self.audit_failure(flow, str(exc))
            await self.finish(flow.id)
            raise
        except Exception as exc:
            await self.vault.fail_flow(flow.id, "authmcp failed while completing the authorization")
            self.audit_failure(flow, "authmcp failed while completing the authorization", type(exc).__name__)
            await self.finish(flow.id)
            raise

    async def _repeated_callback(self, state_hash: str) -> NoReturn:
        """A callback whose flow was already claimed (a reload, a retry after a crash): say where it stands."""
        flow = await self.vault.flow_by_state(state_hash)
        if flow is not None:
            flow = await self.flow_status(flow.id)  # failed first if its exchange was orphaned
        if flow is not None and flow.status == "failed":
            raise CallbackError(flow.error or "This authorization did not complete. Start again from your app.")
        if flow is not None and flow.status == "exchanging":
            raise CallbackError(
                "This authorization is still being completed. Wait a moment, then reload this page.", status=409
            )
        raise CallbackError(
            "This authorization response is unknown, already used, or expired. Start again from your app."
        )

    async def _exchange(self, flow: ConsentFlow, params: Mapping[str, str]) -> Landing:
        provider = self.provider(flow.provider_id)
        # RFC 9207: a missing or mismatched issuer may be another provider's response (mix-up, RFC 9700 §4.4)
        if not issuer_matches(provider, params):
            told = f"The response did not come from {provider.name}, so nothing was stored."
            raise CallbackError(told, flow_id=flow.id)
        error = params.get("error")
        if error:
            if error == "access_denied":
                raise CallbackError(
                    f"Access to {provider.name} was declined. Nothing was stored.", flow_id=flow.id, reason="declined"
                )
            raise CallbackError(f"{provider.name} could not authorize this request ({_code(error)}).", flow_id=flow.id)
        code = params.get("code")
        if not code:
            raise CallbackError(f"{provider.name} sent no authorization code.", flow_id=flow.id)
        assert flow.code_verifier is not None
        try:
            tokens = await oauth2.exchange_code(
                provider,
                code=code,
                redirect_uri=self.redirect_uri,
                code_verifier=flow.code_verifier,
                timeout=self.http_timeout,
            )
        except OAuthError as exc:
            raise CallbackError(
                f"{exc.description} ({exc.error}). Start again from your app.", flow_id=flow.id
            ) from None
        except ProviderUnavailable as exc:
            raise CallbackError(f"{exc}. Start again from your app.", status=502, flow_id=flow.id) from None
        user_info = await oauth2.fetch_user_info(provider, access_token=tokens.access_token, timeout=self.http_timeout)
        previous = None
        try:
            previous = await self.vault.get_connection(flow.user_id, flow.provider_id)
        except DecryptionError:
            pass
        connection = {
            "access_token": tokens.access_token,
            # a re-authorization may come without a refresh token (RFC 6749 §4.1.4 makes it optional)
            "refresh_token": tokens.refresh_token or (previous.refresh_token if previous else None),
            "token_type": tokens.token_type,
            "expires_at": tokens.expires_at,
            "scopes": list(tokens.scopes if tokens.scopes is not None else flow.scopes),
            "user_info": user_info,
            "token_extras": tokens.extras,
        }
        if self.verifies_users:
            # Whoever is in this browser must be shown to be the flow's user before anything is bound to them.
            url = await self.hold_for_verification(flow, connection, from_status="exchanging")
            return Landing(flow, url)
        await self.bind_connection(flow, connection)
        return Landing(flow, f"/connect/{flow.id}/done")

    async def bind_connection(self, flow: ConsentFlow, connection: dict[str, Any]) -> None:
        """Store what the exchange obtained as the flow user's connection, and finish the flow."""
        saved = await self.vault.complete_flow(flow, **connection)
        self.connections.remember(saved)
        logger.info("flow %s completed: user %r connected to %s", flow_ref(flow.id), flow.user_id, flow.provider_id)
        self.audit.record(
            "authorization.completed",
            user_id=flow.user_id,
            provider_id=flow.provider_id,
            scopes=" ".join(saved.scopes),
            flow_ref=flow_ref(flow.id),
            actor="user",
            outcome="ok",
        )
        await self.finish(flow.id)


def _code(error: str) -> str:
    """A provider's error code, shown only if it looks like one (never reflect arbitrary input)."""
    return error if error.replace("_", "").isalnum() and len(error) <= 64 else "unknown error"
