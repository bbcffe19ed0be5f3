"""A one-tool toolkit for trying authmcp with any OAuth 2.0 provider that has a userinfo endpoint.

    authmcp serve --toolkit examples/whoami.py --config examples/authmcp.toml

It needs a provider configured as `[providers.demo]`; `DEMO_USERINFO_URL` says where its userinfo endpoint
is (default: the test authorization server's, http://127.0.0.1:9000/userinfo).
"""

from __future__ import annotations

import os
from typing import Any

import httpx2

from mcp_server import ToolContext, ToolExecutionError, raise_for_upstream_status, tool
from mcp_server.auth import OAuth2

TOOLKIT_NAME = "Demo"


@tool(requires_auth=OAuth2(id="demo", scopes=["profile"]))
async def who_am_i(context: ToolContext) -> dict[str, Any]:
    """Ask the provider who the current user is, using their token. Returns the provider's profile of them."""
    url = os.environ.get("DEMO_USERINFO_URL", "http://127.0.0.1:9000/userinfo")
    async with httpx2.AsyncClient(timeout=10) as client:
        try:
            response = await client.get(url, headers={"Authorization": f"Bearer {context.get_auth_token_or_empty()}"})
        except httpx2.HTTPError:
            raise ToolExecutionError("The provider's userinfo endpoint could not be reached; try again later.") from None
    profile = raise_for_upstream_status(response, what="the user's profile").json()
    return {"user_id": context.user_id, "provider_profile": profile}
