"""A tool that needs more of the demo provider than examples/whoami.py does (an incremental authorization)."""

from __future__ import annotations

from mcp_server import ToolContext, tool
from mcp_server.auth import OAuth2

TOOLKIT_NAME = "Wider"


@tool(requires_auth=OAuth2(id="demo", scopes=["profile", "email"]))
def granted(context: ToolContext) -> list[str]:
    """The scopes the user granted."""
    assert context.authorization is not None
    return list(context.authorization.scopes)
