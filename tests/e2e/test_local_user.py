"""The single-user HTTP surface belongs to the OS user who started authmcp, and only its own origin can post.

Two attackers on the same computer:
- another OS user, who reaches 127.0.0.1 like everyone (played by `nobody`: the test must run as root to become
  it, as CI does);
- a page served on another loopback port, opened in the local user's own browser, which shares cookies across
  ports and so can plant the home page's CSRF cookie.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest
from playwright.async_api import Browser

from tests.e2e.clients import mcp_client
from tests.e2e.conftest import Stack
from tests.e2e.test_home_pages import connect, stored_providers

pytestmark = pytest.mark.anyio

NOBODY = 65534
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "other", "version": "1"}},
}


def as_another_user(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, str]:
    """A request made by a process of another OS user (curl run as `nobody`): its status and body."""
    if os.geteuid() != 0:
        pytest.skip("playing another OS user needs root (to become nobody); CI runs as root")
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is missing: install it (`apt-get install -y curl`)")
    args = [curl, "-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, url]
    if body is not None:
        args += [
            "-H",
            "content-type: application/json",
            "-H",
            "accept: application/json, text/event-stream",
            "--data",
            json.dumps(body),
        ]
    done = subprocess.run(args, user=NOBODY, group=NOBODY, capture_output=True, text=True, timeout=30, cwd="/")
    assert done.returncode == 0, done.stderr
    text, _, status = done.stdout.rpartition("\n")
    return int(status), text


async def test_another_os_user_can_neither_see_nor_call_nor_revoke(stack: Stack) -> None:
    stack.start_http()
    await connect(stack, "alice")

    listed = as_another_user("GET", f"{stack.base_url}/connections")
    called = as_another_user("POST", f"{stack.base_url}/mcp", INITIALIZE)
    revoked = as_another_user("POST", f"{stack.base_url}/connections/demo/revoke")
    for status, body in (listed, called, revoked):
        assert status == 403 and "only the operating-system user who started it" in body
        assert "Demo provider" not in body and "serverInfo" not in body
    assert await stored_providers(stack, "local-user") == ["demo"]
    assert "refused a connection from another OS user (uid 65534)" in stack.output()

    async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as own:  # the user who started it
        assert "Demo provider" in (await own.get("/connections")).text


async def test_another_os_user_is_refused_by_the_pages_beside_stdio(stack: Stack) -> None:
    async with mcp_client(stack, "stdio") as client:  # its pages listen on the stack's port
        await client.list_tools()
        status, body = as_another_user("GET", f"{stack.base_url}/connections")
        assert status == 403 and "only the operating-system user who started it" in body
        async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as own:
            assert (await own.get("/connections")).status_code == 200


@pytest.fixture
def other_port_site() -> Iterator[tuple[str, list[str]]]:
    """A site on another loopback port whose page plants the CSRF cookie and posts Revoke to `?target=`."""
    hits: list[str] = []

    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            target = self.path.partition("?target=")[2]
            hits.append(self.path)
            body = (
                # a less specific path than the real cookie's: sent after it, so it is the value the server reads
                "<script>document.cookie='authmcp_csrf=planted; path=/';</script>"
                f'<form id="f" method="post" action="{target}/connections/demo/revoke">'
                '<input name="csrf" value="planted"></form>'
                "<script>document.getElementById('f').submit()</script>"
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_a_page_on_another_loopback_port_cannot_revoke(
    stack: Stack, chromium: Browser, other_port_site: tuple[str, list[str]]
) -> None:
    stack.start_http()
    await connect(stack, "alice")
    site, hits = other_port_site
    page = await chromium.new_page()
    await page.goto(f"{stack.base_url}/connections")  # the user has the page open: a real CSRF cookie is set
    await page.goto(f"{site}/?target={stack.base_url}")  # its form posts at once
    await page.wait_for_url(lambda url: url.startswith(stack.base_url), wait_until="load")
    assert hits and "requests from that origin are not accepted" in await page.inner_text("body")
    assert await stored_providers(stack, "local-user") == ["demo"]


async def test_a_planted_csrf_cookie_does_not_make_a_token(stack: Stack) -> None:
    """Even with our own Origin, a cookie value the attacker chose and repeated in the form is no token."""
    stack.start_http()
    await connect(stack, "alice")
    async with httpx2.AsyncClient(base_url=stack.base_url, trust_env=False) as browser:
        browser.cookies.set("authmcp_csrf", "planted", domain="127.0.0.1", path="/connections")
        posted = await browser.post(
            "/connections/demo/revoke", data={"csrf": "planted"}, headers={"Origin": stack.base_url}
        )
    assert posted.status_code == 403 and "Open Your connections again" in posted.text
    assert await stored_providers(stack, "local-user") == ["demo"]
