"""The commands a newcomer copies from the README and the docs run as written, from the checkout.

A shell block marked `<!-- runnable -->` (cheap commands only: no server that keeps running) is run line by line
with bash in the repository's root, `.venv/bin/` being this test run's environment: each must exit 0 without a
traceback. The README writes the command one way throughout (`.venv/bin/authmcp`), and no placeholder is left
without saying what to put there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNABLE = re.compile(r"<!-- runnable -->\n```sh\n(.*?)```", re.S)
SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def runnable_commands() -> list[pytest.ParameterSet]:
    found = []
    for page in PAGES:
        for block in RUNNABLE.findall(page.read_text()):
            for line in block.splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    found.append(pytest.param(line, id=f"{page.name}: {line[:60]}"))
    return found


def test_some_commands_are_marked_runnable() -> None:
    assert len(runnable_commands()) >= 3


@pytest.mark.parametrize("command", runnable_commands())
def test_a_runnable_command_runs_as_written(command: str, tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        ["bash", "-c", command.replace(".venv/bin/", f"{bin_dir}/")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},  # nothing lands in the developer's own data dir
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_the_readme_writes_the_command_one_way_and_says_what_each_placeholder_is() -> None:
    readme = (REPO / "README.md").read_text()
    for block in SHELL_BLOCK.findall(readme):
        for line in block.splitlines():
            assert not re.match(r"\s*authmcp\b", line), line  # `.venv/bin/authmcp`, as the quick start installs it
    assert "<this repository>" not in readme
    assert "clone URL" in readme and "source .venv/bin/activate" in readme
