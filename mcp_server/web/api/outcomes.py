"""authmcp's outcomes in Arcade's terms: a flow's status, a tool's failure as an error kind, a connection as a
completed authorization."""

from __future__ import annotations

import time
from typing import Literal

from mcp_server.errors import RetryableToolError, ToolExecutionError, UpstreamError
from mcp_server.vault import Connection, Flow
from mcp_server.vault.flow_records import OPEN_STATUSES
from mcp_server.web.api.models import AuthorizationResponse, ErrorKind, ToolError, ToolOutput

__all__ = ["ALREADY_COMPLETED_ID", "completed", "failure", "flow_status", "tool_error"]

# The id of an authorization that needed no flow (nothing required, or already connected). Arcade's clients
# need some id to wait on; status answers "completed" for it. Flow ids are 32 characters, so it never collides.
ALREADY_COMPLETED_ID = "completed"


def flow_status(flow: Flow) -> Literal["pending", "completed", "failed"]:
    if flow.status in ("completed", "used"):  # "used": an approval whose call has run
        return "completed"
    if flow.status in OPEN_STATUSES and not flow.is_expired(time.time()):
        return "pending"  # exchanging and awaiting_verification too: the user is not connected yet
    return "failed"


def _upstream_kind(status_code: int) -> ErrorKind:
    if status_code in (401, 403):
        return "UPSTREAM_RUNTIME_AUTH_ERROR"
    if status_code >= 500:
        return "UPSTREAM_RUNTIME_SERVER_ERROR"
    kinds: dict[int, ErrorKind] = {
        400: "UPSTREAM_RUNTIME_BAD_REQUEST",
        404: "UPSTREAM_RUNTIME_NOT_FOUND",
        422: "UPSTREAM_RUNTIME_VALIDATION_ERROR",
        429: "UPSTREAM_RUNTIME_RATE_LIMIT",
    }
    return kinds.get(status_code, "UPSTREAM_RUNTIME_UNMAPPED")


def tool_error(exc: ToolExecutionError) -> ToolError:
    """A tool's expected failure in Arcade's error kinds; the message is the tool's own, meant for the model."""
    retry_after = exc.retry_after if isinstance(exc, RetryableToolError) else None
    if isinstance(exc, UpstreamError):
        kind, status_code = _upstream_kind(exc.status_code), exc.status_code
    else:
        kind, status_code = (
            ("TOOL_RUNTIME_RETRY" if isinstance(exc, RetryableToolError) else "TOOL_RUNTIME_FATAL"),
            None,
        )
    return ToolError(
        kind=kind,
        message=str(exc),
        can_retry=isinstance(exc, RetryableToolError) or kind == "UPSTREAM_RUNTIME_SERVER_ERROR",
        retry_after_ms=round(retry_after * 1000) if retry_after is not None else None,
        status_code=status_code,
    )


def completed(user_id: str, connection: Connection) -> AuthorizationResponse:
    return AuthorizationResponse(
        id=ALREADY_COMPLETED_ID,
        status="completed",
        provider_id=connection.provider_id,
        scopes=list(connection.scopes),
        user_id=user_id,
    )


def failure(kind: ErrorKind, message: str, *, can_retry: bool = False) -> ToolOutput:
    return ToolOutput(error=ToolError(kind=kind, message=message, can_retry=can_retry))
