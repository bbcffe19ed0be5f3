"""End to end for a bundled toolkit: a stand-in of the provider's API on 127.0.0.1, the test provider playing
the provider's OAuth server, and a real `authmcp serve` with the toolkit loaded.

    with standin(app) as base_url:
        result, token = await authorize_and_call(stack_factory, provider_id="google", toolkit="toolkits.gmail",
                                                 settings_name="gmail", base_url=base_url,
                                                 tool="Gmail_ListEmails", arguments={"n_emails": 2})

The first call answers "authorization required", the person consents at the test provider, and the second
call runs the tool against the stand-in with the token authmcp stored (returned, so a test can check that the
stand-in saw exactly `Authorization: Bearer <token>`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack, authorize_in_browser, free_port, stored_tokens, texts


@contextlib.contextmanager
def standin(app: ASGIApp) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 in a thread for the duration; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the stand-in server did not start")
            thread.join(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


async def authorize_and_call(
    stack_factory: Any,
    *,
    provider_id: str,
    toolkit: str,
    settings_name: str,
    base_url: str,
    tool: str,
    arguments: dict[str, Any],
    provider_overrides: dict[str, Any] | None = None,
) -> tuple[Any, str]:
    """Run `tool` through the gate for a user with no connection yet; return the second call's result and the
    access token authmcp stored for that user."""
    stack: Stack = stack_factory()
    demo = stack.settings["providers"]["demo"]
    stack.settings["providers"][provider_id] = {
        **{k: v for k, v in demo.items() if k != "name"},
        "scopes": [],
        **(provider_overrides or {}),
    }
    stack.settings["toolkit_settings"] = {settings_name: {"api_base_url": base_url}}
    stack.start_http("--toolkit", toolkit)
    async with mcp_client(stack, "http") as client:
        first = await client.call_tool(tool, arguments)
        assert first.is_error and first.meta and first.meta.get("provider") == provider_id, texts(first)
        page = await authorize_in_browser(stack.provider, first.meta["url"], "alice")
        assert page.status_code == 200, page.text
        result = await client.call_tool(tool, arguments)
    access_token, _ = await stored_tokens(stack, "local-user", provider_id)
    return result, access_token
