from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mcp_server.vault import Keyring
from tests.conftest import REPO


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcp_server", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


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
