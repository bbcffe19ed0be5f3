"""Another process holding a SQLite database's write lock, for as long as a test needs (a locked database)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

__all__ = ["write_lock_held"]


@contextlib.contextmanager
def write_lock_held(database: Path) -> Iterator[None]:
    """Inside the block another process is in `BEGIN IMMEDIATE` on `database`. It waits for the lock as long as it
    must (the server under test may be writing just then), so the block starts only once the lock is held."""
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sqlite3, sys
            db = sqlite3.connect({str(database)!r}, isolation_level=None, timeout=60)
            db.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            sys.stdin.readline()
            db.execute("ROLLBACK")
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        try:
            assert holder.stdout.readline().strip() == "locked", "the lock holder could not take the write lock"
            yield
        finally:
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(10)
