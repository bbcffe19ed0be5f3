"""What can stop a flow, as the front doors catch it: each is an `AuthmcpError` whose message is for the person."""

from __future__ import annotations

from mcp_server.errors import AuthmcpError

__all__ = ["CallbackError", "FlowRefused", "FlowUnavailable", "UserMismatch", "WrongBrowser"]


class FlowRefused(AuthmcpError):
    """A flow that asks for more than a flow may (too many scopes)."""


class FlowUnavailable(AuthmcpError):
    """A `/connect/<id>` link, or a confirmation, that is unknown, finished or expired."""


class UserMismatch(AuthmcpError):
    """User verification named someone other than the flow's user."""


class CallbackError(AuthmcpError):
    """A redirect back to us cannot complete a flow. `status` is the HTTP status to answer."""

    def __init__(self, message: str, *, status: int = 400, flow_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.flow_id = flow_id


class WrongBrowser(CallbackError):
    """The request comes from a browser other than the one that opened the flow's link: nothing is done."""

    def __init__(self, flow_id: str) -> None:
        super().__init__(
            "This authorization was started in another browser. Finish it there, or go back to your app for a "
            "new link.",
            status=403,
            flow_id=flow_id,
        )
