"""Shaping GitHub's REST answers for a model: the fields worth reading, logins instead of user objects, label
names instead of label objects, ISO 8601 times with their offset, long bodies cut in lists.

Field names follow the schemas of GitHub's OpenAPI description (github/rest-api-description,
`#/components/schemas/<name>`), named on each function.
"""

from __future__ import annotations

from typing import Any

from mcp_server import iso_datetime, pick
from toolkits.github.client import login

__all__ = [
    "body_text",
    "branch",
    "comment",
    "commit",
    "git_ref",
    "issue",
    "label_names",
    "pull_request",
    "pull_request_details",
    "repository",
    "review",
    "review_comment",
]


def body_text(text: Any, limit: int | None = None) -> str:
    body = text if isinstance(text, str) else ""
    if limit is not None and len(body) > limit:
        return body[:limit] + " …"
    return body


def repository(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "full_name": data.get("full_name"),
        "owner": login(data.get("owner")),
        **pick(data, "name", "id", "private", "visibility", "description", "default_branch", "language"),
        "topics": data.get("topics") or [],
        "stars": data.get("stargazers_count"),
        "forks": data.get("forks_count"),
        "open_issues": data.get("open_issues_count"),
        **pick(data, "archived", "fork", "html_url"),
        "created_at": iso_datetime(data.get("created_at")),
        "updated_at": iso_datetime(data.get("updated_at")),
        "pushed_at": iso_datetime(data.get("pushed_at")),
    }


def issue(data: dict[str, Any], *, body_chars: int | None = None) -> dict[str, Any]:
    return {
        **pick(data, "number", "title", "state", "state_reason"),
        "author": login(data.get("user")),
        "labels": label_names(data.get("labels")),
        "assignees": [login(user) for user in data.get("assignees") or []],
        "milestone": (data.get("milestone") or {}).get("title"),
        **pick(data, "comments", "locked"),
        "is_pull_request": "pull_request" in data,
        "created_at": iso_datetime(data.get("created_at")),
        "updated_at": iso_datetime(data.get("updated_at")),
        "closed_at": iso_datetime(data.get("closed_at")),
        "html_url": data.get("html_url"),
        "body": body_text(data.get("body"), body_chars),
    }


def pull_request(data: dict[str, Any], *, body_chars: int | None = None) -> dict[str, Any]:
    head = data.get("head") or {}
    base = data.get("base") or {}
    return {
        **pick(data, "number", "title", "state", "draft"),
        "author": login(data.get("user")),
        "head_branch": head.get("ref"),
        "head_sha": head.get("sha"),
        "base_branch": base.get("ref"),
        "labels": label_names(data.get("labels")),
        "assignees": [login(user) for user in data.get("assignees") or []],
        "requested_reviewers": [login(user) for user in data.get("requested_reviewers") or []],
        "created_at": iso_datetime(data.get("created_at")),
        "updated_at": iso_datetime(data.get("updated_at")),
        "closed_at": iso_datetime(data.get("closed_at")),
        "merged_at": iso_datetime(data.get("merged_at")),
        "html_url": data.get("html_url"),
        "body": body_text(data.get("body"), body_chars),
    }


def label_names(labels: Any) -> list[str]:
    return [label["name"] for label in labels or [] if isinstance(label, dict) and isinstance(label.get("name"), str)]


def pull_request_details(data: dict[str, Any]) -> dict[str, Any]:
    """`#/components/schemas/pull-request`: the list fields plus the merge state and size of the change."""
    return {
        **pull_request(data),
        **pick(data, "merged", "mergeable", "mergeable_state"),
        "merged_by": login(data.get("merged_by")),
        **pick(data, "commits", "additions", "deletions", "changed_files"),
    }


def _posted(data: dict[str, Any], body_chars: int | None) -> dict[str, Any]:
    """What every kind of comment ends with: when it was written, its link and its (maybe cut) Markdown body."""
    return {
        "created_at": iso_datetime(data.get("created_at")),
        "html_url": data.get("html_url"),
        "body": body_text(data.get("body"), body_chars),
    }


def comment(data: dict[str, Any], *, body_chars: int | None = None) -> dict[str, Any]:
    """`#/components/schemas/issue-comment`."""
    return {"id": data.get("id"), "author": login(data.get("user")), **_posted(data, body_chars)}


def review(data: dict[str, Any]) -> dict[str, Any]:
    """`#/components/schemas/pull-request-review`."""
    return {
        "id": data.get("id"),
        "author": login(data.get("user")),
        **pick(data, "state", "commit_id"),
        "submitted_at": iso_datetime(data.get("submitted_at")),
        "html_url": data.get("html_url"),
        "body": body_text(data.get("body")),
    }


def review_comment(data: dict[str, Any], *, body_chars: int | None = None) -> dict[str, Any]:
    """`#/components/schemas/pull-request-review-comment`: a comment on a line of the diff."""
    return {
        "id": data.get("id"),
        "review_id": data.get("pull_request_review_id"),
        "in_reply_to_id": data.get("in_reply_to_id"),
        "author": login(data.get("user")),
        **pick(data, "path", "line", "side", "commit_id"),
        **_posted(data, body_chars),
    }


def commit(data: dict[str, Any]) -> dict[str, Any]:
    """`#/components/schemas/commit`: the SHA, the first line of the message and who wrote it when."""
    details = data.get("commit") or {}
    author = details.get("author") or {}
    raw = details.get("message")
    message = raw if isinstance(raw, str) else ""
    return {
        "sha": data.get("sha"),
        "message": message.split("\n", 1)[0],
        "author": login(data.get("author")) or author.get("name"),
        "date": iso_datetime(author.get("date")),
        "html_url": data.get("html_url"),
    }


def branch(data: dict[str, Any]) -> dict[str, Any]:
    """`#/components/schemas/short-branch`."""
    return {
        "name": data.get("name"),
        "sha": (data.get("commit") or {}).get("sha"),
        "protected": data.get("protected"),
    }


def git_ref(data: dict[str, Any]) -> dict[str, Any]:
    """`#/components/schemas/git-ref`, for a branch: its name without `refs/heads/` and the commit it points at."""
    raw = data.get("ref")
    ref = raw if isinstance(raw, str) else ""
    return {"branch": ref.removeprefix("refs/heads/"), "ref": ref, "sha": (data.get("object") or {}).get("sha")}
