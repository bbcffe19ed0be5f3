"""What can stop a flow, as the front doors catch it: each is an `AuthmcpError` whose message is for the person."""

from __future__ import annotations

from typing import Literal

from mcp_server.errors import AuthmcpError

__all__ = [
    "CallbackError",
    "CallbackReason",
    "ConfirmationNotUsed",
    "FlowRefused",
    "FlowUnavailable",
    "UserMismatch",
    "WrongBrowser",
]


class FlowRefused(AuthmcpError):
    """A flow that asks for more than a flow may (too many scopes)."""


class FlowUnavailable(AuthmcpError):
    """A `/connect/<id>` link, or a confirmation, that is unknown, finished or expired."""


class ConfirmationNotUsed(FlowUnavailable):
    """`confirm_user` on a server whose verification is `idp`: authmcp signs the user in itself, nobody confirms."""


class UserMismatch(AuthmcpError):
    """User verification named someone other than the flow's user."""


CallbackReason = Literal["failed", "declined", "not_approved", "other_browser"]
"""Why a redirect back to us completed nothing, as the page that says so is chosen: `declined` (the person
said no at the provider or the issuer), `not_approved` (an approval whose confirmation or sign-in was not its
user's, or not in its browser), `other_browser` (`WrongBrowser`), `failed` (anything else)."""


class CallbackError(AuthmcpError):
    """A redirect back to us cannot complete a flow. `status` is the HTTP status to answer, `reason` the kind of
    failure (the page is chosen by it, never by the message's words)."""

    def __init__(
        self, message: str, *, status: int = 400, flow_id: str | None = None, reason: CallbackReason = "failed"
    ) -> None:
        super().__init__(message)
        self.status = status
        self.flow_id = flow_id
        self.reason: CallbackReason = reason


class WrongBrowser(CallbackError):
    """The request comes from a browser other than the one that opened the flow's link: nothing is done."""

    def __init__(self, flow_id: str) -> None:
        super().__init__(
            "This authorization was started in another browser. Finish it there, or go back to your app for a "
            "new link.",
            status=403,
            flow_id=flow_id,
            reason="other_browser",
        )
