"""What a person does in Chromium during a flow, and what the tests ask authmcp for meanwhile."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page

from tests.conftest import REPO
from tests.e2e.clients import mcp_client
from tests.e2e.conftest import SIGN_IN_CLIENT_ID, SIGN_IN_CLIENT_SECRET, Stack
from tests.support.browser import page_text

SAMPLE_TOOLKIT = str(REPO / "tests" / "support" / "sample_toolkit.py")
API_KEY = "api-key-consent-3f9a"


def idp_stack(stack_factory: Any, *serve_args: str, **settings: Any) -> Stack:
    """A running authmcp with `[api] verification = "idp"`: the test provider is also the issuer users sign in at."""
    stack: Stack = stack_factory(provider_options={"sign_in_client": True}, **settings)
    stack.settings["mcp_auth"] = {"jwt_issuer": stack.provider.issuer, "jwks_url": stack.provider.jwks_uri}
    stack.settings["api"] = {
        "verification": "idp",
        "idp_client_id": SIGN_IN_CLIENT_ID,
        "idp_client_secret": SIGN_IN_CLIENT_SECRET,
    }
    stack.start_http(*serve_args)
    return stack


async def call(stack: Stack, token: str, tool: str = "Demo_WhoAmI") -> Any:
    async with mcp_client(stack, "http", token=token) as client:
        return await client.call_tool(tool, {})


async def link_for(stack: Stack, token: str, tool: str = "Demo_WhoAmI") -> str:
    """The authorization (or secret) link a tool call hands out to the user behind `token`."""
    result = await call(stack, token, tool)
    assert result.is_error and result.meta is not None, result
    return str(result.meta["url"])


async def open_page(context: BrowserContext, url: str) -> Page:
    page = await context.new_page()
    await page.goto(url)
    return page


async def answer_consent(page: Page, username: str, *, allow: bool = True) -> str:
    """At the test provider's sign-in and consent page: sign in as `username`, Allow (or Deny), and follow
    every redirect that follows. Returns the text of the page the browser lands on."""
    if allow:
        await page.fill('input[name="username"]', username)
    async with page.expect_navigation():
        await page.click(f'button[value="{"allow" if allow else "deny"}"]')
    return await page_text(page)


async def text_at(context: BrowserContext, url: str) -> str:
    return await page_text(await open_page(context, url))


def expire(stack: Stack, flow_id: str) -> None:
    """The flow's time runs out (as if the person came back an hour later: its lifetime is kept)."""
    with sqlite3.connect(Path(stack.settings["data_dir"]) / "authmcp.db") as db:
        db.execute(
            "update flows set created_at = created_at - 3600, expires_at = expires_at - 3600 where id = ?", (flow_id,)
        )


def flow_id_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]
