"""A flow bound to the browser that first opens its link: a cookie of its own, only its hash in the flow.

Only that browser can then finish the flow (the provider's callback, the secret form, an approval's answer, the
sign-in) or see how it went; any other browser is told the link was opened elsewhere and changes nothing.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.responses import Response

from mcp_server.authorization.verification import digest
from mcp_server.observability.audit import flow_ref

if TYPE_CHECKING:
    from mcp_server.vault import Flow, Vault

__all__ = ["BrowserAdmission", "BrowserBinding"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrowserAdmission:
    """What `open_in_browser` decided for a browser arriving at a flow's link."""

    flow: Flow
    ours: bool  # this browser holds the flow's cookie (or has just been given it)
    new_cookie: str | None = None  # a fresh cookie value to set, the first time


class BrowserBinding:
    """The browser half of `FlowService` (which inherits it)."""

    vault: Vault
    secure_cookies: bool  # an https public URL: cookies get the __Host- prefix (Secure, Path=/, no Domain)

    def browser_cookie(self, flow_id: str) -> str:
        """The name of the cookie that binds a flow to its browser (a digest: the flow id is not in it)."""
        name = f"authmcp-flow-{digest(flow_id)[:16]}"
        return f"__Host-{name}" if self.secure_cookies else name

    def browser_matches(self, flow: Flow, cookies: Mapping[str, str]) -> bool:
        value = cookies.get(self.browser_cookie(flow.id))
        return bool(value and flow.browser_hash and hmac.compare_digest(digest(value), flow.browser_hash))

    def form_token(self, admission: BrowserAdmission, cookies: Mapping[str, str]) -> str:
        """The CSRF token of a form on a flow's page: derived from the flow's browser cookie (HttpOnly, so no other
        site can read it or derive this), so only a page shown to that browser can post it."""
        cookie = admission.new_cookie or cookies.get(self.browser_cookie(admission.flow.id), "")
        return digest(f"csrf|{cookie}")[:32]

    def set_browser_cookie(self, response: Response, admission: BrowserAdmission) -> Response:
        """Give the browser that has just opened the link its cookie (no-op for a browser that has it already).

        SameSite=Lax, not Strict: the provider's or the issuer's redirect back to us is a cross-site navigation
        that must carry it.
        """
        if admission.new_cookie is not None:
            response.set_cookie(
                self.browser_cookie(admission.flow.id),
                admission.new_cookie,
                max_age=int(max(60.0, admission.flow.expires_at - time.time())),
                path="/",
                secure=self.secure_cookies,
                httponly=True,
                samesite="lax",
            )
        return response

    async def open_in_browser(
        self, flow_id: str, cookies: Mapping[str, str], *, bind: bool = True
    ) -> BrowserAdmission | None:
        """A browser arrives at a flow's link (`/connect/<id>`, `/approve/<id>`): bind a pending flow to the first
        browser that opens it.

        A second browser is told the link is in use elsewhere and changes nothing, so it can neither finish the
        flow nor break the first browser's attempt. Returns None for an unknown flow.
        """
        flow = await self.vault.get_flow(flow_id)
        if flow is None:
            return None
        if self.browser_matches(flow, cookies):
            return BrowserAdmission(flow, ours=True)
        if bind and flow.browser_hash is None and flow.status == "pending" and not flow.is_expired(time.time()):
            value = secrets.token_urlsafe(32)
            if await self.vault.bind_browser(flow.id, digest(value)):
                logger.info("flow %s opened in a browser", flow_ref(flow.id))
                bound = await self.vault.get_flow(flow.id)
                assert bound is not None
                return BrowserAdmission(bound, ours=True, new_cookie=value)
            flow = await self.vault.get_flow(flow.id) or flow  # another browser was quicker
        return BrowserAdmission(flow, ours=False)
