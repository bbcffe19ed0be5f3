"""A toolkit with one destructive tool whose every run is one POST to a stand-in upstream, so a test can count
how often the tool really ran (`[toolkit_settings.outbox] url` names the stand-in, e.g. a `Receiver`)."""

from __future__ import annotations

from typing import Annotated

from mcp_server import ToolContext, raise_for_upstream_status, tool

TOOLKIT_NAME = "Outbox"


@tool  # no hints: destructive, as MCP's defaults say
async def send(context: ToolContext, recipient: Annotated[str, "Who receives it"], body: str) -> str:
    """Send a message: one request to the upstream per run."""
    assert context.http is not None
    response = await context.http.post(str(context.get_setting("url")), json={"to": recipient, "body": body})
    raise_for_upstream_status(response, what="the outbox")
    return f"sent to {recipient}"
