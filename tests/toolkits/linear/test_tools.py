"""Unit tests of the Linear toolkit against a stand-in that validates every request against Linear's published
GraphQL schema and answers from fixtures in its types."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest

from mcp_server import (
    ToolExecutionError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamServerError,
)
from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry
from tests.toolkits.linear import fixtures
from tests.toolkits.linear.standin import Standin, make_context, operation_name
from toolkits.linear import (
    comment_on_issue,
    create_issue,
    get_issue,
    list_issues,
    list_projects,
    list_teams,
    search_issues,
    update_issue,
)

pytestmark = pytest.mark.anyio

ISSUE_123 = fixtures.issue(123)
VIEWER = {"id": fixtures.ANA["id"], "name": "Ana Lima"}


def test_catalog_scopes_and_annotations() -> None:
    catalog = load_catalog(["toolkits.linear"], ProviderRegistry({}))
    declared = {
        t.mcp_name: (t.requirement.id, tuple(t.requirement.scopes), t.hints["readOnlyHint"])
        for t in catalog
        if t.requirement
    }
    assert declared == {
        "Linear_ListTeams": ("linear", ("read",), True),
        "Linear_ListProjects": ("linear", ("read",), True),
        "Linear_ListIssues": ("linear", ("read",), True),
        "Linear_SearchIssues": ("linear", ("read",), True),
        "Linear_GetIssue": ("linear", ("read",), True),
        "Linear_CreateIssue": ("linear", ("issues:create",), False),
        "Linear_UpdateIssue": ("linear", ("write",), False),
        "Linear_CommentOnIssue": ("linear", ("comments:create",), False),
    }
    for definition in catalog:
        assert definition.title and definition.hints["openWorldHint"] is True
    assert catalog.get("Linear_UpdateIssue").hints["destructiveHint"] is True  # type: ignore[union-attr]
    assert catalog.get("Linear_CreateIssue").hints["destructiveHint"] is False  # type: ignore[union-attr]


async def test_list_teams_follows_the_cursor_up_to_the_limit() -> None:
    pages = {
        None: fixtures.connection([fixtures.TEAM_ENG], end="cursor-1"),
        "cursor-1": fixtures.connection(
            [fixtures.TEAM_ENG | {"id": "1" * 8 + "-1111-4111-8111-" + "1" * 12, "key": "OPS", "name": "Operations"}]
        ),
    }
    context, standin = make_context({"teams": lambda first, after=None: pages[after]})
    result = await list_teams(context, limit=5)
    assert [op["variables"] for op in standin.operations] == [
        {"first": 5, "after": None},
        {"first": 4, "after": "cursor-1"},
    ]
    assert result == {
        "teams": [
            {
                "id": "9cfb482a-81e3-4154-b5b9-2c805e70a02d",
                "key": "ENG",
                "name": "Engineering",
                "description": "Builds the product",
            },
            {
                "id": "11111111-1111-4111-8111-111111111111",
                "key": "OPS",
                "name": "Operations",
                "description": "Builds the product",
            },
        ],
        "count": 2,
        "more_available": False,
    }


async def test_list_projects_of_a_team_by_key() -> None:
    context, standin = make_context({"projects": lambda **args: fixtures.connection([fixtures.PROJECT], end="c2")})
    result = await list_projects(context, team="eng", limit=1)
    assert standin.operations[0]["variables"] == {
        "filter": {"accessibleTeams": {"some": {"key": {"eqIgnoreCase": "ENG"}}}},
        "first": 1,
        "after": None,
    }
    assert result["more_available"] is True
    assert result["projects"] == [
        {
            "id": "5d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6",
            "name": "Mobile app v2",
            "status": "In Progress",
            "status_type": "started",
            "lead": "Ana Lima",
            "teams": ["ENG"],
            "progress": 0.42,
            "start_date": "2024-04-01",
            "target_date": "2024-06-30",
            "updated_at": "2024-05-02T08:15:30+00:00",
            "url": "https://linear.app/acme/project/mobile-app-v2-5d1e2f3a",
            "description": "Rebuild the app",
        }
    ]


async def test_list_issues_combines_the_filters() -> None:
    context, standin = make_context({"issues": lambda **args: fixtures.connection([ISSUE_123])})
    result = await list_issues(
        context,
        team="ENG",
        assigned_to_me=True,
        state_types=["unstarted", "started"],
        project_id=fixtures.PROJECT["id"],
        limit=10,
    )
    assert standin.operations[0]["variables"] == {
        "filter": {
            "and": [
                {"team": {"key": {"eqIgnoreCase": "ENG"}}},
                {"assignee": {"isMe": {"eq": True}}},
                {"state": {"type": {"in": ["unstarted", "started"]}}},
                {"project": {"id": {"eq": "5d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"}}},
            ]
        },
        "first": 10,
        "after": None,
    }
    assert result["issues"] == [
        {
            "id": "a1b2c3d4-0000-4000-8000-000000000123",
            "identifier": "ENG-123",
            "title": "Login fails with SSO",
            "state": "Todo",
            "state_type": "unstarted",
            "priority": "High",
            "team": "ENG",
            "assignee": "Ana Lima",
            "project": "Mobile app v2",
            "labels": ["Bug"],
            "due_date": "2024-05-31",
            "estimate": 3.0,
            "created_at": "2024-05-01T09:30:00+00:00",
            "updated_at": "2024-05-02T10:00:00+00:00",
            "completed_at": None,
            "url": "https://linear.app/acme/issue/ENG-123/login-fails-with-sso",
        }
    ]


async def test_search_issues_sends_the_term() -> None:
    context, standin = make_context({"searchIssues": lambda **args: fixtures.connection([ISSUE_123])})
    result = await search_issues(context, query="  sso login ", limit=3)
    assert operation_name(standin.operations[0]) == "SearchIssues"
    assert standin.operations[0]["variables"] == {"term": "sso login", "first": 3, "after": None}
    assert result["issues"][0]["identifier"] == "ENG-123"


async def test_get_issue_by_identifier_with_comments() -> None:
    detailed = fixtures.issue(
        123, comments=fixtures.connection([fixtures.COMMENT], end="more"), parent=fixtures.issue(100, title="SSO epic")
    )
    seen: list[str] = []

    def lookup(id: str) -> dict[str, Any]:
        seen.append(id)
        return detailed

    context, _standin = make_context({"issue": lookup})
    result = await get_issue(context, issue_id="eng-123")
    assert seen == ["ENG-123"]
    assert result["description"] == "Steps:\n1. Open the app\n2. Sign in with SSO"
    assert result["branch_name"] == "ana/eng-123-login-fails-with-sso"
    assert result["parent"] == "ENG-100" and result["cycle"] == 12 and result["creator"] == "Ana Lima"
    assert result["comments"] == [
        {
            "id": "e5e5e5e5-6f6f-4a7a-8b8b-9c9c9c9c9c9c",
            "author": "Ana Lima",
            "created_at": "2024-05-03T12:00:00+00:00",
            "body": "Fixed in 2.3.1",
        }
    ]
    assert result["more_comments"] is True


async def test_create_issue_resolves_team_key_state_and_me() -> None:
    created: list[dict[str, Any]] = []

    def issue_create(input: dict[str, Any]) -> dict[str, Any]:
        created.append(input)
        return {"success": True, "lastSyncId": 1, "issue": fixtures.issue(124, title=input["title"])}

    context, standin = make_context(
        {
            "teams": lambda **args: fixtures.connection([fixtures.TEAM_WITH_STATES]),
            "viewer": VIEWER,
            "issueCreate": issue_create,
        }
    )
    result = await create_issue(
        context,
        team="eng",
        title=" Crash on start ",
        description="It crashes.",
        assignee="me",
        priority="urgent",
        state="in progress",
        project_id=fixtures.PROJECT["id"],
        due_date="2024-06-01",
    )
    assert [operation_name(op) for op in standin.operations] == ["TeamByKey", "Viewer", "IssueCreate"]
    assert standin.operations[0]["variables"] == {"key": "ENG"}
    assert created == [
        {
            "title": "Crash on start",
            "description": "It crashes.",
            "priority": 1,
            "projectId": "5d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6",
            "dueDate": "2024-06-01",
            "teamId": "9cfb482a-81e3-4154-b5b9-2c805e70a02d",
            "stateId": "7f0c8f5e-0c7c-4b2e-9b8a-2a6f4f6b1a02",
            "assigneeId": "3e2f6a1c-5b4d-4e8f-9a0b-1c2d3e4f5a6b",
        }
    ]
    assert result["identifier"] == "ENG-124" and result["title"] == "Crash on start"


async def test_create_issue_with_a_team_id_sends_one_request() -> None:
    context, standin = make_context(
        {"issueCreate": lambda input: {"success": True, "lastSyncId": 1, "issue": fixtures.issue(125)}}
    )
    await create_issue(context, team=fixtures.TEAM_ENG["id"], title="t")
    assert [operation_name(op) for op in standin.operations] == ["IssueCreate"]
    assert standin.operations[0]["variables"] == {"input": {"title": "t", "teamId": fixtures.TEAM_ENG["id"]}}


async def test_an_unknown_state_lists_the_teams_states() -> None:
    context, standin = make_context({"teams": lambda **args: fixtures.connection([fixtures.TEAM_WITH_STATES])})
    with pytest.raises(ToolExecutionError) as caught:
        await create_issue(context, team="ENG", title="t", state="Doing")
    assert "'Todo', 'In Progress', 'Done'" in str(caught.value)
    assert len(standin.operations) == 1  # nothing created


async def test_update_issue_moves_it_to_done_and_unassigns() -> None:
    updates: list[tuple[str, dict[str, Any]]] = []

    def issue_update(id: str, input: dict[str, Any]) -> dict[str, Any]:
        updates.append((id, input))
        return {
            "success": True,
            "lastSyncId": 2,
            "issue": fixtures.issue(
                123, state=fixtures.STATES[2], assignee=None, completedAt="2024-05-04T16:20:00.000Z"
            ),
        }

    context, standin = make_context({"issue": lambda id: ISSUE_123, "issueUpdate": issue_update}, scopes=("write",))
    result = await update_issue(
        context, issue_id="ENG-123", state="done", assignee="none", priority="low", label_ids=[]
    )
    assert [operation_name(op) for op in standin.operations] == ["IssueTeamStates", "IssueUpdate"]
    assert updates == [
        (
            "ENG-123",
            {"priority": 4, "labelIds": [], "stateId": "7f0c8f5e-0c7c-4b2e-9b8a-2a6f4f6b1a03", "assigneeId": None},
        )
    ]
    assert result["state"] == "Done" and result["assignee"] is None
    assert result["completed_at"] == "2024-05-04T16:20:00+00:00"


async def test_comment_on_issue() -> None:
    comments: list[dict[str, Any]] = []

    def comment_create(input: dict[str, Any]) -> dict[str, Any]:
        comments.append(input)
        return {"success": True, "lastSyncId": 3, "comment": fixtures.COMMENT | {"issue": ISSUE_123}}

    context, _ = make_context({"commentCreate": comment_create}, scopes=("comments:create",))
    result = await comment_on_issue(context, issue_id="ENG-123", body="Fixed in 2.3.1")
    assert comments == [{"issueId": "ENG-123", "body": "Fixed in 2.3.1"}]
    assert result == {
        "issue": "ENG-123",
        "url": fixtures.COMMENT["url"],
        "id": fixtures.COMMENT["id"],
        "author": "Ana Lima",
        "created_at": "2024-05-03T12:00:00+00:00",
        "body": "Fixed in 2.3.1",
    }


# --- errors: Linear answers GraphQL errors with `extensions.type` (packages/sdk/src/error.ts); the HTTP status
# that comes with each (200 or 400) is known only from the live service, so both are tried. -------------------


def error_answer(kind: str, status: int, headers: dict[str, str] | None = None) -> Any:
    body = {"errors": [{"message": "x", "extensions": {"type": kind, "userPresentableMessage": "secret detail"}}]}
    return lambda request: httpx2.Response(status, json=body, headers=headers)


@pytest.mark.parametrize("status", [200, 400])
async def test_an_authentication_error_lets_the_gate_refresh(status: int) -> None:
    context, _ = make_context(error_answer("authentication error", status))
    with pytest.raises(UpstreamAuthError):
        await list_teams(context)


async def test_ratelimited_waits_until_the_reset_in_milliseconds() -> None:
    reset = str(int((time.time() + 90) * 1000))
    context, _ = make_context(error_answer("ratelimited", 400, {"X-RateLimit-Requests-Reset": reset}))
    with pytest.raises(UpstreamRateLimitError) as caught:
        await search_issues(context, query="x")
    assert caught.value.retry_after is not None and 60 <= caught.value.retry_after <= 91


@pytest.mark.parametrize(
    ("kind", "expected", "retryable"),
    [
        ("forbidden", "refused access", False),
        ("invalid input", "not valid", False),
        ("usage limit exceeded", "usage limit exceeded", False),
        ("lock timeout", "try again later", True),
        ("internal error", "try again later", True),
    ],
)
async def test_other_errors_say_what_failed_without_linears_text(kind: str, expected: str, retryable: bool) -> None:
    context, _ = make_context(error_answer(kind, 400))
    with pytest.raises(UpstreamError) as caught:
        await get_issue(context, issue_id="ENG-1")
    assert expected in str(caught.value) and "secret detail" not in str(caught.value)
    assert isinstance(caught.value, UpstreamServerError) is retryable


@pytest.mark.parametrize("body", [{"text": "unavailable"}, {"json": {"errors": [{"message": "x"}]}}])
async def test_a_5xx_goes_through_the_common_mapping(body: dict[str, Any]) -> None:
    context, _ = make_context(lambda request: httpx2.Response(503, **body))
    with pytest.raises(UpstreamServerError) as caught:
        await list_teams(context)
    assert caught.value.status_code == 503


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: list_teams(c, limit=0), "1 to 250"),
        (lambda c: list_projects(c, team="not a team"), "team 'not a team'"),
        (lambda c: list_issues(c, state_types=["open"]), "state_types"),
        (lambda c: list_issues(c, assigned_to_me="yes"), "assigned_to_me"),
        (lambda c: list_issues(c, project_id="p1"), "project_id 'p1'"),
        (lambda c: search_issues(c, query=" "), "query is empty"),
        (lambda c: get_issue(c, issue_id="123"), "issue_id '123'"),
        (lambda c: get_issue(c, issue_id="https://linear.app/acme/issue/ENG-1"), "'ENG-123' or a UUID"),
        (lambda c: create_issue(c, team="ENG", title=""), "title is empty"),
        (lambda c: create_issue(c, team="ENG", title="t", priority="p1"), "priority 'p1'"),
        (lambda c: update_issue(c, issue_id="ENG-1", priority=["high"]), "priority ['high']"),
        (lambda c: create_issue(c, team="ENG", title="t", due_date="31/05/2024"), "YYYY-MM-DD"),
        (lambda c: create_issue(c, team="ENG", title="t", assignee="ana@example.com"), "assignee"),
        (lambda c: create_issue(c, team="ENG", title="t", label_ids="bug"), "list of Linear ids"),
        (lambda c: update_issue(c, issue_id="ENG-1"), "Nothing to change"),
        (lambda c: update_issue(c, issue_id="ENG-1", state=""), "state is empty"),
        (lambda c: comment_on_issue(c, issue_id="ENG-1", body=""), "body is empty"),
    ],
)
async def test_bad_input_is_refused_before_any_request(call: Any, expected: str) -> None:
    standin = Standin({})
    context, _ = make_context(standin)
    with pytest.raises(ToolExecutionError) as caught:
        await call(context)
    assert expected in str(caught.value)
    assert not isinstance(caught.value, UpstreamError)
    assert standin.requests == []
