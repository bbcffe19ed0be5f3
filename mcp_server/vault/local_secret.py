"""A random secret in a file only its owner can read (mode 0600), shared by the processes of one user.

The processes of one user on one machine prove things to each other with it: the data dir's `instance` secret
(the shared pages' proof, serving/shared_pages.py) and the key that authenticates local notices
(local_notices.py). Another OS user cannot read the file, so cannot forge what it authenticates.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["local_secret"]


def local_secret(path: Path) -> bytes:
    """The secret in `path`, created on first use (atomically: concurrent first starts agree on one).

    Raises:
        OSError: The file cannot be created or read.
    """
    if not path.exists():
        temporary = path.with_name(f".{path.name}-{os.getpid()}-{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)  # fails if another process got there first: then theirs is the one
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip().encode()
