"""The authmcp processes running on one data directory, and whether one of them is gone.

Every `serve` holds an exclusive lock (flock) on its own run file, `<data_dir>/run/<instance id>`, for as long as
it lives; the kernel drops the lock when the process ends, even by `kill -9`. So another process on the same data
directory can tell "that instance is gone" for certain (its file is there and its lock is free), which a lease
timeout can only guess. An instance not found here (another host, another data directory) is never called gone.

The file also says how the process holds its keys, so `authmcp keys rotate` can tell who would keep writing with
an old key.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

__all__ = ["RunFile", "dead_instances", "forget_instance", "is_gone", "new_instance_id", "running_instances"]

logger = logging.getLogger(__name__)


def new_instance_id() -> str:
    """An id for this process: its pid (for people reading the run directory) and a random part."""
    return f"{os.getpid()}-{secrets.token_hex(6)}"


def _valid(instance_id: str) -> bool:
    return 0 < len(instance_id) <= 40 and all(c.isalnum() or c == "-" for c in instance_id)


class RunFile:
    """This process's run file, locked until `close` (or the process's end)."""

    def __init__(self, run_dir: Path, instance_id: str, info: dict[str, Any]) -> None:
        run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.instance_id = instance_id
        self.path = run_dir / instance_id
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, json.dumps({"pid": os.getpid(), "started": time.time(), **info}).encode())
        self._fd: int | None = fd

    def close(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


def _lock_is_free(path: Path) -> bool | None:
    """Whether nobody holds the run file's lock; None if there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also releases the lock, if we took it
    return True


def is_gone(run_dir: Path | None, instance_id: str) -> bool:
    """True only when the instance is known to have ended: its run file is here and nobody holds its lock."""
    if run_dir is None or not _valid(instance_id):
        return False
    return _lock_is_free(run_dir / instance_id) is True


def dead_instances(run_dir: Path) -> list[str]:
    """The instances whose run file is left but whose process ended (crashed or killed)."""
    if not run_dir.is_dir():
        return []
    return sorted(p.name for p in run_dir.iterdir() if _valid(p.name) and _lock_is_free(p) is True)


def forget_instance(run_dir: Path, instance_id: str) -> None:
    """Remove a dead instance's run file once what it held is cleared."""
    if _valid(instance_id) and _lock_is_free(run_dir / instance_id):
        with contextlib.suppress(OSError):
            (run_dir / instance_id).unlink()


def running_instances(run_dir: Path) -> list[dict[str, Any]]:
    """What each live instance on this data directory wrote in its run file."""
    found: list[dict[str, Any]] = []
    if not run_dir.is_dir():
        return found
    for path in sorted(run_dir.iterdir()):
        if _valid(path.name) and _lock_is_free(path) is False:
            try:
                found.append({"instance": path.name, **json.loads(path.read_text() or "{}")})
            except (OSError, ValueError):
                found.append({"instance": path.name})
    return found
