"""What the Jira tools write into an issue, checked before any request: summary, texts, project key and the
optional fields that CreateIssue and UpdateIssue share."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from mcp_server import ToolExecutionError
from toolkits.jira.adf import text_to_adf

MAX_SUMMARY = 255
MAX_TEXT = 32_000
_PROJECT_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,254}")
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9:_-]{1,128}")


def check_project_key(value: str) -> str:
    key = (value or "").strip().upper()
    if not _PROJECT_KEY.fullmatch(key):
        raise ToolExecutionError(
            f"project {value!r} is not a Jira project key; give a key such as 'PROJ' (ListProjects)."
        )
    return key


def check_summary(value: str) -> str:
    text = (value or "").strip()
    if not text or "\n" in text or len(text) > MAX_SUMMARY:
        raise ToolExecutionError(f"summary must be one line of 1 to {MAX_SUMMARY} characters.")
    return text


def check_text(value: str, name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ToolExecutionError(f"{name} is empty; give the text.")
    if len(text) > MAX_TEXT:
        raise ToolExecutionError(f"{name} is {len(text)} characters long; give at most {MAX_TEXT}.")
    return text


def optional_fields(
    *,
    description: str | None,
    labels: list[str] | None,
    priority: str | None,
    assignee_account_id: str | None,
    due_date: str | None,
) -> dict[str, Any]:
    """The issue fields these arguments set, checked; an empty string for assignee unassigns."""
    fields: dict[str, Any] = {}
    if description is not None and description.strip():
        fields["description"] = text_to_adf(check_text(description, "description"))
    if labels is not None:
        cleaned = [str(label).strip() for label in labels]
        bad = [label for label in cleaned if not label or re.search(r"\s", label)]
        if bad:
            raise ToolExecutionError(
                f"Jira labels cannot be empty or contain spaces: {bad!r}; use e.g. 'needs-review'."
            )
        fields["labels"] = list(dict.fromkeys(cleaned))
    if priority is not None and priority.strip():
        fields["priority"] = {"name": priority.strip()}
    if assignee_account_id is not None:
        account = assignee_account_id.strip()
        if account and not _ACCOUNT_ID.fullmatch(account):
            raise ToolExecutionError(
                f"assignee_account_id {assignee_account_id!r} is not an Atlassian account id (e.g. "
                f"'5b10a2844c20165700ede21g', as GetIssue shows for assignee and reporter)."
            )
        fields["assignee"] = {"accountId": account} if account else None
    if due_date is not None and due_date.strip():
        try:
            fields["duedate"] = date.fromisoformat(due_date.strip()).isoformat()
        except ValueError:
            raise ToolExecutionError(
                f"due_date {due_date!r} is not a date; use YYYY-MM-DD, e.g. '2030-05-11'."
            ) from None
    return fields
