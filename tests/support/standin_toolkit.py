"""A one-tool toolkit that calls a stand-in API with the user's token, for the toolkit harness's own test."""

from __future__ import annotations

from typing import Any

from mcp_server import ToolContext, raise_for_upstream_status, tool
from mcp_server.auth import OAuth2

TOOLKIT_NAME = "Standin"


@tool(requires_auth=OAuth2(id="demo", scopes=["profile"]))
async def profile(context: ToolContext) -> dict[str, Any]:
    """Fetch /profile from the configured API base URL."""
    assert context.http is not None
    response = await context.http.get(
        f"{context.get_setting('api_base_url')}/profile",
        headers={"Authorization": f"Bearer {context.get_auth_token_or_empty()}"},
    )
    return dict(raise_for_upstream_status(response, what="the profile").json())
