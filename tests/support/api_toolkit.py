"""A stand-in Gmail toolkit for the `/v1` API's tests, so Arcade's documented snippet runs word for word.

`Gmail.ListEmails` really uses the user's token: its "mailbox" is the user's profile at the test provider
(`DEMO_USERINFO_URL`). The other tools have no requirements and exist to exercise the API's edges.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

import httpx2

from mcp_server import (
    RetryableToolError,
    ToolContext,
    ToolExecutionError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
    tool,
)
from mcp_server.auth import OAuth2

TOOLKIT_NAME = "Gmail"


@tool(requires_auth=OAuth2(id="demo", scopes=["profile"]))
async def list_emails(
    context: ToolContext, n_emails: Annotated[int, "How many emails to list"] = 5
) -> list[dict[str, Any]]:
    """List the user's most recent emails (made up from their profile at the provider, read with their token)."""
    url = os.environ.get("DEMO_USERINFO_URL", "http://127.0.0.1:9000/userinfo")
    async with httpx2.AsyncClient(timeout=10, trust_env=False) as client:
        response = await client.get(url, headers={"Authorization": f"Bearer {context.get_auth_token_or_empty()}"})
    if response.status_code == 401:
        raise UpstreamAuthError()
    if response.status_code != 200:
        raise UpstreamError(f"The mailbox answered HTTP {response.status_code}.", status_code=response.status_code)
    profile = response.json()
    return [
        {"id": f"{profile['sub']}-{i}", "to": profile["email"], "subject": f"Message {i} for {profile['sub']}"}
        for i in range(n_emails)
    ]


@tool
def send_email(
    recipient: Annotated[str, "Who receives the email"],
    subject: str,
    body: str = "",
    cc: Annotated[list[str] | None, "Who else receives a copy"] = None,
    priority: Literal["low", "normal", "high"] = "normal",
    importance: float = 1.0,
    urgent: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Pretend to send an email; returns what would be sent."""
    return {"sent_to": [recipient, *(cc or [])], "subject": subject, "priority": priority, "urgent": urgent}


@tool
def fail(
    kind: Literal["rate_limit", "server_error", "not_found", "retry", "expected", "crash", "unserializable"],
    retry_after: float | None = None,
) -> Any:
    """Fail the way the Gmail API (or a tool) can: `kind` says how."""
    if kind == "rate_limit":
        raise UpstreamRateLimitError("Gmail is rate limiting this user.", retry_after=retry_after)
    if kind == "server_error":
        raise UpstreamError("Gmail had a server error.", status_code=503)
    if kind == "not_found":
        raise UpstreamError("That message does not exist.", status_code=404)
    if kind == "retry":
        raise RetryableToolError("The mailbox is busy; try again.", retry_after=retry_after)
    if kind == "expected":
        raise ToolExecutionError("The label does not exist.")
    if kind == "unserializable":
        return object()
    raise RuntimeError("internal detail /etc/secret-path")


@tool(requires_secrets=["GMAIL_RELAY_KEY"])
def relay_status(context: ToolContext) -> int:
    """How long the relay key is (never the key)."""
    return len(context.get_secret("GMAIL_RELAY_KEY"))
