"""The commands a newcomer copies from the README and the docs run as written, from the checkout.

Every shell block is marked, on the line above it, with what the test does with it:

- `<!-- runnable -->`: each line is run with bash in the repository's root, `.venv/bin/` (and `PATH`) being
  this test run's environment and `HOME` a temporary directory: each must exit 0 without a traceback.
- `<!-- runnable: a server -->`: one command that keeps running (`authmcp serve`, the demo provider). It is
  started with its port (`--port N`, given or added, and the same number in a URL) moved to a free one, must
  answer HTTP on that port, and is stopped with SIGTERM, which it must take without a traceback.
- `<!-- rotation: ... -->`: run by tests/faults/test_rotation.py, against a running server.
- `<!-- not runnable: why -->`: it needs what this machine has not (a container engine, a cluster, a person at
  a browser, minutes of installing); the reason is said on the page.

A block with no marker fails, so that a new command is either run or says why not. The README writes the
command one way throughout (`.venv/bin/authmcp`), and no placeholder is left without saying what to put there.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.ports import free_port
from tests.support.started import start_probe_stop

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- ([^\n]*?) -->\n)?```(?:sh|bash|console|shell)\n(.*?)```", re.S)
SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
KINDS = ("runnable", "runnable: a server", "rotation: ", "not runnable: ")


def blocks(kind: str) -> list[tuple[Path, str]]:
    return [(page, body) for page in PAGES for mark, body in BLOCK.findall(page.read_text()) if mark == kind]


def lines_of(kind: str) -> list[pytest.ParameterSet]:
    found = []
    for page, block in blocks(kind):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append(pytest.param(line, id=f"{page.name}: {line[:60]}"))
    return found


def shell_env(home: Path) -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHMCP_")}
    # nothing lands in the developer's own data dir or client configuration
    return {**env, "HOME": str(home), "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}


def in_this_environment(command: str) -> str:
    return command.replace(".venv/bin/", f"{Path(sys.executable).parent}/")


def test_every_shell_block_is_marked_runnable_or_says_why_not() -> None:
    unmarked = [
        f"{page.name}: {body.splitlines()[0]}"
        for page in PAGES
        for mark, body in BLOCK.findall(page.read_text())
        if not (mark in KINDS[:2] or (mark.startswith(KINDS[2:]) and mark.split(": ", 1)[1].strip()))
    ]
    assert unmarked == [], "mark these <!-- runnable -->, <!-- runnable: a server --> or <!-- not runnable: why -->"
    assert len(lines_of("runnable")) >= 8 and len(blocks("runnable: a server")) >= 2


@pytest.mark.parametrize("command", lines_of("runnable"))
def test_a_runnable_command_runs_as_written(command: str, tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", "-c", in_this_environment(command)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=shell_env(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def on_free_ports(command: str) -> tuple[str, int]:
    """The command with each port it names (after --port or in a 127.0.0.1 URL) moved to a free one, `--port`
    added when it names none; and the port it listens on."""
    named = re.search(r"--port (\d+)", command)
    listening = named.group(1) if named else "8000"  # authmcp serve's default
    moved = {port: str(free_port()) for port in set(re.findall(r"(?:--port |127\.0\.0\.1:)(\d+)", command))}
    moved.setdefault(listening, str(free_port()))
    command = re.sub(r"(--port |127\.0\.0\.1:)(\d+)", lambda m: m.group(1) + moved[m.group(2)], command)
    if not named:
        command += f" --port {moved[listening]}"
    return command, int(moved[listening])


@pytest.mark.parametrize(
    "block", [pytest.param(body, id=f"{page.name}: {body[:50]}") for page, body in blocks("runnable: a server")]
)
def test_a_server_starts_as_written_answers_and_stops(block: str, tmp_path: Path) -> None:
    command, port = on_free_ports(in_this_environment(block.replace("\\\n", " ").strip()))
    stopped = start_probe_stop(
        ["bash", "-c", f"exec {command}"], f"http://127.0.0.1:{port}/healthz", cwd=REPO, env=shell_env(tmp_path)
    )
    assert stopped.status < 500, stopped.output
    assert stopped.code in (0, -signal.SIGTERM) and "Traceback" not in stopped.output, stopped.output


def test_the_readme_writes_the_command_one_way_and_says_what_each_placeholder_is() -> None:
    readme = (REPO / "README.md").read_text()
    for block in SHELL_BLOCK.findall(readme):
        for line in block.splitlines():
            assert not re.match(r"\s*authmcp\b", line), line  # `.venv/bin/authmcp`, as the quick start installs it
    assert "<this repository>" not in readme
    assert "clone URL" in readme and "source .venv/bin/activate" in readme
