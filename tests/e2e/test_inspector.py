"""The MCP Inspector against authmcp: its CLI over stdio, configured through AUTHMCP_CONFIG (the Inspector owns
`--config`), a one-shot client (each run starts authmcp, makes one request and exits); and its web UI in Chromium,
through its proxy, connecting to `authmcp serve --transport http` by the front door's OAuth flow.

The Inspector is pinned in tests/e2e/inspector/package.json (0.18.0: 0.17.2's proxy crashed with "Controller is
already closed" when a server ended the standalone SSE stream, modelcontextprotocol/inspector#940); .ci/run
installs it where npm exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from playwright.async_api import Browser

from tests.e2e.browser_steps import answer_consent
from tests.e2e.conftest import Stack, authorize_in_browser
from tests.e2e.front_door_steps import front_door_stack
from tests.support.ports import free_port

pytestmark = pytest.mark.anyio

INSPECTOR = Path(__file__).resolve().parent / "inspector" / "node_modules" / ".bin" / "mcp-inspector"


@pytest.fixture
def inspector() -> Path:
    if not INSPECTOR.exists():
        pytest.skip(
            "the MCP Inspector is not installed: `npm install --prefix tests/e2e/inspector` (.ci/run does it "
            "where npm exists)"
        )
    return INSPECTOR


def inspect(inspector: Path, stack: Stack, *method: str) -> dict[str, Any]:
    command = [
        str(inspector),
        "--cli",
        "-e",
        f"AUTHMCP_CONFIG={stack.config_path}",
        "-e",
        "PYTHONUNBUFFERED=1",
        sys.executable,
        "-m",
        "mcp_server",
        "serve",
        "--port",
        str(stack.port),
        "--method",
        *method,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


async def test_the_inspector_lists_and_calls_a_tool_and_its_link_outlives_it(
    stack_factory: Any, inspector: Path
) -> None:
    stack = stack_factory(toolkits=["mcp_server.demo.toolkit"])
    # the Inspector passes the server only the variables it is given: the toolkit learns the URL from the file
    stack.settings["toolkit_settings"] = {"demo": {"userinfo_url": stack.provider.userinfo_endpoint}}
    listed = await anyio.to_thread.run_sync(lambda: inspect(inspector, stack, "tools/list"))
    assert [tool["name"] for tool in listed["tools"]] == ["Demo_WhoAmI"]

    first = await anyio.to_thread.run_sync(
        lambda: inspect(inspector, stack, "tools/call", "--tool-name", "Demo_WhoAmI")
    )
    assert first["isError"] is True
    url = first["_meta"]["url"]
    assert url.startswith(f"{stack.base_url}/connect/")
    # The Inspector and the authmcp it started are gone; the link still works.
    page = await authorize_in_browser(stack.provider, url, "dave")
    assert page.status_code == 200 and "Connected to Demo provider" in page.text

    second = await anyio.to_thread.run_sync(
        lambda: inspect(inspector, stack, "tools/call", "--tool-name", "Demo_WhoAmI")
    )
    assert second.get("isError") is not True, second
    assert second["structuredContent"]["provider_profile"]["sub"] == "dave"


@contextlib.contextmanager
def inspector_web_ui(inspector: Path, tmp: Path) -> Iterator[str]:
    """The Inspector's web UI and its proxy, started as `npx @modelcontextprotocol/inspector` would (no browser
    opened); its address, once it answers."""
    client_port, server_port = free_port(), free_port()
    env = {
        **os.environ,
        "CLIENT_PORT": str(client_port),
        "SERVER_PORT": str(server_port),
        "HOST": "localhost",
        "MCP_AUTO_OPEN_ENABLED": "false",
        "DANGEROUSLY_OMIT_AUTH": "true",  # the proxy's own session token: the test drives the UI directly
    }
    log = (tmp / "inspector.log").open("wb")
    process = subprocess.Popen(
        [str(inspector)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
    )
    # the UI finds its proxy through this query parameter (it would try the default port 6277 otherwise)
    url = f"http://localhost:{client_port}/?MCP_PROXY_FULL_ADDRESS=http://localhost:{server_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp / "inspector.log").read_text()
            try:
                if httpx2.get(url, timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, (tmp / "inspector.log").read_text()
            time.sleep(0.2)  # polled until it answers, above
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


async def test_the_inspector_web_ui_connects_through_the_front_door_and_lists_tools(
    stack_factory: Any, inspector: Path, chromium: Browser, tmp_path: Path
) -> None:
    """The Inspector's web UI in Chromium, through its proxy: its own OAuth flow (discovery, dynamic registration,
    sign-in at the front door's provider, consent, the code exchanged from the page's origin), then tools/list."""
    stack = front_door_stack(stack_factory)
    with inspector_web_ui(inspector, tmp_path) as ui:
        context = await chromium.new_context()
        page = await context.new_page()
        seen: list[str] = []  # what the page asked for and logged: the failure's explanation
        page.on("console", lambda message: seen.append(message.text.split("\n")[0]))
        page.on("request", lambda request: seen.append(f"{request.method} {request.url}"))
        try:
            await page.goto(f"{ui}&transport=streamable-http&serverUrl={stack.base_url}/mcp")
            # through the proxy, authmcp's 401 reaches the UI as a proxy error ("Did you add the proxy session
            # token"), so the UI's own OAuth flow is started from its Auth Settings
            await page.get_by_role("button", name="Open Auth Settings").click()
            await page.get_by_role("button", name="Quick OAuth Flow").click()
            await page.wait_for_url(f"{stack.provider.base_url}/**", timeout=30_000)  # sent on by the front door
            await answer_consent(page, "alice")
            await page.click('button[value="approve"]')  # authmcp's consent page
            await page.wait_for_url(f"{ui.split('/?')[0]}/**", timeout=30_000)  # back at the Inspector
            await page.get_by_role("button", name="Connect", exact=True).click()
            await page.get_by_role("tab", name="Tools").click()
            await page.get_by_role("button", name="List Tools").click()
            await page.get_by_text("Demo_WhoAmI").first.wait_for(timeout=30_000)
        except Exception as exc:
            raise AssertionError("\n".join(seen[-40:]) + "\n---\n" + (await page.inner_text("body"))[:2000]) from exc
        assert any(line.startswith(f"POST {stack.base_url}/register") for line in seen)  # from the page's origin
        assert any(line.startswith(f"POST {stack.base_url}/token") for line in seen)
        await context.close()
