"""The Jira tools: find issues with JQL, read, create, update, transition and comment on them, list projects."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ADDS, OVERWRITES, READS, ToolContext, ToolExecutionError, iso_datetime, tool, whole_number
from mcp_server.auth import Atlassian
from toolkits.jira import client, inputs, sites
from toolkits.jira.adf import adf_to_text, text_to_adf

READ = "read:jira-work"
WRITE = "write:jira-work"

MAX_ISSUES = 100
MAX_PROJECTS = 200
MAX_COMMENTS = 10
_SEARCH_FIELDS = [
    "summary",
    "status",
    "issuetype",
    "priority",
    "assignee",
    "reporter",
    "project",
    "parent",
    "labels",
    "duedate",
    "created",
    "updated",
]

SiteParameter = Annotated[
    str | None,
    "Which Jira site, when the user has several: its URL (e.g. 'your-domain.atlassian.net'), name or cloud id, "
    "as ListSites returns them. Leave empty when the user has one site.",
]


#: Parameters several of these tools take alike.
IssueKey = Annotated[str, "The issue key, e.g. 'PROJ-123'."]


@tool(requires_auth=Atlassian(scopes=[READ]), title="List Jira sites", hints=READS)
async def list_sites(context: ToolContext) -> dict[str, Any]:
    """List the Jira Cloud sites the user connected, to choose one with the `site` parameter of the other Jira
    tools when there are several.

    Returns `sites`, each with `url`, `name` and `cloud_id`.
    """
    found = await sites.discover(context)
    return {"sites": [{"url": s.url, "name": s.name, "cloud_id": s.cloud_id} for s in found], "count": len(found)}


@tool(requires_auth=Atlassian(scopes=[READ]), title="List Jira projects", hints=READS)
async def list_projects(
    context: ToolContext,
    query: Annotated[str | None, "Only projects whose key or name contains this text."] = None,
    max_results: Annotated[int, "How many projects to return at most, 1 to 200."] = 50,
    site: SiteParameter = None,
) -> dict[str, Any]:
    """List the Jira projects the user can see, by key.

    Returns `projects`, each with `key` (for CreateIssue and JQL such as 'project = KEY'), `id`, name, type
    and style; and `truncated` when more were left out.
    """
    max_results = whole_number(max_results, name="max_results", maximum=MAX_PROJECTS)
    chosen = await sites.choose(context, site)
    projects, truncated = await client.JiraAPI(context, chosen).paginate_offset(
        "/project/search",
        what="the Jira projects",
        limit=max_results,
        max_pages=client.MAX_PAGES,
        items_key="values",
        offset_param="startAt",
        size_param="maxResults",
        page_size=50,
        params={"orderBy": "key", "query": (query or "").strip() or None},
        is_last=lambda page: bool(page.get("isLast", True)),
    )
    shaped = [
        {
            "key": p.get("key"),
            "id": p.get("id"),
            "name": p.get("name") or "",
            "type": p.get("projectTypeKey"),
            "style": p.get("style"),
        }
        for p in projects
    ]
    return client.listed("projects", shaped, truncated, chosen)


@tool(requires_auth=Atlassian(scopes=[READ]), title="Search Jira issues", hints=READS)
async def search_issues(
    context: ToolContext,
    jql: Annotated[
        str,
        "A bounded JQL query, e.g. 'project = PROJ AND status != Done ORDER BY updated DESC' or "
        "'assignee = currentUser() AND resolution = Unresolved'.",
    ],
    max_results: Annotated[int, "How many issues to return at most, 1 to 100."] = 20,
    site: SiteParameter = None,
) -> dict[str, Any]:
    """Find Jira issues with a JQL query. Jira Cloud needs a bounded query: include a restriction such as a
    project, an assignee or a date, not only ORDER BY.

    Returns `issues`, each with `key` (for GetIssue, UpdateIssue, TransitionIssue, CommentOnIssue), id,
    summary, status, status_category (new, indeterminate, done), type, priority, assignee and reporter
    (account_id, name), project, parent, labels, due_date, created and updated (ISO 8601 with time zone) and
    url; and `truncated` when more matched.
    """
    text = (jql or "").strip()
    if not text:
        raise ToolExecutionError("jql is empty; give a JQL query such as 'project = PROJ ORDER BY updated DESC'.")
    if len(text) > 10_000:
        raise ToolExecutionError("jql is longer than 10000 characters; shorten the query.")
    max_results = whole_number(max_results, name="max_results", maximum=MAX_ISSUES)
    chosen = await sites.choose(context, site)
    issues, truncated = await client.JiraAPI(context, chosen).paginate_tokens(
        "/search/jql",
        what="the Jira search",
        limit=max_results,
        max_pages=client.MAX_PAGES,
        method="POST",
        json={"jql": text, "fields": _SEARCH_FIELDS},
        items_key="issues",
        token_param="nextPageToken",
        # The last page may omit nextPageToken rather than send null (JRACLOUD-92184): either ends the search.
        next_token=lambda page: None if page.get("isLast") else page.get("nextPageToken"),
        size_param="maxResults",
        page_size=50,
    )
    shaped = [client.shape_issue(i, chosen) for i in issues]
    return client.listed("issues", shaped, truncated, chosen)


@tool(requires_auth=Atlassian(scopes=[READ]), title="Read a Jira issue", hints=READS)
async def get_issue(
    context: ToolContext,
    issue: Annotated[str, "The issue key, e.g. 'PROJ-123', or its numeric id."],
    site: SiteParameter = None,
) -> dict[str, Any]:
    """Read one Jira issue: its fields, its description as plain text and its latest comments.

    Returns `key`, id, summary, status, status_category, type, priority, assignee, reporter, project, parent,
    labels, due_date, created, updated (ISO 8601 with time zone), url, `description` (plain text, cut after a
    few thousand characters; `description_truncated` says so) and `comments` (the latest 10: id, author,
    created, text), with `comment_count`.
    """
    key = client.check_issue(issue)
    chosen = await sites.choose(context, site)
    found = await client.request(
        context,
        chosen,
        "GET",
        f"/issue/{key}",
        what=f"the issue {key}",
        params={"fields": ",".join([*_SEARCH_FIELDS, "description", "comment"])},
    )
    fields = found.get("fields") or {}
    description, truncated = client.truncate(adf_to_text(fields.get("description")))
    # The comment field is a page of comments ({comments, total, ...}); the OpenAPI example shows a bare list.
    thread = fields.get("comment")
    thread = thread if isinstance(thread, dict) else {"comments": thread if isinstance(thread, list) else []}
    comments = [c for c in thread.get("comments") or [] if isinstance(c, dict)]
    return {
        **client.shape_issue(found, chosen),
        "description": description,
        "description_truncated": truncated,
        "comments": [client.shape_comment(c) for c in comments[-MAX_COMMENTS:]],
        "comment_count": thread.get("total", len(comments)),
    }


@tool(requires_auth=Atlassian(scopes=[WRITE]), title="Create a Jira issue", hints=ADDS)
async def create_issue(
    context: ToolContext,
    project: Annotated[str, "The project key, e.g. 'PROJ' (see ListProjects)."],
    summary: Annotated[str, "The one-line title."],
    issue_type: Annotated[str, "The issue type's name on this site, e.g. 'Task', 'Bug', 'Story'."] = "Task",
    description: Annotated[str | None, "Plain text; blank lines separate paragraphs, '- ' lines make a list."] = None,
    labels: Annotated[list[str] | None, "Labels, without spaces, e.g. ['backend', 'needs-review']."] = None,
    priority: Annotated[str | None, "The priority's name, e.g. 'High'."] = None,
    assignee_account_id: Annotated[
        str | None, "The Atlassian account id of the assignee (as GetIssue shows people)."
    ] = None,
    parent: Annotated[str | None, "The parent issue key, for a sub-task or an issue under an epic."] = None,
    due_date: Annotated[str | None, "Due date, YYYY-MM-DD."] = None,
    site: SiteParameter = None,
) -> dict[str, Any]:
    """Create a Jira issue in a project. Its description is written as plain text (Jira stores it as rich
    text).

    Returns the new issue's `key` (for the other Jira tools), `id` and `url`.
    """
    key = inputs.check_project_key(project)
    if not (issue_type or "").strip():
        raise ToolExecutionError("issue_type is empty; give the type's name, e.g. 'Task' or 'Bug'.")
    fields: dict[str, Any] = {
        "project": {"key": key},
        "summary": inputs.check_summary(summary),
        "issuetype": {"name": issue_type.strip()},
        **inputs.optional_fields(
            description=description,
            labels=labels,
            priority=priority,
            assignee_account_id=assignee_account_id,
            due_date=due_date,
        ),
    }
    if parent is not None and parent.strip():
        fields["parent"] = {"key": client.check_issue(parent)}
    chosen = await sites.choose(context, site)
    created = await client.request(
        context, chosen, "POST", "/issue", what="creating the issue", json={"fields": fields}
    )
    new_key = created.get("key")
    return {
        "key": new_key,
        "id": created.get("id"),
        "url": f"{chosen.url.rstrip('/')}/browse/{new_key}" if new_key and chosen.url else None,
    }


@tool(requires_auth=Atlassian(scopes=[WRITE]), title="Update a Jira issue", hints=OVERWRITES)
async def update_issue(
    context: ToolContext,
    issue: IssueKey,
    summary: Annotated[str | None, "A new one-line title."] = None,
    description: Annotated[str | None, "A new plain-text description (replaces the old one)."] = None,
    labels: Annotated[list[str] | None, "The full new list of labels (replaces the old one); [] removes all."] = None,
    priority: Annotated[str | None, "A new priority's name, e.g. 'High'."] = None,
    assignee_account_id: Annotated[str | None, "The new assignee's Atlassian account id; '' unassigns."] = None,
    due_date: Annotated[str | None, "A new due date, YYYY-MM-DD."] = None,
    site: SiteParameter = None,
) -> dict[str, Any]:
    """Change fields of a Jira issue: only the fields given change. To change its status use TransitionIssue.

    Returns the issue `key`, the names of the `updated` fields and its url.
    """
    key = client.check_issue(issue)
    fields = inputs.optional_fields(
        description=description,
        labels=labels,
        priority=priority,
        assignee_account_id=assignee_account_id,
        due_date=due_date,
    )
    if summary is not None and summary.strip():
        fields["summary"] = inputs.check_summary(summary)
    if not fields:
        raise ToolExecutionError(
            "Nothing to change; give at least one of summary, description, labels, priority, assignee_account_id "
            "or due_date (use TransitionIssue to change the status)."
        )
    chosen = await sites.choose(context, site)
    await client.request(context, chosen, "PUT", f"/issue/{key}", what=f"the issue {key}", json={"fields": fields})
    return {
        "key": key,
        "updated": sorted(fields),
        "url": f"{chosen.url.rstrip('/')}/browse/{key}" if chosen.url else None,
    }


@tool(requires_auth=Atlassian(scopes=[READ]), title="List a Jira issue's transitions", hints=READS)
async def list_transitions(
    context: ToolContext,
    issue: IssueKey,
    site: SiteParameter = None,
) -> dict[str, Any]:
    """List the workflow transitions the user can make on a Jira issue now (e.g. 'Start progress', 'Done').

    Returns `transitions`, each with `id`, `name` and `to_status` (for TransitionIssue).
    """
    key = client.check_issue(issue)
    chosen = await sites.choose(context, site)
    transitions = await client.transitions(context, chosen, key)
    return {"key": key, "transitions": transitions}


@tool(requires_auth=Atlassian(scopes=[READ, WRITE]), title="Move a Jira issue through its workflow", hints=ADDS)
async def transition_issue(
    context: ToolContext,
    issue: IssueKey,
    transition: Annotated[str, "The transition's name or id, or the status to move to, e.g. 'In Progress' or 'Done'."],
    comment: Annotated[str | None, "A plain-text comment to add with the transition."] = None,
    site: SiteParameter = None,
) -> dict[str, Any]:
    """Move a Jira issue to another status through one of its workflow transitions (e.g. to 'In Progress' or
    'Done'), optionally with a comment.

    Returns the issue `key`, the `transition` made and the new `status`.
    """
    key = client.check_issue(issue)
    wanted = (transition or "").strip()
    if not wanted:
        raise ToolExecutionError("transition is empty; give its name or the status to move to, e.g. 'Done'.")
    note = inputs.check_text(comment, "comment") if comment is not None and comment.strip() else None
    chosen = await sites.choose(context, site)
    available = await client.transitions(context, chosen, key)
    folded = wanted.casefold()
    match = (
        next((t for t in available if t["id"] == wanted), None)
        or next((t for t in available if t["name"].casefold() == folded), None)
        or next((t for t in available if str(t["to_status"] or "").casefold() == folded), None)
    )
    if match is None:
        names = ", ".join(f"{t['name']!r} (to {t['to_status']})" for t in available) or "none"
        raise ToolExecutionError(f"{key} has no transition {wanted!r} now; the available ones are: {names}.")
    body: dict[str, Any] = {"transition": {"id": match["id"]}}
    if note:
        body["update"] = {"comment": [{"add": {"body": text_to_adf(note)}}]}
    await client.request(
        context, chosen, "POST", f"/issue/{key}/transitions", what=f"the transition of {key}", json=body
    )
    return {"key": key, "transition": match["name"], "status": match["to_status"]}


@tool(requires_auth=Atlassian(scopes=[WRITE]), title="Comment on a Jira issue", hints=ADDS)
async def comment_on_issue(
    context: ToolContext,
    issue: IssueKey,
    text: Annotated[str, "The comment, in plain text; blank lines separate paragraphs."],
    site: SiteParameter = None,
) -> dict[str, Any]:
    """Add a comment to a Jira issue as the user; everyone watching the issue may be notified.

    Returns the issue `key` and the comment: `comment_id`, author and created (ISO 8601 with time zone).
    """
    key = client.check_issue(issue)
    body = text_to_adf(inputs.check_text(text, "text"))
    chosen = await sites.choose(context, site)
    created = await client.request(
        context, chosen, "POST", f"/issue/{key}/comment", what=f"the issue {key}", json={"body": body}
    )
    return {
        "key": key,
        "comment_id": created.get("id"),
        "author": client.person(created.get("author")),
        "created": iso_datetime(created.get("created"), whole_seconds=True),
    }
