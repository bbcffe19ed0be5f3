"""Browser-based OAuth clients (the MCP Inspector's web UI, for one) at the front door, from a page of another
origin in Chromium: real preflights.

- the public metadata (RFC 9728, RFC 8414): readable from any origin, never with credentials;
- /register and /token: callable from any origin; they take no cookie, so another origin gains nothing a direct
  request would not;
- the pages that use the sign-in cookie, and /mcp: same-origin only, as before (403 to a foreign Origin).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx2
import pytest
from playwright.async_api import Browser, Page

from tests.e2e.conftest import Stack
from tests.e2e.front_door_steps import REDIRECT_URI, front_door_stack
from tests.support.receiver import serve_in_thread, stop_server

FOREIGN_PAGE = b"<!doctype html><title>another origin</title><p>a browser-based client"


@pytest.fixture
def foreign_origin() -> Iterator[str]:
    """A page on another origin (another port of 127.0.0.1): where a browser-based client would run."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(FOREIGN_PAGE)))
            self.end_headers()
            self.wfile.write(FOREIGN_PAGE)

    server = serve_in_thread(Handler)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    stop_server(server)


async def fetch(page: Page, url: str, **init: Any) -> dict[str, Any]:
    """`fetch(url, init)` in the page: its status and body, or the browser's refusal (a CORS failure reads as a
    TypeError, the answer withheld from the page)."""
    found: dict[str, Any] = await page.evaluate(
        """async ([url, init]) => {
            try {
                const answer = await fetch(url, init);
                return {status: answer.status, body: await answer.text()};
            } catch (error) {
                return {refused: String(error)};
            }
        }""",
        [url, init],
    )
    return found


async def post(page: Page, url: str, content_type: str, body: str) -> dict[str, Any]:
    """A POST from the page, preflighted (the MCP-Protocol-Version header is not CORS-safelisted)."""
    headers = {"Content-Type": content_type, "MCP-Protocol-Version": "2025-11-25"}
    return await fetch(page, url, method="POST", headers=headers, body=body)


def preflight(door: Stack, path: str, method: str) -> httpx2.Response:
    """The OPTIONS request a browser sends first, from another origin."""
    asked = {
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type,mcp-protocol-version",
    }
    return httpx2.options(
        f"{door.base_url}{path}", headers={"Origin": "https://inspector.example", **asked}, timeout=10
    )


@pytest.fixture
def door(stack_factory: Any) -> Stack:
    return front_door_stack(stack_factory)


@pytest.mark.anyio
async def test_a_page_of_another_origin_reads_the_metadata_registers_and_reaches_the_token_endpoint(
    door: Stack, chromium: Browser, foreign_origin: str
) -> None:
    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(foreign_origin)
    # a header outside the CORS-safelisted ones makes each of these a preflighted request
    versioned = {"MCP-Protocol-Version": "2025-11-25"}
    resource = await fetch(page, f"{door.base_url}/.well-known/oauth-protected-resource/mcp", headers=versioned)
    assert resource.get("status") == 200 and door.base_url in resource["body"], resource
    server = await fetch(page, f"{door.base_url}/.well-known/oauth-authorization-server", headers=versioned)
    assert server.get("status") == 200 and '"client_id_metadata_document_supported":true' in server["body"], server
    registered = await post(
        page,
        f"{door.base_url}/register",
        "application/json",
        json.dumps({"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}),
    )
    assert registered.get("status") == 201 and '"client_id"' in registered["body"], registered
    form = "grant_type=authorization_code&code=nope&code_verifier=" + "v" * 43
    refused_code = await post(page, f"{door.base_url}/token", "application/x-www-form-urlencoded", form)
    assert refused_code.get("status") in (400, 401) and '"error"' in refused_code["body"], refused_code
    await context.close()


@pytest.mark.anyio
async def test_the_cookie_pages_and_mcp_stay_same_origin(door: Stack, chromium: Browser, foreign_origin: str) -> None:
    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(foreign_origin)
    for path in ("/connections", "/authorize/continue?request=x"):
        found = await fetch(page, f"{door.base_url}{path}", credentials="include")
        assert "refused" in found, (path, found)
    mcp = await fetch(
        page,
        f"{door.base_url}/mcp",
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
        body="{}",
    )
    assert "refused" in mcp, mcp
    await context.close()


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/.well-known/oauth-protected-resource/mcp", "GET"),
        ("/.well-known/oauth-authorization-server", "GET"),
        ("/register", "POST"),
        ("/token", "POST"),
        ("/revoke", "POST"),
    ],
)
def test_a_preflight_to_an_oauth_endpoint_allows_any_origin_without_credentials(
    door: Stack, path: str, method: str
) -> None:
    answer = preflight(door, path, method)
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == "*"
    assert method in answer.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.parametrize("path", ["/connections", "/authorize/decide", "/mcp", "/sign-in/callback"])
def test_a_preflight_to_a_cookie_page_or_mcp_from_another_origin_is_refused(door: Stack, path: str) -> None:
    answer = preflight(door, path, "POST")
    assert answer.status_code == 403 and "access-control-allow-origin" not in answer.headers
