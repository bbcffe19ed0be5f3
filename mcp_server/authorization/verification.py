"""The verification step of a flow: whoever is in the browser must be shown to be the flow's user before
anything (tokens, a typed secret) is bound to that user.

What the browser obtained is held encrypted in the flow, and a fresh single-use value, its *confirmation*, is
made for this one step. Only its hash is stored; the value itself travels only in the redirect to the browser
that consented, never in a log line, never equal to the `/connect` id the link's creator knows:

- `custom`: the browser goes to the application's `[api] verifier_url` with `?flow_id=<confirmation>`; the
  application, which knows who is signed in, calls `POST /v1/auth/confirm_user` with it (Arcade's API). That
  only confirms the user: it answers a `next_uri` holding a second single-use value, and the grant is bound
  only when the browser that consented (it holds the link's cookie) arrives there. Any other browser fails the
  flow, so a link relayed from the one who consented to the signed-in user binds nothing.
- `idp`: authmcp signs the browser in at the `[mcp_auth] jwt_issuer` (an OpenID Connect relying party, PKCE,
  the confirmation as `state`, a nonce derived from the PKCE verifier) and the flow completes only if the
  signed-in `sub` is the flow's user: the `sub` of the ID token, verified as the front door's sign-in verifies
  it (providers/id_tokens.py: JWKS signature, issuer, audience, expiry, nonce), or, when the sign-in asks for no
  `openid` scope, the issuer's userinfo answer.

An approval's yes (`web/approve.py`) takes the same steps: it is held, and granted only once the person in the
browser is shown to be the user the call acts for; anyone else's confirmation fails it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urlsplit

from mcp_server.authorization.errors import (
    CallbackError,
    ConfirmationNotUsed,
    FlowUnavailable,
    UserMismatch,
    WrongBrowser,
)
from mcp_server.errors import OAuthError, ProviderUnavailable
from mcp_server.observability.audit import AuditLog, flow_ref
from mcp_server.observability.telemetry import traced
from mcp_server.providers import Provider, oauth2
from mcp_server.providers.id_tokens import IdTokenRefused, IdTokens, nonce_for
from mcp_server.providers.rfc9207 import issuer_matches
from mcp_server.vault.approvals import decide_approval
from mcp_server.vault.flow_records import ApprovalFlow, ConsentFlow, SecretFlow, audited_as

if TYPE_CHECKING:
    from mcp_server.vault import Flow, Vault

__all__ = [
    "Confirmed",
    "VerificationSteps",
    "digest",
]

logger = logging.getLogger(__name__)

Mode = Literal["none", "custom", "idp"]


@dataclass(frozen=True)
class Confirmed:
    """`confirm_user`'s answer: the flow, and where the application sends the browser to finish it."""

    flow: Flow
    next_uri: str


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class VerificationSteps:
    """The verification half of `FlowService` (which inherits it)."""

    vault: Vault
    audit: AuditLog
    public_url: str
    http_timeout: float
    verification: Mode
    verifier_url: str | None
    idp: Provider | None
    idp_tokens: IdTokens | None

    if TYPE_CHECKING:

        async def bind_connection(self, flow: ConsentFlow, connection: dict[str, Any]) -> None: ...
        async def store_secret(self, flow_id: str, value: str, *, from_status: str) -> Flow: ...
        async def finish(self, flow_id: str) -> None: ...
        def browser_matches(self, flow: Flow, cookies: Mapping[str, str]) -> bool: ...
        def audit_failure(self, flow: Flow, reason: str, error_kind: str | None = None) -> None: ...

    @property
    def verifies_users(self) -> bool:
        return self.verification != "none"

    @property
    def verification_origins(self) -> list[str]:
        """Where a form's answer may redirect the browser to verify (the CSP form-action of our form pages)."""
        url = self.verifier_url if self.verification == "custom" else self.idp.authorize_url if self.idp else None
        parts = urlsplit(url or "")
        return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []

    @property
    def sign_in_redirect_uri(self) -> str:
        return f"{self.public_url}/oauth/verify"

    async def hold_for_verification(self, flow: Flow, payload: dict[str, Any], *, from_status: str) -> str:
        """Hold `payload` until the user is verified; returns where the browser goes to verify."""
        confirmation = secrets.token_urlsafe(32)
        code_verifier = secrets.token_urlsafe(64) if self.verification == "idp" else None
        held = await self.vault.hold_tokens(
            flow.id,
            json.dumps(payload),
            confirm_hash=digest(confirmation),
            code_verifier=code_verifier,
            from_status=from_status,
        )
        if not held:
            raise CallbackError("This authorization expired while it was being completed.", flow_id=flow.id)
        logger.info("flow %s: held until the user is verified (%s)", flow_ref(flow.id), self.verification)
        if self.verification == "idp":
            assert self.idp is not None and code_verifier is not None
            url = oauth2.authorization_url(
                self.idp,
                redirect_uri=self.sign_in_redirect_uri,
                scopes=self.idp.scopes,
                state=confirmation,
                code_verifier=code_verifier,
            )
            if self.idp_tokens is not None:  # the ID token must carry it back (OpenID Connect Core §3.1.2.1)
                url = f"{url}&{urlencode({'nonce': nonce_for(code_verifier)})}"
            return url
        assert self.verifier_url is not None
        separator = "&" if "?" in self.verifier_url else "?"
        return f"{self.verifier_url}{separator}{urlencode({'flow_id': confirmation})}"

    @property
    def confirmed_url(self) -> str:
        return f"{self.public_url}/oauth/confirmed"

    @traced("authmcp.flow.confirm_user")
    async def confirm_user(self, confirmation: str, user_id: str) -> Confirmed:
        """`custom`: the application says who is in the browser that brought `confirmation` to its verifier.

        Only marks the flow confirmed for that user: nothing is bound (and no approval counted) until the
        consenting browser arrives at `next_uri` (`finish_confirmation`).

        Raises:
            FlowUnavailable: Not a confirmation waiting for verification (the `/connect` id never is one).
            UserMismatch: Another user finished the flow; it is failed and nothing is bound.
        """
        if self.verification == "idp":
            raise ConfirmationNotUsed(
                'This server verifies users itself ([api] verification = "idp"): after consent the browser signs in '
                "at the issuer, and the authorization completes when that is its user. There is nothing to confirm: "
                "do not call confirm_user; wait for the authorization with /v1/auth/status instead."
            )
        if self.verification != "custom":
            raise FlowUnavailable(
                'This server verifies users itself ([api] verification is not "custom"); nothing to confirm.'
            )
        flow = await self.vault.find_flow_by_confirmation(digest(confirmation)) if confirmation else None
        if flow is None:
            raise FlowUnavailable(
                "No authorization waits for verification with this flow_id. Pass the flow_id your verifier page "
                "received (once: it is spent by the first confirm_user), not the authorization id."
            )
        await self._check_user(flow, user_id)
        returning = secrets.token_urlsafe(32)
        if not await self.vault.await_browser(flow.id, digest(returning)):
            raise FlowUnavailable(f"This {_what(flow)} is not waiting for verification any more.")
        logger.info("flow %s: user confirmed; waiting for the consenting browser", flow_ref(flow.id))
        confirmed = await self.vault.get_flow(flow.id)
        assert confirmed is not None
        return Confirmed(confirmed, f"{self.confirmed_url}?{urlencode({'confirmation': returning})}")

    @traced("authmcp.flow.confirmed")
    async def finish_confirmation(self, params: Mapping[str, str], cookies: Mapping[str, str]) -> Flow:
        """`custom`: a browser arrives at `next_uri`. Only the one that consented (the link's cookie) completes
        the flow; any other browser was handed a relayed link, and the flow is failed so nobody completes it.

        Raises:
            CallbackError: What went wrong, in words for the person in the browser.
        """
        value = params.get("confirmation")
        flow = await self.vault.find_flow_by_confirmation(digest(value)) if value else None
        if flow is None or self.verification != "custom":
            raise CallbackError("This confirmation link is unknown or expired. Start again from your app.")
        ours = self.browser_matches(flow, cookies)
        if flow.status in ("completed", "used"):
            if ours:
                return flow  # the same browser reloading the page
            raise WrongBrowser(flow.id)
        if flow.status != "awaiting_browser" or flow.is_expired(time.time()):
            raise CallbackError(
                "This confirmation link was already used, or has expired. Start again from your app.", flow_id=flow.id
            )
        if not ours:
            await self._relayed(flow)
        released = await self.vault.release_held_tokens(flow.id, from_status="awaiting_browser")
        if released is None:
            raise CallbackError(f"This {_what(flow)} is not waiting for this browser any more.", flow_id=flow.id)
        return await self._release(*released)

    async def _relayed(self, flow: Flow) -> None:
        """The user was confirmed in a browser that did not consent: the link was passed on. Fail the flow."""
        if isinstance(flow, ApprovalFlow):
            told = (
                "This confirmation was opened in a browser other than the one where the call was approved, so "
                "it was not approved and the tool will not run. If you did not press Approve yourself, someone "
                "else did: ask your app to try again, and approve only a call you asked for."
            )
        else:
            told = (
                "This confirmation was opened in a browser other than the one that signed in at the provider, "
                "so nothing was connected. If you did not open the authorization link yourself, someone may "
                "have tried to connect their own account to yours. Go back to your app for a new link."
            )
        await self.vault.fail_flow(flow.id, told)
        await self.finish(flow.id)
        logger.warning("flow %s: confirmed in a browser other than the consenting one; failed", flow_ref(flow.id))
        self.audit_failure(flow, "the confirmation reached a browser other than the one that consented")
        raise CallbackError(
            told, status=403, flow_id=flow.id, reason="not_approved" if isinstance(flow, ApprovalFlow) else "failed"
        )

    async def _check_user(self, flow: Flow, user_id: str) -> None:
        """The verified user must be the flow's user; otherwise the flow is failed (UserMismatch)."""
        what = _what(flow)
        if flow.status != "awaiting_verification" or flow.is_expired(time.time()):
            raise FlowUnavailable(f"This {what} is not waiting for verification (it is {flow.status}).")
        if flow.user_id == user_id:
            return
        if isinstance(flow, ApprovalFlow):
            error = "The person who confirmed is not the user this call acts for, so it was not approved."
            reason = "the verified user is not the user this call acts for"
            told = (
                "The verified user is not the user this call acts for, so the approval is not granted and "
                "the tool will not run."
            )
        else:
            error = "The person who authorized is not the user this link was made for."
            reason = "the verified user is not the user this authorization was started for"
            told = (
                "The verified user is not the user this authorization was started for. Nothing was "
                "connected; the user must start again."
            )
        await self.vault.fail_flow(flow.id, error)
        await self.finish(flow.id)
        logger.warning("flow %s: verification named another user; nothing was bound", flow_ref(flow.id))
        self.audit_failure(flow, reason)
        raise UserMismatch(told)

    async def _verified(self, flow: Flow, user_id: str) -> Flow:
        """`idp`: the signed-in user, in the flow's own browser."""
        if flow.status == "completed" and flow.user_id == user_id:
            return flow  # the same sign-in again: nothing more is bound
        await self._check_user(flow, user_id)
        released = await self.vault.release_held_tokens(flow.id)
        if released is None:
            raise FlowUnavailable(f"This {_what(flow)} is not waiting for verification any more.")
        return await self._release(*released)

    async def _release(self, held_flow: Flow, payload: str) -> Flow:
        """Bind what was held (or count the approval), now that its user and its browser are shown."""
        if isinstance(held_flow, ApprovalFlow):
            await self._grant_verified_approval(held_flow)
        else:
            self.audit.record(
                "authorization.verified",
                user_id=held_flow.user_id,
                provider_id=audited_as(held_flow),
                flow_ref=flow_ref(held_flow.id),
                actor="user",
                outcome="ok",
            )
            data = json.loads(payload)
            if isinstance(held_flow, SecretFlow):
                await self.store_secret(held_flow.id, data["secret"], from_status="exchanging")
            else:
                assert isinstance(held_flow, ConsentFlow)
                await self.bind_connection(held_flow, data)
        done = await self.vault.get_flow(held_flow.id)
        assert done is not None
        return done

    async def _grant_verified_approval(self, flow: ApprovalFlow) -> None:
        """The person who said yes to a call is its user: the approval counts (the call may now run, once)."""
        if await decide_approval(self.vault, flow.id, approve=True, from_statuses=("exchanging",)) is None:
            raise FlowUnavailable("This approval expired while it was being confirmed; the tool did not run.")
        logger.info("approval %s granted by its verified user", flow_ref(flow.id))
        self.audit.record(
            "approval.granted",
            user_id=flow.user_id,
            tool=flow.tool,
            actor="user",
            outcome="granted",
            detail=f"on a page, verified ({self.verification})",
            flow_ref=flow_ref(flow.id),
        )
        await self.finish(flow.id)

    @traced("authmcp.flow.sign_in")
    async def finish_sign_in(self, params: Mapping[str, str], cookies: Mapping[str, str]) -> Flow:
        """`idp`: the browser is back from signing in at the issuer; complete the flow if it is the flow's user.

        Raises:
            CallbackError: What went wrong, in words for the person in the browser (WrongBrowser: another one).
        """
        state = params.get("state")
        flow = await self.vault.find_flow_by_confirmation(digest(state), with_verifier=True) if state else None
        if flow is None or self.idp is None:
            raise CallbackError("This sign-in response is unknown or expired. Start again from your app.")
        if not self.browser_matches(flow, cookies):
            raise WrongBrowser(flow.id)
        if flow.status == "completed":
            return flow
        if flow.status != "awaiting_verification" or flow.is_expired(time.time()) or flow.code_verifier is None:
            raise CallbackError("This sign-in response was already used, or has expired. Start again from your app.")
        try:
            subject = await self._signed_in_subject(flow, params)
            return await self._verified(flow, subject)
        except UserMismatch:
            if isinstance(flow, ApprovalFlow):
                told = (
                    "You signed in as someone other than the user this call acts for, so it was not approved "
                    "and the tool will not run."
                )
                raise CallbackError(told, status=403, flow_id=flow.id, reason="not_approved") from None
            told = "You signed in as someone other than the user this link was made for. Nothing was connected."
            raise CallbackError(told, status=403, flow_id=flow.id) from None
        except CallbackError as exc:
            await self.vault.fail_flow(flow.id, str(exc))
            self.audit_failure(flow, str(exc))
            await self.finish(flow.id)
            raise

    async def _signed_in_subject(self, flow: Flow, params: Mapping[str, str]) -> str:
        idp = self.idp
        assert idp is not None and flow.code_verifier is not None
        if not issuer_matches(idp, params):  # RFC 9207: the response may be another server's (mix-up)
            raise CallbackError(
                "The sign-in response did not come from the expected issuer, so nothing was connected.", flow_id=flow.id
            )
        if params.get("error"):
            raise CallbackError(
                "The sign-in was declined or failed. Nothing was connected.", flow_id=flow.id, reason="declined"
            )
        code = params.get("code")
        if not code:
            raise CallbackError("The sign-in response has no code. Start again from your app.", flow_id=flow.id)
        try:
            tokens = await oauth2.exchange_code(
                idp,
                code=code,
                redirect_uri=self.sign_in_redirect_uri,
                code_verifier=flow.code_verifier,
                timeout=self.http_timeout,
            )
        except (OAuthError, ProviderUnavailable) as exc:
            raise CallbackError(f"The sign-in could not be checked: {exc}.", status=502, flow_id=flow.id) from None
        if self.idp_tokens is not None:
            try:
                info = await self.idp_tokens.claims(tokens.id_token, code_verifier=flow.code_verifier)
            except IdTokenRefused as exc:
                raise CallbackError(
                    f"The sign-in could not be trusted: {exc}. Nothing was connected; start again from your app.",
                    status=502,
                    flow_id=flow.id,
                ) from None
        else:
            # The userinfo answer to an access token we just obtained with our own client credentials and PKCE,
            # from the issuer's own endpoint: its `sub` is the signed-in user (OpenID Connect Core §5.3).
            info = await oauth2.fetch_user_info(idp, access_token=tokens.access_token, timeout=self.http_timeout)
        subject = info.get("sub")
        if not isinstance(subject, str) or not subject:
            raise CallbackError("The issuer did not say who signed in. Nothing was connected.", flow_id=flow.id)
        return subject


def _what(flow: Flow) -> str:
    return "approval" if isinstance(flow, ApprovalFlow) else "authorization"
