"""The Linear tools: issues (list, search, read, create, update, comment), teams and projects.

Scopes (https://linear.app/developers/oauth-2-0-authentication): `read` for every read (Linear always grants
it), `issues:create` to create issues, `comments:create` to comment, `write` to change an issue (there is no
narrower scope for that). Issue ids may be given as identifiers (`ENG-123`) or UUIDs; Linear's `issue(id:)`,
`issueUpdate(id:)` and `CommentCreateInput.issueId` take both.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp_server import ADDS, OVERWRITES, READS, ToolContext, ToolExecutionError, tool
from mcp_server.auth import Linear
from toolkits.linear import queries
from toolkits.linear.client import LinearAPI, check_date, check_id, check_ids, check_limit, check_text

READ = Linear(scopes=["read"])
MAX_LIST = 250
MAX_TITLE_CHARS = 255
MAX_MARKDOWN_CHARS = 100_000
STATE_TYPES = ("triage", "backlog", "unstarted", "started", "completed", "canceled")
Priority = Literal["none", "urgent", "high", "medium", "low"]
IssueId = Annotated[str, "The issue's identifier, e.g. 'ENG-123' (or its UUID)."]


#: Parameters several of these tools take alike.
DueDate = Annotated[str | None, "Due date, YYYY-MM-DD."]


def _team_ref(value: Any) -> tuple[str, str]:
    """('id', uuid) or ('key', 'ENG') for a team given either way."""
    text = value.strip() if isinstance(value, str) else ""
    if text.isalnum() and 1 <= len(text) <= 10 and text[0].isalpha():
        return "key", text.upper()
    return "id", check_id(value, "team")


async def _team(context: ToolContext, value: Any) -> dict[str, Any]:
    kind, ref = _team_ref(value)
    if kind == "key":
        data = await LinearAPI(context).graphql(queries.TEAM_BY_KEY, {"key": ref}, what=f"the team {ref}")
        nodes = (data.get("teams") or {}).get("nodes") or []
        if not nodes:
            raise ToolExecutionError(f"No Linear team has the key {ref!r}; see Linear_ListTeams for the keys.")
        return dict(nodes[0])
    data = await LinearAPI(context).graphql(queries.TEAM_STATES, {"id": ref}, what=f"the team {ref}")
    return data.get("team") or {}


def _state_id(team: dict[str, Any], name: str) -> str:
    states = (team.get("states") or {}).get("nodes") or []
    for state in states:
        if isinstance(state, dict) and str(state.get("name", "")).casefold() == name.strip().casefold():
            return str(state["id"])
    names = ", ".join(repr(s.get("name")) for s in states if isinstance(s, dict))
    raise ToolExecutionError(f"Team {team.get('key')} has no state {name!r}; use one of {names}.")


async def _assignee_id(context: ToolContext, value: Any) -> str | None:
    """'me' -> the signed-in user's id; 'none' -> None (unassign); otherwise a user's UUID."""
    if isinstance(value, str) and value.strip().lower() == "none":
        return None
    if isinstance(value, str) and value.strip().lower() == "me":
        data = await LinearAPI(context).graphql(queries.VIEWER, what="the signed-in Linear user")
        return str((data.get("viewer") or {}).get("id"))
    return check_id(value, "assignee")


def _priority(value: Any) -> int:
    if not isinstance(value, str) or value not in queries.PRIORITIES:
        raise ToolExecutionError(f"priority {value!r} is not valid: use one of {', '.join(queries.PRIORITIES)}.")
    return queries.PRIORITIES[value]


def _optional_markdown(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_MARKDOWN_CHARS:
        raise ToolExecutionError(f"{name} must be Markdown text of at most {MAX_MARKDOWN_CHARS} characters.")
    return value


@tool(requires_auth=READ, title="List Linear teams", hints=READS)
async def list_teams(
    context: ToolContext,
    limit: Annotated[int, "How many teams to return, 1-250 (default 50)."] = 50,
) -> dict[str, Any]:
    """List the Linear teams whose issues the user can see: id, key (the prefix of issue identifiers, e.g.
    ENG), name and description. Pass a key or id as `team` to the other Linear tools."""
    check_limit(limit, maximum=MAX_LIST)
    nodes, more = await LinearAPI(context).paginate(queries.TEAMS, {}, "teams", what="the teams", limit=limit)
    teams = [queries.team(node) for node in nodes]
    return {"teams": teams, "count": len(teams), "more_available": more}


@tool(requires_auth=READ, title="List Linear projects", hints=READS)
async def list_projects(
    context: ToolContext,
    team: Annotated[str | None, "Only projects of this team: its key, e.g. 'ENG', or id."] = None,
    limit: Annotated[int, "How many projects to return, most recently updated first, 1-250 (default 50)."] = 50,
) -> dict[str, Any]:
    """List Linear projects, most recently updated first: id, name, status, lead, teams, progress (0-1), start
    and target dates, url and description. Pass an id as `project_id` to Linear_CreateIssue or Linear_ListIssues."""
    check_limit(limit, maximum=MAX_LIST)
    variables: dict[str, Any] = {}
    if team is not None:
        kind, ref = _team_ref(team)
        field = "key" if kind == "key" else "id"
        variables["filter"] = {"accessibleTeams": {"some": {field: {"eqIgnoreCase" if kind == "key" else "eq": ref}}}}
    nodes, more = await LinearAPI(context).paginate(
        queries.PROJECTS, variables, "projects", what="the projects", limit=limit
    )
    projects = [queries.project(node) for node in nodes]
    return {"projects": projects, "count": len(projects), "more_available": more}


@tool(requires_auth=READ, title="List Linear issues", hints=READS)
async def list_issues(
    context: ToolContext,
    team: Annotated[str | None, "Only this team's issues: its key, e.g. 'ENG', or id."] = None,
    assigned_to_me: Annotated[bool, "Only issues assigned to the signed-in user."] = False,
    state_types: Annotated[
        list[Literal["triage", "backlog", "unstarted", "started", "completed", "canceled"]] | None,
        "Only issues in states of these kinds, e.g. ['unstarted', 'started'] for open work; omit for all.",
    ] = None,
    project_id: Annotated[str | None, "Only issues of this project (its id, from Linear_ListProjects)."] = None,
    limit: Annotated[int, "How many issues to return, most recently updated first, 1-250 (default 50)."] = 50,
) -> dict[str, Any]:
    """List Linear issues, most recently updated first, filtered by team, assignee, kind of state or project.

    Returns `issues` (identifier such as ENG-123, id, title, state and its kind, priority, team key, assignee,
    project, labels, due date, ISO 8601 times, url), `count` and `more_available`. Read one with
    Linear_GetIssue; search by text with Linear_SearchIssues.
    """
    check_limit(limit, maximum=MAX_LIST)
    conditions: list[dict[str, Any]] = []
    if team is not None:
        kind, ref = _team_ref(team)
        conditions.append({"team": {"key": {"eqIgnoreCase": ref}} if kind == "key" else {"id": {"eq": ref}}})
    if not isinstance(assigned_to_me, bool):
        raise ToolExecutionError(f"assigned_to_me {assigned_to_me!r} is not valid: use true or false.")
    if assigned_to_me:
        conditions.append({"assignee": {"isMe": {"eq": True}}})
    if state_types is not None:
        if not isinstance(state_types, list) or not state_types or any(t not in STATE_TYPES for t in state_types):
            raise ToolExecutionError(
                f"state_types {state_types!r} is not valid: use a list of {', '.join(STATE_TYPES)}."
            )
        conditions.append({"state": {"type": {"in": list(dict.fromkeys(state_types))}}})
    if project_id is not None:
        conditions.append({"project": {"id": {"eq": check_id(project_id, "project_id")}}})
    variables = {"filter": {"and": conditions}} if conditions else {}
    nodes, more = await LinearAPI(context).paginate(queries.ISSUES, variables, "issues", what="the issues", limit=limit)
    issues = [queries.issue(node) for node in nodes]
    return {"issues": issues, "count": len(issues), "more_available": more}


@tool(requires_auth=READ, title="Search Linear issues", hints=READS)
async def search_issues(
    context: ToolContext,
    query: Annotated[str, "Words to look for in issues' titles and descriptions, e.g. 'login crash'."],
    limit: Annotated[int, "How many issues to return, best match first, 1-100 (default 20)."] = 20,
) -> dict[str, Any]:
    """Search Linear issues by text, best match first (Linear allows 30 searches a minute).

    Returns `issues` in the same form as Linear_ListIssues, `count` and `more_available`.
    """
    term = check_text(query, "query", maximum=1000, example="login crash").strip()
    check_limit(limit, maximum=100)
    nodes, more = await LinearAPI(context).paginate(
        queries.SEARCH_ISSUES, {"term": term}, "searchIssues", what="the issue search", limit=limit
    )
    issues = [queries.issue(node) for node in nodes]
    return {"issues": issues, "count": len(issues), "more_available": more}


@tool(requires_auth=READ, title="Get a Linear issue", hints=READS)
async def get_issue(context: ToolContext, issue_id: IssueId) -> dict[str, Any]:
    """Get one Linear issue with its Markdown description and its first 50 comments, oldest first.

    Returns the fields of Linear_ListIssues plus description, branch_name, creator, parent, cycle, `comments`
    (id, author, ISO 8601 time, Markdown body) and `more_comments`.
    """
    ref = check_id(issue_id, "issue_id", identifier=True)
    data = await LinearAPI(context).graphql(queries.ISSUE, {"id": ref}, what=f"the issue {ref}")
    node = data.get("issue")
    if not isinstance(node, dict):
        raise ToolExecutionError(f"Linear has no issue {ref} visible to the user.")
    return queries.issue(node)


@tool(requires_auth=Linear(scopes=["issues:create"]), title="Create a Linear issue", hints=ADDS)
async def create_issue(
    context: ToolContext,
    team: Annotated[str, "The team: its key, e.g. 'ENG' (see Linear_ListTeams), or id."],
    title: Annotated[str, "The issue's title."],
    description: Annotated[str | None, "The description in Markdown."] = None,
    assignee: Annotated[str | None, "'me' for the signed-in user, or a user's id; omit for nobody."] = None,
    priority: Annotated[Priority | None, "'urgent', 'high', 'medium', 'low' or 'none' (default)."] = None,
    state: Annotated[str | None, "The workflow state's name, e.g. 'Todo'; omit for the team's default."] = None,
    project_id: Annotated[str | None, "A project's id (from Linear_ListProjects)."] = None,
    label_ids: Annotated[list[str] | None, "Label ids to set."] = None,
    due_date: DueDate = None,
) -> dict[str, Any]:
    """Create an issue in a Linear team as the signed-in user.

    Returns the created issue with its `identifier` (e.g. ENG-124, for Linear_UpdateIssue and
    Linear_CommentOnIssue) and url. Needs the `issues:create` scope.
    """
    team_ref = _team_ref(team)
    text = check_text(title, "title", maximum=MAX_TITLE_CHARS, example="Login fails with SSO").strip()
    payload: dict[str, Any] = {"title": text}
    body = _optional_markdown(description, "description")
    if body:
        payload["description"] = body
    if priority is not None:
        payload["priority"] = _priority(priority)
    if project_id is not None:
        payload["projectId"] = check_id(project_id, "project_id")
    if label_ids:
        payload["labelIds"] = check_ids(label_ids, "label_ids")
    if due_date is not None:
        payload["dueDate"] = check_date(due_date, "due_date")
    if state is not None:
        check_text(state, "state", maximum=100, example="Todo")
    if assignee is not None and not (isinstance(assignee, str) and assignee.strip().lower() in ("me", "none")):
        check_id(assignee, "assignee")
    if team_ref[0] == "key" or state is not None:
        found = await _team(context, team)
        payload["teamId"] = found.get("id")
        if state is not None:
            payload["stateId"] = _state_id(found, state)
    else:
        payload["teamId"] = team_ref[1]
    if assignee is not None:
        payload["assigneeId"] = await _assignee_id(context, assignee)
    data = await LinearAPI(context).graphql(queries.ISSUE_CREATE, {"input": payload}, what="creating the issue")
    created = data.get("issueCreate") or {}
    if not created.get("success") or not isinstance(created.get("issue"), dict):
        raise ToolExecutionError("Linear did not create the issue; try again.")
    return queries.issue(created["issue"])


@tool(requires_auth=Linear(scopes=["write"]), title="Update a Linear issue", hints=OVERWRITES)
async def update_issue(
    context: ToolContext,
    issue_id: IssueId,
    title: Annotated[str | None, "A new title."] = None,
    description: Annotated[str | None, "A new Markdown description, replacing the old one."] = None,
    state: Annotated[str | None, "Move to this workflow state, by name, e.g. 'In Progress' or 'Done'."] = None,
    assignee: Annotated[str | None, "'me', a user's id, or 'none' to unassign."] = None,
    priority: Annotated[Priority | None, "'urgent', 'high', 'medium', 'low' or 'none'."] = None,
    project_id: Annotated[str | None, "Move to this project (its id)."] = None,
    label_ids: Annotated[list[str] | None, "The issue's label ids from now on (replaces them)."] = None,
    due_date: DueDate = None,
) -> dict[str, Any]:
    """Change a Linear issue: title, description, state (e.g. to 'Done'), assignee, priority, project, labels
    or due date. Only the fields given change.

    Returns the issue as it is now. Needs the `write` scope.
    """
    ref = check_id(issue_id, "issue_id", identifier=True)
    payload: dict[str, Any] = {}
    if title is not None:
        payload["title"] = check_text(title, "title", maximum=MAX_TITLE_CHARS, example="Login fails").strip()
    if description is not None:
        payload["description"] = _optional_markdown(description, "description")
    if priority is not None:
        payload["priority"] = _priority(priority)
    if project_id is not None:
        payload["projectId"] = check_id(project_id, "project_id")
    if label_ids is not None:
        payload["labelIds"] = check_ids(label_ids, "label_ids")
    if due_date is not None:
        payload["dueDate"] = check_date(due_date, "due_date")
    if state is not None:
        check_text(state, "state", maximum=100, example="Done")
    if assignee is not None and not (isinstance(assignee, str) and assignee.strip().lower() in ("me", "none")):
        check_id(assignee, "assignee")
    if not payload and state is None and assignee is None:
        raise ToolExecutionError(
            "Nothing to change: give at least one of title, description, state, assignee, priority, project_id, "
            "label_ids or due_date."
        )
    if state is not None:
        data = await LinearAPI(context).graphql(queries.ISSUE_TEAM_STATES, {"id": ref}, what=f"the issue {ref}")
        team = (data.get("issue") or {}).get("team") or {}
        payload["stateId"] = _state_id(team, state)
    if assignee is not None:
        payload["assigneeId"] = await _assignee_id(context, assignee)
    data = await LinearAPI(context).graphql(queries.ISSUE_UPDATE, {"id": ref, "input": payload}, what=f"updating {ref}")
    updated = data.get("issueUpdate") or {}
    if not updated.get("success") or not isinstance(updated.get("issue"), dict):
        raise ToolExecutionError(f"Linear did not update {ref}; try again.")
    return queries.issue(updated["issue"])


@tool(requires_auth=Linear(scopes=["comments:create"]), title="Comment on a Linear issue", hints=ADDS)
async def comment_on_issue(
    context: ToolContext,
    issue_id: IssueId,
    body: Annotated[str, "The comment in Markdown."],
) -> dict[str, Any]:
    """Add a comment to a Linear issue as the signed-in user. Returns the comment's id, url and ISO 8601 time.
    Needs the `comments:create` scope."""
    ref = check_id(issue_id, "issue_id", identifier=True)
    text = check_text(body, "body", maximum=MAX_MARKDOWN_CHARS, example="Fixed in the latest release.")
    data = await LinearAPI(context).graphql(
        queries.COMMENT_CREATE, {"input": {"issueId": ref, "body": text}}, what=f"commenting on {ref}"
    )
    created = data.get("commentCreate") or {}
    node = created.get("comment")
    if not created.get("success") or not isinstance(node, dict):
        raise ToolExecutionError(f"Linear did not add the comment to {ref}; try again.")
    return {
        "issue": (node.get("issue") or {}).get("identifier") or ref,
        "url": node.get("url"),
        **queries.comment(node),
    }
