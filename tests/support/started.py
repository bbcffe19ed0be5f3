"""A command that keeps running, started, waited on until it answers HTTP, then stopped with SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx2

__all__ = ["Stopped", "start_probe_stop"]


class Stopped:
    """What the stopped process left: its exit code, what it printed (stdout and stderr, or stderr alone), and the
    status of the probe's answer."""

    def __init__(self, code: int, output: str, status: int) -> None:
        self.code, self.output, self.status = code, output, status


def start_probe_stop(
    args: list[str], url: str, *, cwd: Path, env: dict[str, str], with_stdout: bool = True, timeout: float = 60
) -> Stopped:
    """Start `args`, GET `url` until it answers (failing if the process exits first or `timeout` passes), then
    SIGTERM and wait for the exit."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log if with_stdout else subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                assert process.poll() is None, f"{args[0]} exited with {process.returncode}"
                assert time.monotonic() < deadline, f"{args[0]} did not answer at {url}"
                try:
                    status = httpx2.get(url, timeout=2).status_code
                    break
                except httpx2.HTTPError:
                    time.sleep(0.1)
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
        log.seek(0)
        return Stopped(code, log.read().decode(errors="replace"), status)
