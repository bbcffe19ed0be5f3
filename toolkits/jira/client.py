"""The Jira Cloud platform REST API v3 on the toolkit HTTP layer, and the conversions between Jira's issues and
what a model reads.

Reference: https://developer.atlassian.com/cloud/jira/platform/rest/v3/ (OpenAPI description:
https://developer.atlassian.com/cloud/jira/platform/swagger-v3.v3.json).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mcp_server import ToolContext, ToolExecutionError, UpstreamError, iso_datetime
from toolkits.jira import sites
from toolkits.jira.adf import adf_to_text
from toolkits.jira.sites import Site

if TYPE_CHECKING:
    import httpx2

# Past this many characters a description or comment is cut, with a note saying so.
MAX_TEXT_CHARS = 4000
# Upper bound on the pages a list call follows, whatever the answer asks for.
MAX_PAGES = 5

_ISSUE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,254}-\d{1,18}")
_ISSUE_ID = re.compile(r"\d{1,18}")
_FIELD_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


def check_issue(value: str) -> str:
    """An issue key ('PROJ-123', upper-cased) or numeric id, or a ToolExecutionError saying what is right."""
    text = (value or "").strip()
    if _ISSUE_KEY.fullmatch(text):
        return text.upper()
    if _ISSUE_ID.fullmatch(text):
        return text
    raise ToolExecutionError(
        f"issue {value!r} is not a Jira issue key or id; give a key such as 'PROJ-123' (from SearchIssues)."
    )


class JiraAPI(sites.AtlassianAPI):
    """The Jira Cloud platform REST API v3 of one site (`/ex/jira/{cloudid}/rest/api/3` on Atlassian's gateway)."""

    def __init__(self, context: ToolContext, site: Site) -> None:
        super().__init__(context)
        self.base_url = f"{self.root_url}/ex/jira/{site.cloud_id}/rest/api/3"

    def check(self, response: httpx2.Response, *, what: str) -> None:
        super().check(response, what=what)
        if response.status_code == 400:
            raise UpstreamError(_bad_request(response, what), status_code=400)


def listed(key: str, items: list[dict[str, Any]], truncated: bool, site: Site) -> dict[str, Any]:
    """The answer of a listing tool: the shaped `items` under `key`, their count, whether more were left out,
    and the site they came from."""
    return {key: items, "count": len(items), "truncated": truncated, "site": site.url}


async def request(
    context: ToolContext,
    site: Site,
    method: str,
    path: str,
    *,
    what: str,
    params: dict[str, Any] | None = None,
    json: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Call `path` of the Jira API on `site` with the user's token; the JSON answer, or the matching authmcp error."""
    return await JiraAPI(context, site).request(method, path, what=what, params=params, json=json)


def _bad_request(response: httpx2.Response, what: str) -> str:
    """Jira's 400 names the fields it refused ({"errorMessages": [...], "errors": {field: message}}); the
    message names those fields (schema names, not the user's data) and never repeats Jira's text."""
    try:
        errors = response.json().get("errors") or {}
    except (ValueError, AttributeError):
        errors = {}
    fields = (
        sorted(k for k in errors if isinstance(k, str) and _FIELD_NAME.fullmatch(k)) if isinstance(errors, dict) else []
    )
    refused = f"; it refused the field(s) {', '.join(fields)}" if fields else ""
    return (
        f"Jira rejected {what} (HTTP 400){refused}. Check the values: project keys come from ListProjects, "
        f"issue types and priorities are the site's names (e.g. 'Task', 'Bug', 'High'), and JQL must be valid."
    )


# ---- incoming resources -----------------------------------------------------------------------------------


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return f"{text[:limit]}\n[... truncated: {len(text) - limit} more characters not shown]", True


def _name(value: object, key: str = "name") -> str | None:
    return str(value[key]) if isinstance(value, dict) and value.get(key) is not None else None


def person(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {"account_id": str(value.get("accountId") or ""), "name": str(value.get("displayName") or "")}


def shape_issue(issue: dict[str, Any], site: Site) -> dict[str, Any]:
    """The compact issue the tools return (without description and comments)."""
    fields = issue.get("fields") or {}
    key = issue.get("key")
    status = fields.get("status")
    return {
        "key": key,
        "id": issue.get("id"),
        "summary": fields.get("summary") or "",
        "status": _name(status),
        "status_category": _name((status or {}).get("statusCategory") if isinstance(status, dict) else None, "key"),
        "type": _name(fields.get("issuetype")),
        "priority": _name(fields.get("priority")),
        "assignee": person(fields.get("assignee")),
        "reporter": person(fields.get("reporter")),
        "project": _name(fields.get("project"), "key"),
        "parent": _name(fields.get("parent"), "key"),
        "labels": [str(label) for label in fields.get("labels") or []],
        "due_date": fields.get("duedate"),
        "created": iso_datetime(fields.get("created"), whole_seconds=True),
        "updated": iso_datetime(fields.get("updated"), whole_seconds=True),
        "url": f"{site.url.rstrip('/')}/browse/{key}" if key and site.url else None,
    }


def shape_comment(comment: dict[str, Any]) -> dict[str, Any]:
    text, truncated = truncate(adf_to_text(comment.get("body")))
    return {
        "id": comment.get("id"),
        "author": person(comment.get("author")),
        "created": iso_datetime(comment.get("created"), whole_seconds=True),
        "text": text,
        "text_truncated": truncated,
    }


def _shape_transition(transition: dict[str, Any]) -> dict[str, Any]:
    raw = transition.get("to")
    to: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return {"id": str(transition.get("id", "")), "name": transition.get("name") or "", "to_status": to.get("name")}


async def transitions(context: ToolContext, site: Site, key: str) -> list[dict[str, Any]]:
    """The workflow transitions the user can make on issue `key` now: id, name and to_status."""
    found = await request(context, site, "GET", f"/issue/{key}/transitions", what=f"the transitions of {key}")
    return [_shape_transition(t) for t in found.get("transitions") or [] if isinstance(t, dict)]
