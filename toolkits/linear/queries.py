"""The GraphQL documents the Linear tools send, and the shaping of what they answer.

Field names are those of linear/linear `packages/sdk/src/schema.graphql` (types Issue, Team, Project,
WorkflowState, Comment, User, PageInfo; queries `issues`, `issue`, `searchIssues`, `teams`, `team`, `projects`,
`viewer`; mutations `issueCreate`, `issueUpdate`, `commentCreate`).
"""

from __future__ import annotations

from typing import Any

from mcp_server import iso_datetime, pick

__all__ = [
    "COMMENT_CREATE",
    "ISSUE",
    "ISSUES",
    "ISSUE_CREATE",
    "ISSUE_TEAM_STATES",
    "ISSUE_UPDATE",
    "PRIORITIES",
    "PROJECTS",
    "SEARCH_ISSUES",
    "TEAMS",
    "TEAM_BY_KEY",
    "TEAM_STATES",
    "VIEWER",
    "comment",
    "issue",
    "project",
    "team",
]

# Issue priority as Linear numbers it (IssueCreateInput.priority): 0 none, 1 urgent, 2 high, 3 medium, 4 low.
PRIORITIES = {"none": 0, "urgent": 1, "high": 2, "medium": 3, "low": 4}

ISSUE_FIELDS = """
  id identifier title priority priorityLabel url dueDate estimate createdAt updatedAt completedAt
  state { id name type }
  team { id key name }
  assignee { id name email }
  project { id name }
  labels(first: 20) { nodes { id name } }
"""

ISSUES = f"""
query Issues($filter: IssueFilter, $first: Int, $after: String) {{
  issues(filter: $filter, first: $first, after: $after, orderBy: updatedAt) {{
    nodes {{ {ISSUE_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

SEARCH_ISSUES = f"""
query SearchIssues($term: String!, $first: Int, $after: String) {{
  searchIssues(term: $term, first: $first, after: $after) {{
    nodes {{ {ISSUE_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

ISSUE = f"""
query Issue($id: String!) {{
  issue(id: $id) {{
    {ISSUE_FIELDS}
    description branchName
    creator {{ id name }}
    parent {{ id identifier title }}
    cycle {{ id number name }}
    comments(first: 50) {{ nodes {{ id body createdAt user {{ id name }} }} pageInfo {{ hasNextPage }} }}
  }}
}}
"""

ISSUE_CREATE = f"""
mutation IssueCreate($input: IssueCreateInput!) {{
  issueCreate(input: $input) {{ success issue {{ {ISSUE_FIELDS} }} }}
}}
"""

ISSUE_UPDATE = f"""
mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) {{
  issueUpdate(id: $id, input: $input) {{ success issue {{ {ISSUE_FIELDS} }} }}
}}
"""

COMMENT_CREATE = """
mutation CommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id body url createdAt user { id name } issue { id identifier } } }
}
"""

STATES = "states { nodes { id name type } }"

TEAM_BY_KEY = f"""
query TeamByKey($key: String!) {{
  teams(filter: {{ key: {{ eqIgnoreCase: $key }} }}, first: 1) {{ nodes {{ id key name {STATES} }} }}
}}
"""

TEAM_STATES = f"""
query TeamStates($id: String!) {{
  team(id: $id) {{ id key name {STATES} }}
}}
"""

ISSUE_TEAM_STATES = f"""
query IssueTeamStates($id: String!) {{
  issue(id: $id) {{ id team {{ id key name {STATES} }} }}
}}
"""

VIEWER = "query Viewer { viewer { id name } }"

TEAMS = """
query Teams($first: Int, $after: String) {
  teams(first: $first, after: $after) {
    nodes { id key name description }
    pageInfo { hasNextPage endCursor }
  }
}
"""

PROJECTS = """
query Projects($filter: ProjectFilter, $first: Int, $after: String) {
  projects(filter: $filter, first: $first, after: $after, orderBy: updatedAt) {
    nodes {
      id name description url progress startDate targetDate updatedAt
      status { name type }
      lead { id name }
      teams(first: 10) { nodes { id key } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _name(node: Any, field: str = "name") -> Any:
    return node.get(field) if isinstance(node, dict) else None


def _nodes(connection: Any) -> list[dict[str, Any]]:
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    return [node for node in nodes or [] if isinstance(node, dict)]


def issue(node: dict[str, Any]) -> dict[str, Any]:
    """An Issue as the tools return it: identifier and id for the next tool, names instead of objects."""
    state = node.get("state") or {}
    result: dict[str, Any] = {
        **pick(node, "id", "identifier", "title"),
        "state": state.get("name"),
        "state_type": state.get("type"),
        "priority": node.get("priorityLabel"),
        "team": _name(node.get("team"), "key"),
        "assignee": _name(node.get("assignee")),
        "project": _name(node.get("project")),
        "labels": [label.get("name") for label in _nodes(node.get("labels"))],
        "due_date": node.get("dueDate"),
        "estimate": node.get("estimate"),
        "created_at": iso_datetime(node.get("createdAt")),
        "updated_at": iso_datetime(node.get("updatedAt")),
        "completed_at": iso_datetime(node.get("completedAt")),
        "url": node.get("url"),
    }
    if "description" in node:
        parent = node.get("parent")
        cycle = node.get("cycle")
        comments = node.get("comments") or {}
        result.update(
            {
                "description": node.get("description") or "",
                "branch_name": node.get("branchName"),
                "creator": _name(node.get("creator")),
                "parent": _name(parent, "identifier"),
                "cycle": cycle.get("name") or cycle.get("number") if isinstance(cycle, dict) else None,
                "comments": [comment(c) for c in _nodes(comments)],
                "more_comments": bool((comments.get("pageInfo") or {}).get("hasNextPage")),
            }
        )
    return result


def comment(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node.get("id"),
        "author": _name(node.get("user")),
        "created_at": iso_datetime(node.get("createdAt")),
        "body": node.get("body") or "",
    }


def team(node: dict[str, Any]) -> dict[str, Any]:
    return {
        **pick(node, "id", "key", "name", "description"),
    }


def project(node: dict[str, Any]) -> dict[str, Any]:
    status = node.get("status") or {}
    return {
        **pick(node, "id", "name"),
        "status": status.get("name"),
        "status_type": status.get("type"),
        "lead": _name(node.get("lead")),
        "teams": [t.get("key") for t in _nodes(node.get("teams"))],
        "progress": node.get("progress"),
        "start_date": node.get("startDate"),
        "target_date": node.get("targetDate"),
        "updated_at": iso_datetime(node.get("updatedAt")),
        "url": node.get("url"),
        "description": node.get("description") or "",
    }
