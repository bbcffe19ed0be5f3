"""Every mistake a person can make on the command line ends with one line saying what to do, and a non-zero
exit; never a traceback. And the small things the CLI owes: --version, --json, the database it read."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("authmcp: "), result.stderr
    assert "Traceback" not in result.stderr and all(word in lines[0] for word in words), lines[0]


CONFIGS = {
    "bad.toml": "port = [\n",
    "typo.toml": "flow_ttl_secnds = 60\n",
    "types.toml": 'flow_ttl_seconds = "soon"\n',
    # nothing listens on port 1: the database cannot be reached, and its password is never shown
    "pg.toml": 'database_url = "postgresql://u:pw-never-shown@127.0.0.1:1/x"\n',
}


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        pytest.param(("serve", "--port", "99999"), {}, ("99999", "0 to 65535"), id="port-out-of-range"),
        pytest.param(("serve", "--port", "-1"), {}, ("-1",), id="negative-port"),
        pytest.param(("serve", "--port", "0"), {"AUTHMCP_DATA_DIR": "{file}"}, ("data dir",), id="data-dir-is-a-file"),
        pytest.param(
            ("connections", "list"), {"AUTHMCP_DATA_DIR": "{file}"}, ("data_dir",), id="list-data-dir-is-a-file"
        ),
        pytest.param(
            ("connections", "list"), {"AUTHMCP_DATA_DIR": "{file}/sub"}, ("data_dir",), id="data-dir-under-a-file"
        ),
        pytest.param(
            ("connections", "list"),
            {"AUTHMCP_DATABASE_URL": "sqlite:////proc/no/such/dir/a.db"},
            ("database",),
            id="database-folder-cannot-exist",
        ),
        pytest.param(
            ("tools", "--config", "{tmp}/missing.toml"), {}, ("missing.toml", "--config"), id="missing-config"
        ),
        pytest.param(
            ("tools",), {"AUTHMCP_CONFIG": "{tmp}/missing.toml"}, ("AUTHMCP_CONFIG",), id="missing-config-env"
        ),
        pytest.param(("tools", "--config", "{tmp}"), {}, ("directory",), id="config-is-a-directory"),
        pytest.param(
            ("tools", "--toolkit", "{tmp}/nope.py"), {"AUTHMCP_TOOLKITS": "[]"}, ("nope.py",), id="missing-toolkit"
        ),
        pytest.param(("install", "zed"), {}, ("zed", "claude-desktop"), id="unknown-client"),
        # the command line itself: Click's usage box would be several lines
        pytest.param(("frobnicate",), {}, ("No such command 'frobnicate'", "authmcp --help"), id="unknown-command"),
        pytest.param(("keys", "frob"), {}, ("'frob'", "authmcp keys --help"), id="unknown-subcommand"),
        pytest.param(("serve", "--bogus"), {}, ("--bogus", "authmcp serve --help"), id="unknown-option"),
        pytest.param(("serve", "--port", "abc"), {}, ("--port", "integer"), id="port-not-a-number"),
        pytest.param(("connections", "revoke"), {}, ("Missing argument",), id="missing-argument"),
        pytest.param(("audit", "--limit", "0"), {}, ("--limit", "1"), id="limit-below-1"),
        pytest.param(("audit", "--since", "yesterday"), {}, ("yesterday", "7d"), id="since-not-understood"),
        pytest.param(("serve", "--transport", "carrier"), {}, ("carrier", "stdio, http or sse"), id="bad-transport"),
        pytest.param(("install", "cursor", "--port", "70000"), {}, ("70000",), id="install-port-out-of-range"),
        # the configuration
        pytest.param(("tools", "--config", "{tmp}/bad.toml"), {}, ("not valid TOML",), id="bad-toml"),
        pytest.param(
            ("tools", "--config", "{tmp}/typo.toml"), {}, ("did you mean flow_ttl_seconds?",), id="one-mistyped-key"
        ),
        pytest.param(("serve", "--config", "{tmp}/types.toml"), {}, ("flow_ttl_seconds", "integer"), id="wrong-type"),
        pytest.param(("tools",), {"AUTHMCP_API__KEYS": "3"}, ("AUTHMCP_API__KEYS",), id="wrong-type-in-env"),
        pytest.param(
            ("connections", "list"), {"AUTHMCP_ENCRYPTION_KEYS": "garbage"}, ("keys generate",), id="garbled-key"
        ),
        pytest.param(
            ("connections", "list"), {"AUTHMCP_DATABASE_URL": "mysql://x/y"}, ("postgresql://",), id="unknown-database"
        ),
        pytest.param(
            ("connections", "list", "--config", "{tmp}/pg.toml"), {}, ("database_url",), id="database-unreachable"
        ),
        pytest.param(("db", "upgrade", "--config", "{tmp}/pg.toml"), {}, ("database_url",), id="upgrade-unreachable"),
        pytest.param(
            ("tools", "--toolkit", "{tmp}/typo.toml"),
            {"AUTHMCP_TOOLKITS": "[]"},
            ("typo.toml",),
            id="toolkit-not-python",
        ),
        pytest.param(("tools", "--toolkit", "no.such.module"), {}, ("no.such.module",), id="unknown-toolkit"),
        pytest.param(("install", "cursor", "--file", "/proc/x/y.json"), {}, ("/proc/x",), id="install-cannot-write"),
    ],
)
def test_a_mistake_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], words: tuple[str, ...]
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for name, text in CONFIGS.items():
        (tmp_path / name).write_text(text)

    def fill(value: str) -> str:
        return value.replace("{file}", str(a_file)).replace("{tmp}", str(tmp_path))

    result = run(
        *(fill(a) for a in args), cwd=tmp_path, env={"AUTHMCP_TOOLKITS": "[]", **{k: fill(v) for k, v in env.items()}}
    )
    assert_one_line(result, *words)
    assert "pw-never-shown" not in result.stdout + result.stderr


PR_CAPBSET_DROP = 24  # <linux/prctl.h>
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2  # <linux/capability.h>


def without_root_overrides() -> None:
    """In the child, before it runs the CLI: drop the capabilities that let root ignore file permissions.

    Dropped from the bounding set, they are not in the CLI's permitted set after `exec` (root's inheritable
    set is empty), so a directory mode 0500 refuses root as it refuses anyone: the CI runs the tests as root.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_data_dir_without_permission_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = subprocess.run(
        [sys.executable, "-m", "mcp_server", "connections", "list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "AUTHMCP_DATA_DIR": str(locked / "data")},
        preexec_fn=without_root_overrides if os.geteuid() == 0 else None,
    )
    assert_one_line(result, "Permission denied", str(locked / "data"))


def test_revoking_a_connection_that_does_not_exist_is_one_line_and_exit_2(tmp_path: Path) -> None:
    key = run("keys", "generate", cwd=tmp_path).stdout.strip()
    env = {"AUTHMCP_DATA_DIR": str(tmp_path / "data"), "AUTHMCP_ENCRYPTION_KEYS": key}
    assert run("db", "upgrade", cwd=tmp_path, env=env).returncode == 0  # the database exists, empty
    result = run("connections", "revoke", "demo", "--user", "alice", cwd=tmp_path, env=env)
    assert_one_line(result, "'alice' has no connection to 'demo'", "authmcp connections list")
    assert result.stdout == ""


def test_reading_a_database_that_is_not_there_yet_creates_neither_it_nor_a_key(tmp_path: Path) -> None:
    """A fresh machine (or a command pointed at the wrong place): listing, the audit trail and revoking say the
    database does not exist yet, in one line, and leave nothing behind: no empty database, no new key."""
    data = tmp_path / "data"
    env = {"AUTHMCP_DATA_DIR": str(data)}
    revoked = run("connections", "revoke", "demo", "--user", "alice", cwd=tmp_path, env=env)
    assert_one_line(revoked, "'alice' has no connection to 'demo'", str(data / "authmcp.db"), "yet")
    for command in (("connections", "list"), ("audit",)):
        listed = run(*command, cwd=tmp_path, env=env)
        assert listed.returncode == 0, listed.stderr
        (notice,) = [line for line in listed.stderr.splitlines() if line.startswith("authmcp:")]
        assert str(data / "authmcp.db") in notice and "does not exist yet" in notice, notice
        assert "WARNING" not in listed.stderr and "Traceback" not in listed.stderr
    assert json.loads(run("connections", "list", "--json", cwd=tmp_path, env=env).stdout)["connections"] == []
    assert list(data.iterdir()) == []  # the folder may be made; nothing is put in it


def test_version(tmp_path: Path) -> None:
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("authmcp ") and result.stdout.split()[1][0].isdigit()


def test_config_file_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text(
        f'toolkits = []\ndata_dir = "{tmp_path / "data"}"\n'
        '[providers.demo]\nauthorize_url = "https://a/x"\ntoken_url = "https://a/t"\n'  # no client_id yet
    )
    (tmp_path / "authmcp.toml").write_text('toolkits = ["not.this.one"]\n')  # the variable wins over ./authmcp.toml
    sample = str(REPO / "tests/support/sample_toolkit.py")
    result = run("tools", "--json", "--toolkit", sample, cwd=tmp_path, env={"AUTHMCP_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    tools = {tool["name"]: tool for tool in json.loads(result.stdout)}
    assert tools["Sample.ShowToken"]["provider"] == "demo" and tools["Sample.ShowToken"]["ready"] is False
    assert tools["Sample.ShowToken"]["provider_configured"] is False
    assert tools["Sample.ReadSecret"]["provider"] is None and tools["Sample.ReadSecret"]["ready"] is True


def test_connections_list_names_the_database_it_read(tmp_path: Path) -> None:
    env = {"AUTHMCP_DATA_DIR": str(tmp_path / "data")}
    table = run("connections", "list", cwd=tmp_path, env=env)
    assert table.returncode == 0 and f"the database sqlite:///{tmp_path / 'data' / 'authmcp.db'}" in table.stderr
    assert "no configuration file" in table.stderr  # said prominently: no --config, AUTHMCP_CONFIG or ./authmcp.toml
    listed = json.loads(run("connections", "list", "--json", cwd=tmp_path, env=env).stdout)
    assert listed == {"database": f"sqlite:///{tmp_path / 'data' / 'authmcp.db'}", "connections": []}


def test_serve_names_the_providers_that_tools_need_and_are_not_configured(tmp_path: Path) -> None:
    env = {"AUTHMCP_DATA_DIR": str(tmp_path / "data"), "AUTHMCP_TOOLKITS": '["toolkits.github"]'}
    result = run("serve", "--port", "0", cwd=tmp_path, env=env)  # stdin is closed: it starts and stops
    assert result.returncode == 0, result.stderr
    unconfigured = [line for line in result.stderr.splitlines() if "providers not configured" in line]
    assert len(unconfigured) == 1 and "github (" in unconfigured[0]
    assert "Traceback" not in result.stderr and " ERROR " not in result.stderr


def test_a_mistyped_key_is_named_with_the_setting_it_was_meant_to_be(tmp_path: Path) -> None:
    config = tmp_path / "authmcp.toml"
    config.write_text(
        'flow_ttl_secnds = 60\ncolour = "blue"\n[api]\nverificaton = "none"\n[providers.github]\nclient_idd = "x"\n'
    )
    result = run("tools", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    said = result.stderr.splitlines()
    assert said[0] == f"authmcp: Invalid configuration in {config} or the AUTHMCP_* environment:"
    assert sorted(said[1:]) == [
        "  api.verificaton: not a setting authmcp knows; did you mean api.verification?",
        "  colour: not a setting authmcp knows; docs/configuration.md lists the settings",
        "  flow_ttl_secnds: not a setting authmcp knows; did you mean flow_ttl_seconds?",
        "  providers.github.client_idd: not a setting authmcp knows; did you mean providers.github.client_id?",
    ]
    assert "AUTHMCP_FLOW_TTL_SECNDS" not in result.stderr  # no variable of that name exists to be named
