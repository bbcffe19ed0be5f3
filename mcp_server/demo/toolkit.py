"""The demo toolkit: one tool that asks the demo provider who the user is, with the user's own token.

toolkits = ["mcp_server.demo.toolkit"]
[providers.demo] ...                            # any OAuth 2.0 provider with a userinfo endpoint
[toolkit_settings.demo]
userinfo_url = "http://127.0.0.1:9000/userinfo"  # else $DEMO_USERINFO_URL, else this default
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from mcp_server import ToolContext, ToolExecutionError, raise_for_upstream_status, tool
from mcp_server._http import httpx2
from mcp_server.auth import OAuth2

TOOLKIT_NAME = "Demo"
DEFAULT_USERINFO_URL = "http://127.0.0.1:9000/userinfo"  # the demo provider as docs/walkthrough.md starts it


@tool(requires_auth=OAuth2(id="demo", scopes=["profile"]), read_only=True)
async def who_am_i(context: ToolContext) -> dict[str, Any]:
    """Ask the provider who the current user is, using their token. Returns the provider's profile of them."""
    url = context.get_setting("userinfo_url") or os.environ.get("DEMO_USERINFO_URL") or DEFAULT_USERINFO_URL
    try:
        async with contextlib.AsyncExitStack() as stack:
            http = context.http
            if http is None:
                http = await stack.enter_async_context(httpx2.AsyncClient(timeout=10))
            response = await http.get(url, headers={"Authorization": f"Bearer {context.get_auth_token_or_empty()}"})
    except httpx2.HTTPError:
        raise ToolExecutionError("The provider's userinfo endpoint could not be reached; try again later.") from None
    profile = raise_for_upstream_status(response, what="the user's profile").json()
    return {"user_id": context.user_id, "provider_profile": profile}
