"""`authmcp demo` run as a person would, headless: its link opened and consented to over HTTP."""

from __future__ import annotations

import html
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx2
import pytest

LINK = re.compile(r"http://127\.0\.0\.1:\d+/connect/[A-Za-z0-9_-]+")
PROVIDER = re.compile(r"provider at (http://127\.0\.0\.1:\d+)")
FORM_ACTION = re.compile(r'<form\b[^>]*\baction="([^"]*)"')


def start_demo(stdin: int) -> subprocess.Popen[str]:
    # no AUTHMCP_* variables (see clean_environ) and a fresh working directory: a new user's first command
    return subprocess.Popen(
        [sys.executable, "-m", "mcp_server", "demo", "--no-browser"],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def demo() -> Iterator[subprocess.Popen[str]]:
    process = start_demo(subprocess.DEVNULL)  # stdin ends at once: the demo stops after its answer
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate()  # reaps it and closes its pipes


def read_until(
    process: subprocess.Popen[str], pattern: re.Pattern[str], timeout: float = 120
) -> tuple[str, re.Match[str]]:
    """What the demo printed up to the first match of `pattern` (read a line at a time by a thread: a buffered
    pipe may already hold the line that select() would wait for)."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen += line
        match = pattern.search(seen)
        if match:
            return seen, match
        if not line:
            break
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    raise AssertionError(f"the demo never printed {pattern.pattern}:\n{seen}")


def consent(link: str, username: str, answer_with: str = "allow") -> httpx2.Response:
    """A person's browser: authmcp's link -> the provider's sign-in form -> Allow (or Deny) -> back to authmcp."""
    with httpx2.Client(timeout=15, trust_env=False) as browser:
        answer = browser.get(link)
        while answer.is_redirect:
            answer = browser.get(answer.url.join(answer.headers["location"]))
        action = FORM_ACTION.search(answer.text)
        assert action is not None, answer.text
        answer = browser.post(
            answer.url.join(html.unescape(action.group(1))), data={"username": username, "consent": answer_with}
        )
        while answer.is_redirect:
            answer = browser.get(answer.url.join(answer.headers["location"]))
        return answer


def test_the_demo_goes_from_authorization_required_to_the_users_identity(demo: subprocess.Popen[str]) -> None:
    before, link = read_until(demo, LINK)
    assert "[3/6]" in before and "Authorization required" in before
    page = consent(link.group(0), "alice")
    assert page.status_code == 200 and "Connected to Demo provider" in page.text
    out, err = demo.communicate(timeout=120)
    assert demo.returncode == 0, err
    assert "[5/6]" in out and '"sub": "alice"' in out and '"user_id": "demo-user"' in out
    assert "[6/6]" in out and "with no link" in out  # the second authorized call needs no link
    assert "Traceback" not in out + err and err.strip() == ""


def test_the_demo_stays_up_for_your_connections_until_enter() -> None:
    process = start_demo(subprocess.PIPE)
    try:
        _, link = read_until(process, LINK)
        assert consent(link.group(0), "alice").status_code == 200
        said, connections = read_until(process, re.compile(r"open (http://127\.0\.0\.1:\d+/connections)"))
        assert "[6/6]" in said and "Press Enter to stop" in said
        page = httpx2.get(connections.group(1), trust_env=False)
        assert page.status_code == 200 and "Demo provider" in page.text and "alice@example.test" in page.text
        assert process.poll() is None  # still up, waiting for Enter
        out, err = process.communicate("\n", timeout=60)
        assert process.returncode == 0, err
        assert "Traceback" not in out + err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_ctrl_c_while_waiting_stops_the_demo_and_its_provider(demo: subprocess.Popen[str]) -> None:
    before, _ = read_until(demo, LINK)
    provider = PROVIDER.search(before)
    assert provider is not None
    assert httpx2.get(f"{provider.group(1)}/.well-known/openid-configuration", trust_env=False).status_code == 200
    demo.send_signal(signal.SIGINT)
    out, err = demo.communicate(timeout=30)
    assert demo.returncode == 130
    assert "Stopping the demo" in out and "Traceback" not in out + err
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{provider.group(1)}/.well-known/openid-configuration", trust_env=False)


def test_denying_at_the_provider_ends_the_demo_in_one_line(demo: subprocess.Popen[str]) -> None:
    _, link = read_until(demo, LINK)
    page = consent(link.group(0), "alice", answer_with="deny")
    assert "Connected" not in page.text
    out, err = demo.communicate(timeout=120)
    assert demo.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("authmcp: The authorization did not complete"), err
    assert "Traceback" not in out + err and "[5/6]" not in out
