"""The MCP Inspector's CLI against authmcp over stdio, configured through AUTHMCP_CONFIG (the Inspector owns
`--config`). A one-shot client: each run starts authmcp, makes one request and exits.

The Inspector is pinned in tests/e2e/inspector/package.json; .ci/run installs it where npm exists.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.e2e.conftest import Stack, authorize_in_browser

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
