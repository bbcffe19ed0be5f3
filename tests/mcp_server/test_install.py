"""`authmcp install <client>`: the entry printed or merged into the client's file, and that entry working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.conftest import REPO
from tests.e2e.conftest import free_port

EXAMPLE = REPO / "examples" / "authmcp.toml"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("client", ["claude-desktop", "cursor", "claude-code", "mcp-json"])
def test_dry_run_prints_an_entry_with_absolute_paths_and_changes_nothing(tmp_path: Path, client: str) -> None:
    result = run("install", client, "--dry-run", "--config", str(EXAMPLE), cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout)["mcpServers"]["authmcp"]
    command = Path(entry["command"])
    assert command.is_absolute() and command.exists()
    assert entry["args"][-3:] == ["serve", "--transport", "stdio"]
    assert entry["env"]["AUTHMCP_CONFIG"] == str(EXAMPLE)
    data_dir = Path(entry["env"]["AUTHMCP_DATA_DIR"])
    assert data_dir.is_absolute() and data_dir.name == "authmcp-demo"  # the example's data_dir, expanded
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_cursor_entry_is_merged_keeping_other_servers_and_the_old_file_is_backed_up(tmp_path: Path) -> None:
    config = tmp_path / ".cursor" / "mcp.json"
    config.parent.mkdir()
    before = {"mcpServers": {"github": {"command": "gh-mcp", "args": []}}, "other": {"keep": True}}
    config.write_text(json.dumps(before))
    result = run("install", "cursor", "--config", str(EXAMPLE), cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    after = json.loads(config.read_text())
    assert after["mcpServers"]["github"] == before["mcpServers"]["github"] and after["other"] == {"keep": True}
    assert after["mcpServers"]["authmcp"]["env"]["AUTHMCP_CONFIG"] == str(EXAMPLE)
    (backup,) = config.parent.glob("mcp.json.*.bak")
    assert json.loads(backup.read_text()) == before
    assert str(config) in result.stdout


def test_a_config_file_that_is_not_json_is_left_alone_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "claude_desktop_config.json"
    config.write_text("{ not json")
    result = run("install", "claude-desktop", "--file", str(config), cwd=tmp_path)
    assert result.returncode == 2 and config.read_text() == "{ not json"
    assert len(result.stderr.strip().splitlines()) == 1 and "not valid JSON" in result.stderr
    assert list(tmp_path.glob("*.bak")) == []


@pytest.mark.anyio
async def test_the_entry_for_the_example_configuration_serves_working_tools(tmp_path: Path) -> None:
    result = run("install", "mcp-json", "--config", str(EXAMPLE), "--port", str(free_port()), cwd=tmp_path)
    entry = json.loads(result.stdout)["mcpServers"]["authmcp"]
    env = {**os.environ, **entry["env"], "AUTHMCP_DATA_DIR": str(tmp_path / "data")}  # not the user's own
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env, cwd=tmp_path)
    with open(tmp_path / "stderr", "w") as errlog:
        with anyio.fail_after(60):
            async with Client(stdio_client(params, errlog=errlog)) as client:  # type: ignore[arg-type]
                tools = await client.list_tools()
    assert [tool.name for tool in tools.tools] == ["Demo_WhoAmI"]
    assert "Traceback" not in (tmp_path / "stderr").read_text()


def test_vscode_gets_its_own_shape_in_the_workspace_file(tmp_path: Path) -> None:
    """VS Code reads `servers` (not `mcpServers`), each with a `type`, from the folder's `.vscode/mcp.json`."""
    config = tmp_path / ".vscode" / "mcp.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"servers": {"other": {"type": "http", "url": "http://x.example/mcp"}}}))
    result = run("install", "vscode", "--config", str(EXAMPLE), cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    after = json.loads(config.read_text())
    assert "mcpServers" not in after and after["servers"]["other"]["type"] == "http"
    entry = after["servers"]["authmcp"]
    assert entry["type"] == "stdio" and entry["args"][-3:] == ["serve", "--transport", "stdio"]
    assert "MCP: List Servers" in result.stdout


def test_a_port_other_than_the_default_names_the_redirect_uri_to_register(tmp_path: Path) -> None:
    moved = run("install", "mcp-json", "--config", str(EXAMPLE), "--port", "8123", cwd=tmp_path)
    assert moved.returncode == 0 and json.loads(moved.stdout)["mcpServers"]["authmcp"]["args"][-2:] == [
        "--port",
        "8123",
    ]
    assert "register http://127.0.0.1:8123/oauth/callback at each provider" in moved.stderr
    default = run("install", "mcp-json", "--config", str(EXAMPLE), "--port", "8000", cwd=tmp_path)
    assert default.returncode == 0 and default.stderr == ""
