"""A toolkit with one tool that needs a secret each user enters on authmcp's page (a flow with no provider)."""

from __future__ import annotations

from mcp_server import ToolContext, tool

TOOLKIT_NAME = "Keeper"


@tool(requires_secrets=["KEEPER_CODE"])
def code_length(context: ToolContext) -> str:
    """How long the user's code is (never the code)."""
    return f"the code has {len(context.get_secret('KEEPER_CODE'))} characters"
