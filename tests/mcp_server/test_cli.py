from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mcp_server.vault import Keyring
from tests.conftest import REPO


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def test_tools_lists_name_provider_scopes_and_secrets(tmp_path: Path) -> None:
    (tmp_path / "authmcp.toml").write_text(
        'toolkits = []\n[providers.demo]\nauthorize_url = "https://a/x"\ntoken_url = "https://a/t"\n'
    )
    result = run("tools", "--toolkit", str(REPO / "tests/support/sample_toolkit.py"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TOOL", "PROVIDER", "SCOPES", "SECRETS", "READY"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
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
    rows = {line.split()[0]: line.split()[1:] for line in table.stdout.splitlines()[1:]}
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
