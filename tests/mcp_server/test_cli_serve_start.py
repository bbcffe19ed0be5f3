"""`authmcp serve` says at start, on stderr, which configuration file it read and which database it uses, for
every transport: a forgotten `--config` must not silently serve from another, empty database. With stdio the
line never reaches stdout, which carries JSON-RPC only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.ports import free_port
from tests.support.postgres import postgres_url  # noqa: F401  (fixture)
from tests.support.started import start_probe_stop

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHMCP_")}
    return {**env, "HOME": str(home), "AUTHMCP_TOOLKITS": "[]", **extra}


def said(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("authmcp: ")]


def serve_http(transport: str, *args: str, cwd: Path, env: dict[str, str]) -> str:
    """Start `authmcp serve` over HTTP, wait until /healthz answers, stop it with SIGTERM: its stderr."""
    port = free_port()
    stopped = start_probe_stop(
        [sys.executable, "-m", "mcp_server", "serve", "--transport", transport, "--port", str(port), *args],
        f"http://127.0.0.1:{port}/healthz",
        cwd=cwd,
        env=env,
        with_stdout=False,
    )
    assert stopped.status == 200 and stopped.code == 0, stopped.output
    return stopped.output


def test_stdio_without_a_configuration_file_says_so_on_stderr_and_keeps_stdout_for_json_rpc(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mcp_server", "serve", "--port", "0"],
        input=json.dumps(INITIALIZE) + "\n",  # then end of input: it answers and stops
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(tmp_path),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (notice,) = said(result.stderr)
    assert notice.startswith("authmcp: no configuration file") and "--config" in notice and "AUTHMCP_CONFIG" in notice
    assert f"sqlite:///{tmp_path}/.local/share/authmcp/authmcp.db" in notice
    replies = [json.loads(line) for line in result.stdout.splitlines()]  # nothing but JSON-RPC
    assert [reply["id"] for reply in replies] == [1] and "result" in replies[0]


def test_stdio_with_a_configuration_file_names_it_and_the_database(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "mine.toml"
    config.parent.mkdir()
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    result = subprocess.run(
        [sys.executable, "-m", "mcp_server", "serve", "--port", "0"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(tmp_path, AUTHMCP_CONFIG=str(config)),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert said(result.stderr) == [
        f"authmcp: configuration {config}, database sqlite:///{tmp_path / 'data' / 'authmcp.db'}."
    ]
    assert result.stdout == ""


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_http_and_sse_name_the_configuration_file_and_the_database(tmp_path: Path, transport: str) -> None:
    config = tmp_path / "authmcp.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    stderr = serve_http(transport, "--config", str(config), cwd=tmp_path, env=clean_env(tmp_path))
    assert said(stderr) == [f"authmcp: configuration {config}, database sqlite:///{tmp_path / 'data' / 'authmcp.db'}."]


def test_http_without_a_configuration_file_says_so(tmp_path: Path) -> None:
    env = clean_env(tmp_path, AUTHMCP_DATA_DIR=str(tmp_path / "data"))
    (notice,) = said(serve_http("http", cwd=tmp_path, env=env))
    assert notice.startswith("authmcp: no configuration file") and "--config FILE or AUTHMCP_CONFIG=FILE" in notice
    assert f"the database sqlite:///{tmp_path / 'data' / 'authmcp.db'}" in notice


def test_a_postgresql_database_is_named_without_its_password(tmp_path: Path, postgres_url: str) -> None:
    url = make_url(postgres_url).set(password="never-shown-pw")
    config = tmp_path / "authmcp.toml"
    full = url.render_as_string(hide_password=False)
    config.write_text(f'data_dir = "{tmp_path / "data"}"\ndatabase_url = "{full}"\n')
    env = clean_env(tmp_path)
    upgraded = subprocess.run(
        [sys.executable, "-m", "mcp_server", "db", "upgrade", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    stderr = serve_http("http", "--config", str(config), cwd=tmp_path, env=env)
    assert "never-shown-pw" not in stderr
    shown = url.render_as_string(hide_password=True)
    assert said(stderr) == [f"authmcp: configuration {config}, database {shown}."]
