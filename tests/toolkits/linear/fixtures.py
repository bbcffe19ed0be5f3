"""Linear objects as its GraphQL API returns them. Linear publishes a schema, not example answers: these follow
the types of linear/linear packages/sdk/src/schema.graphql (Issue, Team, Project, WorkflowState, User, Comment,
Cycle, IssueLabel, ProjectStatus; DateTime as ISO 8601 in UTC with milliseconds, TimelessDate as YYYY-MM-DD), and
the stand-in only returns the fields each query selects. Values are made up in Linear's formats; that
`priorityLabel` reads "High" for priority 2 and that `url` has the form below are known from the live service."""

from __future__ import annotations

from typing import Any

TEAM_ENG = {
    "id": "9cfb482a-81e3-4154-b5b9-2c805e70a02d",
    "key": "ENG",
    "name": "Engineering",
    "description": "Builds the product",
}
STATES = [
    {"id": "7f0c8f5e-0c7c-4b2e-9b8a-2a6f4f6b1a01", "name": "Todo", "type": "unstarted"},
    {"id": "7f0c8f5e-0c7c-4b2e-9b8a-2a6f4f6b1a02", "name": "In Progress", "type": "started"},
    {"id": "7f0c8f5e-0c7c-4b2e-9b8a-2a6f4f6b1a03", "name": "Done", "type": "completed"},
]
TEAM_WITH_STATES = {**TEAM_ENG, "states": {"nodes": STATES}}
ANA = {"id": "3e2f6a1c-5b4d-4e8f-9a0b-1c2d3e4f5a6b", "name": "Ana Lima", "email": "ana@example.com"}
PROJECT = {
    "id": "5d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6",
    "name": "Mobile app v2",
    "description": "Rebuild the app",
    "url": "https://linear.app/acme/project/mobile-app-v2-5d1e2f3a",
    "progress": 0.42,
    "startDate": "2024-04-01",
    "targetDate": "2024-06-30",
    "updatedAt": "2024-05-02T08:15:30.000Z",
    "status": {"name": "In Progress", "type": "started"},
    "lead": ANA,
    "teams": {"nodes": [TEAM_ENG]},
}


def issue(number: int = 123, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": f"a1b2c3d4-0000-4000-8000-{number:012d}",
        "identifier": f"ENG-{number}",
        "title": "Login fails with SSO",
        "description": "Steps:\n1. Open the app\n2. Sign in with SSO",
        "priority": 2,
        "priorityLabel": "High",
        "url": f"https://linear.app/acme/issue/ENG-{number}/login-fails-with-sso",
        "branchName": f"ana/eng-{number}-login-fails-with-sso",
        "dueDate": "2024-05-31",
        "estimate": 3,
        "createdAt": "2024-05-01T09:30:00.000Z",
        "updatedAt": "2024-05-02T10:00:00.000Z",
        "completedAt": None,
        "state": STATES[0],
        "team": TEAM_WITH_STATES,
        "assignee": ANA,
        "creator": ANA,
        "project": PROJECT,
        "parent": None,
        "cycle": {"id": "c0c0c0c0-1111-4222-8333-444455556666", "number": 12, "name": None},
        "labels": {"nodes": [{"id": "1a1a1a1a-2b2b-4c3c-8d4d-5e5e5e5e5e5e", "name": "Bug"}]},
        "comments": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}},
    }
    return base | changes


def connection(nodes: list[dict[str, Any]], *, end: str | None = None) -> dict[str, Any]:
    """A Linear connection page (`nodes` + PageInfo); `end` is the cursor of a page followed by another."""
    return {
        "nodes": nodes,
        "pageInfo": {"hasNextPage": end is not None, "endCursor": end, "hasPreviousPage": False, "startCursor": None},
    }


COMMENT = {
    "id": "e5e5e5e5-6f6f-4a7a-8b8b-9c9c9c9c9c9c",
    "body": "Fixed in 2.3.1",
    "url": "https://linear.app/acme/issue/ENG-123/login-fails-with-sso#comment-e5e5e5e5",
    "createdAt": "2024-05-03T12:00:00.000Z",
    "user": ANA,
}
