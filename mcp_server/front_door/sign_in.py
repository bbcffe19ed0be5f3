"""Who is in the browser: the sign-in at `[front_door] sign_in`, through the OAuth2 client every provider uses.

The browser goes to the provider with a state and PKCE S256 (the verifier sealed with the pending request) and,
for an OpenID provider, a nonce derived from that verifier; back at `/sign-in/callback` the state is taken once,
the response's `iss` checked (RFC 9207), the code exchanged. An OpenID provider's ID token is then verified
(providers/id_tokens.py: its JWKS signature, issuer, audience, expiry, and our nonce) and says who signed in; a
plain OAuth2 provider is read through its userinfo endpoint, as its own answer to an access token we just obtained
with our client credentials and PKCE. `user_claim` says which claim is the authmcp user id; `allowed_domains`
limits who may sign in by the domain of their email.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from mcp_server.errors import OAuthError, ProviderUnavailable
from mcp_server.providers import oauth2
from mcp_server.providers.id_tokens import IdTokenRefused, IdTokens, nonce_for
from mcp_server.providers.registry import Provider
from mcp_server.providers.rfc9207 import issuer_matches
from mcp_server.vault.front_door import FrontDoorStore, digest

__all__ = ["SignIn", "SignInError", "SignedIn", "sign_in_scopes"]

CALLBACK_PATH = "/sign-in/callback"


AGAIN = "Go back to your app and connect it to authmcp again."


class SignInError(Exception):
    """The sign-in did not show who is in the browser: what happened (the message) and what to do (`next_step`),
    for the person, in our words. `declined`: the person said no at the provider (not an error of anyone's)."""

    def __init__(self, message: str, *, status: int = 400, next_step: str = AGAIN, declined: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.next_step = next_step
        self.declined = declined


@dataclass(frozen=True, slots=True)
class SignedIn:
    request_id: str
    user_id: str
    email: str | None


class SignIn:
    def __init__(
        self,
        provider: Provider,
        store: FrontDoorStore,
        *,
        public_url: str,
        user_claim: str,
        allowed_domains: Sequence[str],
        timeout: float,
        id_tokens: IdTokens | None = None,
    ) -> None:
        self.provider = provider
        self.id_tokens = id_tokens  # an OpenID provider: its JWKS, its issuer, our client id as audience
        self.store = store
        self.redirect_uri = f"{public_url}{CALLBACK_PATH}"
        self.user_claim = user_claim
        self.allowed_domains = {d.lower().lstrip("@") for d in allowed_domains}
        self.timeout = timeout

    async def start(self, request_id: str, browser: str) -> str:
        """The provider's authorization URL for signing in to finish the pending request `request_id`, in the
        browser holding the cookie value `browser` (only that browser may finish it: no login CSRF)."""
        state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        secrets_ = {"request": request_id, "verifier": verifier, "browser": digest(browser)}
        await self.store.start_sign_in(request_id, state, secrets_)
        url = oauth2.authorization_url(
            self.provider,
            redirect_uri=self.redirect_uri,
            scopes=sign_in_scopes(self.provider),
            state=state,
            code_verifier=verifier,
        )
        return f"{url}&{urlencode({'nonce': nonce_for(verifier)})}" if self.id_tokens is not None else url

    async def finish(self, params: Mapping[str, str], browser: str | None) -> SignedIn:
        """The browser is back from the provider: who signed in, for which pending request.

        Raises:
            SignInError: The response is unknown, used, declined, from another issuer, or says nobody allowed.
        """
        state = params.get("state")
        taken = await self.store.take_sign_in(state) if state else None
        if taken is None:
            raise SignInError("This sign-in response is unknown, expired or already used.")
        sealed = taken[1]
        if not browser or not hmac.compare_digest(digest(browser), sealed.get("browser", "")):
            raise SignInError(
                "This sign-in was started in another browser, so nobody was signed in here.",
                status=403,
                next_step="Connect your app to authmcp again from this browser.",
            )
        if not issuer_matches(self.provider, params):  # mix-up: another server's response passed off as this one's
            raise SignInError("The sign-in response did not come from the expected provider. Nothing was connected.")
        if params.get("error") or not params.get("code"):
            raise SignInError(
                "The sign-in was declined or failed. Nothing was connected.",
                status=403,
                next_step="If that was a mistake, connect your app again and sign in.",
                declined=True,
            )
        try:
            tokens = await oauth2.exchange_code(
                self.provider,
                code=params["code"],
                redirect_uri=self.redirect_uri,
                code_verifier=sealed["verifier"],
                timeout=self.timeout,
            )
        except (OAuthError, ProviderUnavailable):
            raise SignInError(
                "The sign-in could not be checked with the provider.",
                status=502,
                next_step="Try again in a moment: connect your app to authmcp again.",
            ) from None
        info = await self._person(tokens.id_token, sealed["verifier"])
        if not info:
            info = await oauth2.fetch_user_info(self.provider, access_token=tokens.access_token, timeout=self.timeout)
        elif "email" not in info:  # the ID token says who; the email may be in userinfo only
            more = await oauth2.fetch_user_info(self.provider, access_token=tokens.access_token, timeout=self.timeout)
            info = {**info, **{k: v for k, v in more.items() if k in ("email", "email_verified")}}
        email = info.get("email") if isinstance(info.get("email"), str) else None
        user = info.get(self.user_claim)
        if not isinstance(user, str) or not user:
            raise SignInError("The provider did not say who signed in. Nothing was connected.", status=502)
        if self.allowed_domains:
            domain = email.rpartition("@")[2].lower() if email else ""
            if domain not in self.allowed_domains or info.get("email_verified") is False:
                raise SignInError(
                    "People of your email domain may not sign in here. Nothing was connected.",
                    status=403,
                    next_step="Sign in with an account of a domain this server allows, or ask whoever runs it.",
                )
        return SignedIn(request_id=sealed["request"], user_id=user, email=email)

    async def _person(self, id_token: str | None, code_verifier: str) -> dict[str, Any]:
        """An OpenID provider's ID token, verified (signature by its JWKS, `iss`, `aud` = our client, `exp`, and
        the nonce we sent), as its claims; {} for a plain OAuth2 provider (read through userinfo instead)."""
        if self.id_tokens is None:
            return {}
        try:
            return await self.id_tokens.claims(id_token, code_verifier=code_verifier)
        except IdTokenRefused as exc:
            raise SignInError(f"The sign-in could not be trusted: {exc}. Nothing was connected.", status=502) from None


def sign_in_scopes(provider: Provider) -> tuple[str, ...]:
    return provider.scopes or ("openid", "email")
