from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcp_server.vault import Keyring
from tests.conftest import REPO


def run(*args: str, cwd: Path, columns: int = 200, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={**os.environ, "COLUMNS": str(columns), **({"HOME": str(home)} if home else {})},  # a shell's width
    )


def table_rows(stdout: str) -> dict[str, list[str]]:
    """`authmcp tools`' table: a heading per toolkit, a row per tool (indented), its description under it."""
    rows: dict[str, list[str]] = {}
    toolkit = ""
    for line in stdout.splitlines():
        if line and not line.startswith(" "):
            toolkit = line.split()[0]
        elif line.startswith("  ") and not line.startswith("      ") and line.split()[0] != "TOOL":
            rows[f"{toolkit}.{line.split()[0]}"] = line.split()[1:]
    return rows


def test_tools_lists_name_provider_scopes_and_secrets(tmp_path: Path) -> None:
    (tmp_path / "authmcp.toml").write_text(
        'toolkits = []\n[providers.demo]\nauthorize_url = "https://a/x"\ntoken_url = "https://a/t"\n'
    )
    result = run("tools", "--toolkit", str(REPO / "tests/support/sample_toolkit.py"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Sample (10 tools)" and lines[1].split() == ["TOOL", "PROVIDER", "SCOPES", "SECRETS", "READY"]
    assert "      Show which user and token the gate gave this call." in lines  # each tool's description
    rows = table_rows(result.stdout)
    # [providers.demo] has endpoints but no client_id: its tools cannot work yet, and the table says so
    assert rows["Sample.ShowToken"] == ["demo", "profile", "-", "no:", "provider", "not", "configured"]
    assert rows["Sample.NeedsMoreScopes"] == ["demo", "profile", "email", "-", "no:", "provider", "not", "configured"]
    assert rows["Sample.ReadSecret"] == ["-", "-", "SAMPLE_KEY", "yes", "(asks", "each", "user", "for", "SAMPLE_KEY)"]


UNKNOWN_PROVIDER_KIT = """
from mcp_server import tool, ToolContext
from mcp_server.auth import OAuth2

@tool(requires_auth=OAuth2(id="acme", scopes=["read"]))
async def whoami(context: ToolContext) -> str:
    \"\"\"Who the user is at Acme.\"\"\"
    return ""

@tool
def ping() -> str:
    \"\"\"Answers pong.\"\"\"
    return "pong"
"""


def test_tools_lists_a_tool_whose_provider_is_unknown_as_not_ready_saying_what_to_add(tmp_path: Path) -> None:
    (tmp_path / "authmcp.toml").write_text(f'toolkits = []\ndata_dir = "{tmp_path / "data"}"\n')
    (tmp_path / "kit.py").write_text(UNKNOWN_PROVIDER_KIT)
    table = run("tools", "--toolkit", str(tmp_path / "kit.py"), cwd=tmp_path)
    assert table.returncode == 0, table.stderr  # a diagnostic: listed, some not ready
    rows = table_rows(table.stdout)
    assert rows["Kit.Whoami"] == ["acme", "read", "-", "no:", "provider", "not", "configured"]
    assert rows["Kit.Ping"] == ["-", "-", "-", "yes"]
    (advice,) = table.stderr.strip().splitlines()
    assert "'acme' is neither in the catalogue nor configured" in advice and "add [providers.acme]" in advice
    assert "Traceback" not in table.stderr

    listed = run("tools", "--json", "--toolkit", str(tmp_path / "kit.py"), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    tools = {tool["name"]: tool for tool in json.loads(listed.stdout)}
    assert tools["Kit.Whoami"]["ready"] is False and tools["Kit.Whoami"]["provider_configured"] is False
    assert (
        "add [providers.acme] with authorize_url, token_url, client_id and client_secret"
        in tools["Kit.Whoami"]["reason"]
    )
    assert tools["Kit.Ping"]["ready"] is True and tools["Kit.Ping"]["reason"] is None

    # serving such a toolkit is still refused, in one line: its tool could never be authorized
    served = run("serve", "--port", "0", "--toolkit", str(tmp_path / "kit.py"), cwd=tmp_path)
    assert served.returncode == 2 and "add [providers.acme]" in served.stderr and "Traceback" not in served.stderr


def test_tools_are_grouped_by_toolkit_and_fit_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "authmcp.toml").write_text(f'data_dir = "{tmp_path / "data"}"\n')  # the bundled toolkits
    narrow = run("tools", cwd=tmp_path, columns=72)
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(map(len, lines)) <= 72  # Google's scope URLs and long descriptions are cut, marked with "…"
    headings = [line for line in lines if line and not line.startswith(" ")]
    assert "GitHub" in [heading.split()[0] for heading in headings] and len(headings) == len(set(headings))
    assert any(line.endswith("…") for line in lines)
    listed = json.loads(run("tools", "--json", cwd=tmp_path, columns=72).stdout)  # --json: whole, unchanged
    assert {"name", "provider", "scopes", "secrets", "ready", "reason"} <= set(listed[0])
    assert len(table_rows(narrow.stdout)) == len(listed)


def test_a_bad_toolkit_is_refused_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "kit.py").write_text("from mcp_server import tool\n@tool\ndef nodoc() -> str:\n    return ''\n")
    result = run("tools", "--toolkit", str(tmp_path / "kit.py"), cwd=tmp_path)
    assert result.returncode == 2
    assert "Toolkit 'Kit', tool 'Nodoc': it has no description" in result.stderr
    assert "Traceback" not in result.stderr


def test_keys_generate_prints_a_usable_key(tmp_path: Path) -> None:
    result = run("keys", "generate", cwd=tmp_path)
    assert result.returncode == 0
    keyring = Keyring([result.stdout.strip()])
    assert keyring.decrypt(keyring.encrypt("x", "c"), "c") == "x"


def test_http_without_authentication_refuses_a_public_interface(tmp_path: Path) -> None:
    (tmp_path / "authmcp.toml").write_text(f'toolkits = []\ndata_dir = "{tmp_path / "data"}"\n')
    result = run("serve", "--transport", "http", "--host", "0.0.0.0", "--port", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "without authentication" in result.stderr and "[mcp_auth]" in result.stderr


def test_without_a_configuration_file_the_commands_say_which_database_they_use(tmp_path: Path) -> None:
    """No --config, no AUTHMCP_CONFIG, no ./authmcp.toml: said on stderr, with the database, not silently."""
    listed = run("connections", "list", cwd=tmp_path, home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (notice,) = [line for line in listed.stderr.splitlines() if line.startswith("authmcp:")]
    assert notice.startswith("authmcp: no configuration file") and "AUTHMCP_CONFIG" in notice
    assert f"sqlite:///{tmp_path}/.local/share/authmcp/authmcp.db" in notice
    (tmp_path / "authmcp.toml").write_text(f'data_dir = "{tmp_path / "data"}"\n')
    configured = run("connections", "list", cwd=tmp_path, home=tmp_path)
    assert configured.returncode == 0 and "no configuration file" not in configured.stderr
