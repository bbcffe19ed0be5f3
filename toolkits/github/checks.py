"""Checks of the GitHub tools' input, all run before any request, each naming what would be right.

Name rules: https://docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication
(users and organizations); branch names follow `git check-ref-format` (https://git-scm.com/docs/git-check-ref-format).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from mcp_server import ToolExecutionError

__all__ = [
    "check_branch",
    "check_choice",
    "check_labels",
    "check_limit",
    "check_number",
    "check_optional_text",
    "check_owner",
    "check_path",
    "check_repo",
    "check_sha",
    "check_text",
    "check_time",
    "check_usernames",
    "quote_path",
]

# Usernames and organization names: letters, digits and hyphens, not starting with a hyphen, at most 39
# characters. Some old accounts end with or repeat hyphens, so only the first character is held to letter-or-digit.
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
# Repository names: letters, digits, '.', '-' and '_' (GitHub replaces anything else), at most 100 characters.
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
# A full or abbreviated commit SHA (7-40 hex digits; 64 for SHA-256 repositories).
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
# What `git check-ref-format` forbids anywhere in a ref name: control characters, space, ~ ^ : ? * [ \ and
# "..", "@{", "//".
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")
MAX_PATH_CHARS = 4096


def check_owner(owner: str) -> str:
    value = owner.strip() if isinstance(owner, str) else owner
    if not isinstance(value, str) or not _OWNER.fullmatch(value):
        raise ToolExecutionError(
            f"owner {owner!r} is not a GitHub user or organization name: use 1-39 letters, digits or hyphens, "
            f"not starting with a hyphen, e.g. 'octocat' (not a URL and not 'owner/repo')."
        )
    return value


def check_repo(repo: str) -> str:
    value = repo.strip() if isinstance(repo, str) else repo
    if isinstance(value, str) and value.endswith(".git") and len(value) > 4:
        value = value[:-4]
    if not isinstance(value, str) or not _REPO.fullmatch(value) or value in (".", ".."):
        raise ToolExecutionError(
            f"repo {repo!r} is not a GitHub repository name: use 1-100 letters, digits, '.', '-' or '_', "
            f"without the owner, e.g. 'Hello-World' (owner goes in the owner parameter)."
        )
    return value


def check_number(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolExecutionError(
            f"{name} {value!r} is not valid: give the positive number shown after '#' on GitHub, e.g. 1347."
        )
    return value


def check_limit(value: Any, *, maximum: int, name: str = "limit") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ToolExecutionError(f"{name} {value!r} is not valid: give a whole number from 1 to {maximum}.")
    return value


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ToolExecutionError(f"{name} {value!r} is not valid: use one of {', '.join(choices)}.")
    return str(value)


def check_text(value: Any, name: str, *, maximum: int, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ToolExecutionError(f"{name} is empty: give some text, e.g. {example!r}.")
    if len(value) > maximum:
        raise ToolExecutionError(f"{name} is {len(value)} characters long; GitHub accepts at most {maximum}.")
    return value


def check_labels(labels: Any, name: str = "labels") -> list[str]:
    if labels is None:
        return []
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise ToolExecutionError(f"{name} must be a list of label names, e.g. ['bug', 'help wanted'].")
    result: list[str] = []
    for label in labels:
        if not isinstance(label, str) or not label.strip() or "," in label or len(label) > 50:
            raise ToolExecutionError(
                f"{name} holds {label!r}, which is not a label name: use non-empty names of at most 50 characters "
                f"without commas, e.g. 'bug'."
            )
        result.append(label.strip())
    return result


def check_usernames(usernames: Any, name: str) -> list[str]:
    if usernames is None:
        return []
    if isinstance(usernames, str) or not isinstance(usernames, Sequence):
        raise ToolExecutionError(f"{name} must be a list of GitHub usernames, e.g. ['octocat'].")
    result: list[str] = []
    for username in usernames:
        if not isinstance(username, str) or not _OWNER.fullmatch(username.strip().removeprefix("@")):
            raise ToolExecutionError(
                f"{name} holds {username!r}, which is not a GitHub username: use 1-39 letters, digits or "
                f"hyphens, e.g. 'octocat'."
            )
        result.append(username.strip().removeprefix("@"))
    return result


def check_optional_text(value: Any, name: str, *, maximum: int) -> str | None:
    """None stays None; otherwise a string of at most `maximum` characters (empty allowed: it clears the field)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ToolExecutionError(f"{name} must be text or omitted.")
    if len(value) > maximum:
        raise ToolExecutionError(f"{name} is {len(value)} characters long; GitHub accepts at most {maximum}.")
    return value


def check_branch(value: Any, name: str = "branch") -> str:
    """A branch name as `git check-ref-format --branch` accepts it, without a `refs/heads/` prefix."""
    text = value.strip() if isinstance(value, str) else ""
    text = text.removeprefix("refs/heads/")
    if (
        not text
        or len(text) > 255
        or _BAD_REF.search(text)
        or text.startswith(("-", "/", "."))
        or text.endswith(("/", ".", ".lock"))
        or "/." in text
        or text == "@"
    ):
        raise ToolExecutionError(
            f"{name} {value!r} is not a branch name: use letters, digits, '-', '_', '.' and '/', without spaces, "
            f"'..', '~^:?*[\\', a leading '-' or a trailing '/' or '.lock', e.g. 'fix/login-crash'."
        )
    return text


def check_sha(value: Any, name: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _SHA.fullmatch(text):
        raise ToolExecutionError(
            f"{name} {value!r} is not a commit SHA: give 7-40 hexadecimal digits, e.g. "
            f"'6dcb09b5b57875f334f61aebed695e2e4193db5e'."
        )
    return text.lower()


def check_path(value: Any, name: str = "path", *, allow_root: bool = False) -> str:
    """A path inside a repository, relative to its root, with '/' between folders (no '..', no leading '/')."""
    text = value.strip() if isinstance(value, str) else None
    if text is None:
        raise ToolExecutionError(f"{name} must be a path inside the repository, e.g. 'docs/README.md'.")
    text = text.strip("/")
    if not text and allow_root:
        return ""
    segments = text.split("/")
    if not text or len(text) > MAX_PATH_CHARS or any(s in ("", ".", "..") for s in segments) or "\x00" in text:
        raise ToolExecutionError(
            f"{name} {value!r} is not a path inside the repository: give folders and file name separated by '/', "
            f"relative to the repository root, without '..' or empty parts, e.g. 'docs/README.md'."
        )
    return text


def quote_path(path: str) -> str:
    """Each segment of a checked path percent-encoded for use in a URL path."""
    return "/".join(quote(segment, safe="") for segment in path.split("/"))


def check_time(value: Any, name: str) -> str | None:
    """None stays None; otherwise an ISO 8601 date or time, sent to GitHub in UTC (`2024-05-01T00:00:00Z`).

    A time without an offset is taken as UTC.
    """
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        raise ToolExecutionError(
            f"{name} {value!r} is not an ISO 8601 time: use e.g. '2024-05-01' or '2024-05-01T09:30:00+02:00'."
        )
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
