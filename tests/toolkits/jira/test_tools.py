"""The Jira tools against a stand-in of the Jira Cloud REST API v3 answering with its documented examples
(jira_examples.py)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from mcp_server import ToolContext, ToolExecutionError, UpstreamError, UpstreamRateLimitError
from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry
from tests.toolkits.jira.jira_examples import (
    CLOUD_ID,
    CREATE_400,
    CREATE_400_FIELDS,
    CREATED_COMMENT,
    CREATED_ISSUE,
    ISSUE,
    JIRA_SITE,
    PROJECTS_PAGE_1,
    PROJECTS_PAGE_2,
    SEARCH_ISSUE,
    SECOND_ISSUE,
    TRANSITIONS,
    search_page,
)
from tests.toolkits.recorder import Recorder, body_of, context_for
from toolkits.jira import (
    comment_on_issue,
    create_issue,
    get_issue,
    list_projects,
    list_transitions,
    search_issues,
    sites,
    transition_issue,
    update_issue,
)
from toolkits.jira.sites import Site, SiteCache

pytestmark = pytest.mark.anyio

BASE = "https://atlassian.test"
API = f"/ex/jira/{CLOUD_ID}/rest/api/3"
TOKEN = "tok-atl-1"
SITE = Site(cloud_id=CLOUD_ID, name="Site name", url="https://your-domain.atlassian.net")
SEARCH_FIELDS = [
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


@pytest.fixture(autouse=True)
def known_site(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's one site is already discovered (test_sites.py covers the discovery), so each test sees only
    the Jira requests of the tool."""
    cache = SiteCache()
    cache.put(("u1", "atlassian", ""), (SITE,))
    monkeypatch.setattr(sites, "CACHE", cache)


def make_context(recorder: Recorder) -> ToolContext:
    return context_for(recorder, provider_id="atlassian", token=TOKEN, settings={"api_base_url": BASE})


def adf(*paragraphs: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paragraphs],
    }


SHAPED_ED_1 = {
    "key": "ED-1",
    "id": "10002",
    "summary": "Main order flow broken",
    "status": "In Progress",
    "status_category": "indeterminate",
    "type": "Bug",
    "priority": "High",
    "assignee": {"account_id": "5b10a2844c20165700ede21g", "name": "Mia Krystof"},
    "reporter": {"account_id": "5b10ac8d82e05b22cc7d4ef5", "name": "Emma Richards"},
    "project": "EX",
    "parent": None,
    "labels": ["bugfix", "blitz_test"],
    "due_date": "2019-05-11",
    "created": "2021-01-17T12:34:00+00:00",
    "updated": "2021-01-18T23:45:00+10:00",
    "url": "https://your-domain.atlassian.net/browse/ED-1",
}


# --- SearchIssues --------------------------------------------------------------------------------------------


async def test_search_issues_posts_the_jql_and_follows_next_page_token() -> None:
    recorder = Recorder(
        httpx2.Response(200, json=search_page(SEARCH_ISSUE, next_page_token="CAEaAggD")),
        httpx2.Response(200, json=search_page(SECOND_ISSUE)),
    )
    result = await search_issues(make_context(recorder), jql=" project = EX ORDER BY updated DESC ", max_results=10)
    first, second = recorder.requests
    for request in (first, second):
        assert request.method == "POST" and request.url.path == f"{API}/search/jql"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert str(request.url).startswith(BASE)
    assert body_of(first) == {"jql": "project = EX ORDER BY updated DESC", "maxResults": 10, "fields": SEARCH_FIELDS}
    assert body_of(second) == {**body_of(first), "maxResults": 9, "nextPageToken": "CAEaAggD"}
    assert result["issues"][0] == SHAPED_ED_1
    assert result["issues"][1]["key"] == "ED-2" and result["issues"][1]["assignee"] is None
    assert result["issues"][1]["status_category"] == "new"
    assert (result["count"], result["truncated"], result["site"]) == (2, False, "https://your-domain.atlassian.net")


async def test_search_issues_stops_after_a_bounded_number_of_pages() -> None:
    def endless(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=search_page(SEARCH_ISSUE, next_page_token="more"))

    recorder = Recorder(*([endless] * 10))
    result = await search_issues(make_context(recorder), jql="project = EX", max_results=100)
    assert len(recorder.requests) == 5
    assert result["count"] == 5 and result["truncated"] is True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"jql": "  "}, "jql is empty", id="empty"),
        pytest.param({"jql": "x" * 10_001}, "longer than 10000", id="long"),
        pytest.param({"max_results": 0}, "from 1 to 100", id="zero"),
        pytest.param({"max_results": True}, "from 1 to 100", id="bool"),
    ],
)
async def test_search_issues_rejects_bad_input_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await search_issues(make_context(recorder), **{"jql": "project = EX", **arguments})
    assert recorder.requests == []


async def test_a_bad_jql_names_no_jira_text_but_says_what_to_check() -> None:
    # searchAndReconsileIssuesUsingJqlPost 400: "Returned if the search request is invalid"; the body is an
    # ErrorCollection whose messages may quote the user's data, so the toolkit does not repeat them.
    recorder = Recorder(
        httpx2.Response(400, json={"errorMessages": ["Field 'secret-thing' does not exist"], "errors": {}})
    )
    with pytest.raises(UpstreamError, match=r"Jira rejected the Jira search \(HTTP 400\)\. Check the values") as caught:
        await search_issues(make_context(recorder), jql="secret-thing = 1")
    assert "secret-thing" not in str(caught.value)
    assert caught.value.status_code == 400


# --- GetIssue ------------------------------------------------------------------------------------------------


async def test_get_issue_returns_the_description_and_comments_as_text() -> None:
    recorder = Recorder(httpx2.Response(200, json=ISSUE))
    result = await get_issue(make_context(recorder), issue="ed-1")
    request = recorder.only()
    assert request.method == "GET" and request.url.path == f"{API}/issue/ED-1"
    assert dict(request.url.params) == {"fields": ",".join([*SEARCH_FIELDS, "description", "comment"])}
    assert result == {
        **SHAPED_ED_1,
        "description": "Main order flow broken",
        "description_truncated": False,
        "comments": [
            {
                "id": "10000",
                "author": {"account_id": "5b10a2844c20165700ede21g", "name": "Mia Krystof"},
                "created": "2021-01-17T12:34:00+00:00",
                "text": ISSUE["fields"]["comment"]["comments"][0]["body"]["content"][0]["content"][0]["text"],
                "text_truncated": False,
            }
        ],
        "comment_count": 1,
    }


async def test_get_issue_reads_the_comment_list_form_of_the_openapi_example() -> None:
    issue = {**ISSUE, "fields": {**ISSUE["fields"], "comment": ISSUE["fields"]["comment"]["comments"], "updated": 1}}
    result = await get_issue(make_context(Recorder(httpx2.Response(200, json=issue))), issue="10002")
    assert result["comment_count"] == 1 and result["comments"][0]["id"] == "10000"
    assert result["updated"] is None


@pytest.mark.parametrize("bad", ["", "ED", "ED-", "-1", "ED-1/../2", "ED 1", "ED-1?x"])
async def test_issue_keys_are_checked_before_any_request(bad: str) -> None:
    recorder = Recorder()
    for call in (
        lambda c: get_issue(c, issue=bad),
        lambda c: update_issue(c, issue=bad, summary="x"),
        lambda c: transition_issue(c, issue=bad, transition="Done"),
        lambda c: comment_on_issue(c, issue=bad, text="x"),
        lambda c: list_transitions(c, issue=bad),
    ):
        with pytest.raises(ToolExecutionError, match="not a Jira issue key or id"):
            await call(make_context(recorder))
    assert recorder.requests == []


# --- CreateIssue ---------------------------------------------------------------------------------------------


async def test_create_issue_sends_fields_with_an_adf_description() -> None:
    recorder = Recorder(httpx2.Response(201, json=CREATED_ISSUE))
    result = await create_issue(
        make_context(recorder),
        project="ed",
        summary=" Main order flow broken ",
        issue_type="Bug",
        description="Order entry fails when selecting supplier.\n\n- open the form\n- pick a supplier",
        labels=["bugfix", "blitz_test", "bugfix"],
        priority="High",
        assignee_account_id="5b109f2e9729b51b54dc274d",
        parent="PROJ-123",
        due_date="2019-05-11",
    )
    request = recorder.only()
    assert request.method == "POST" and request.url.path == f"{API}/issue"
    assert request.url.query == b""
    assert body_of(request) == {
        "fields": {
            "project": {"key": "ED"},
            "summary": "Main order flow broken",
            "issuetype": {"name": "Bug"},
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [{"type": "text", "text": "Order entry fails when selecting supplier."}],
                    },
                    {
                        "type": "bulletList",
                        "content": [
                            {
                                "type": "listItem",
                                "content": [
                                    {"type": "paragraph", "content": [{"type": "text", "text": "open the form"}]}
                                ],
                            },
                            {
                                "type": "listItem",
                                "content": [
                                    {"type": "paragraph", "content": [{"type": "text", "text": "pick a supplier"}]}
                                ],
                            },
                        ],
                    },
                ],
            },
            "labels": ["bugfix", "blitz_test"],
            "priority": {"name": "High"},
            "assignee": {"accountId": "5b109f2e9729b51b54dc274d"},
            "duedate": "2019-05-11",
            "parent": {"key": "PROJ-123"},
        }
    }
    assert result == {"key": "ED-24", "id": "10000", "url": "https://your-domain.atlassian.net/browse/ED-24"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"project": "E D"}, "not a Jira project key", id="project"),
        pytest.param({"summary": ""}, "one line of 1 to 255", id="no-summary"),
        pytest.param({"summary": "a\nb"}, "one line of 1 to 255", id="two-lines"),
        pytest.param({"summary": "s" * 256}, "one line of 1 to 255", id="long-summary"),
        pytest.param({"issue_type": " "}, "issue_type is empty", id="no-type"),
        pytest.param({"labels": ["two words"]}, "cannot be empty or contain spaces", id="label"),
        pytest.param({"due_date": "next friday"}, "not a date", id="due-date"),
        pytest.param({"assignee_account_id": "ana@example.com"}, "not an Atlassian account id", id="assignee"),
        pytest.param({"parent": "epic"}, "not a Jira issue key", id="parent"),
        pytest.param({"description": "d" * 32_001}, "at most 32000", id="long-description"),
    ],
)
async def test_create_issue_rejects_bad_input_before_any_request(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match=message):
        await create_issue(make_context(recorder), **{"project": "ED", "summary": "Broken", **arguments})
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("answer", "fields"),
    [(CREATE_400, ""), (CREATE_400_FIELDS, "; it refused the field(s) issuetype, priority")],
)
async def test_create_issue_400_names_only_the_refused_fields(answer: dict[str, Any], fields: str) -> None:
    recorder = Recorder(httpx2.Response(400, json=answer))
    with pytest.raises(UpstreamError) as caught:
        await create_issue(make_context(recorder), project="ED", summary="Broken", priority="Urgentest")
    assert str(caught.value).startswith(f"Jira rejected creating the issue (HTTP 400){fields}. Check the values")
    assert "Urgentest" not in str(caught.value)


# --- UpdateIssue ---------------------------------------------------------------------------------------------


async def test_update_issue_puts_only_the_given_fields() -> None:
    # editIssue (PUT /rest/api/3/issue/{issueIdOrKey}): 204 No Content.
    recorder = Recorder(httpx2.Response(204))
    result = await update_issue(
        make_context(recorder),
        issue="ED-1",
        summary="Completed orders still displaying in pending",
        description="Investigation underway",
        labels=[],
        assignee_account_id="",
    )
    request = recorder.only()
    assert request.method == "PUT" and request.url.path == f"{API}/issue/ED-1"
    assert body_of(request) == {
        "fields": {
            "summary": "Completed orders still displaying in pending",
            "description": adf("Investigation underway"),
            "labels": [],
            "assignee": None,
        }
    }
    assert result == {
        "key": "ED-1",
        "updated": ["assignee", "description", "labels", "summary"],
        "url": "https://your-domain.atlassian.net/browse/ED-1",
    }


async def test_update_issue_needs_a_change() -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match="Nothing to change"):
        await update_issue(make_context(recorder), issue="ED-1", summary=" ")
    assert recorder.requests == []


# --- Transitions ---------------------------------------------------------------------------------------------


async def test_list_transitions_shapes_name_and_target_status() -> None:
    recorder = Recorder(httpx2.Response(200, json=TRANSITIONS))
    result = await list_transitions(make_context(recorder), issue="ED-1")
    assert recorder.only().url.path == f"{API}/issue/ED-1/transitions"
    assert result == {
        "key": "ED-1",
        "transitions": [
            {"id": "2", "name": "Close Issue", "to_status": "In Progress"},
            {"id": "711", "name": "QA Review", "to_status": "Closed"},
        ],
    }


@pytest.mark.parametrize("wanted", ["711", "qa review", "Closed"])
async def test_transition_issue_finds_the_transition_by_id_name_or_status(wanted: str) -> None:
    # doTransition (POST /rest/api/3/issue/{issueIdOrKey}/transitions): 204; the comment goes in `update`, as
    # in the documented request example.
    recorder = Recorder(httpx2.Response(200, json=TRANSITIONS), httpx2.Response(204))
    result = await transition_issue(
        make_context(recorder), issue="ED-1", transition=wanted, comment="Bug has been fixed"
    )
    listing, move = recorder.requests
    assert listing.method == "GET" and listing.url.path == f"{API}/issue/ED-1/transitions"
    assert move.method == "POST" and move.url.path == f"{API}/issue/ED-1/transitions"
    assert body_of(move) == {
        "transition": {"id": "711"},
        "update": {"comment": [{"add": {"body": adf("Bug has been fixed")}}]},
    }
    assert result == {"key": "ED-1", "transition": "QA Review", "status": "Closed"}


async def test_transition_issue_lists_what_is_available_when_nothing_matches() -> None:
    recorder = Recorder(httpx2.Response(200, json=TRANSITIONS))
    with pytest.raises(
        ToolExecutionError,
        match=(
            r"ED-1 has no transition 'Done' now; the available ones are: "
            r"'Close Issue' \(to In Progress\), 'QA Review' \(to Closed\)"
        ),
    ):
        await transition_issue(make_context(recorder), issue="ED-1", transition="Done")
    assert len(recorder.requests) == 1  # never the POST


# --- CommentOnIssue ------------------------------------------------------------------------------------------


async def test_comment_on_issue_posts_an_adf_body() -> None:
    recorder = Recorder(httpx2.Response(201, json=CREATED_COMMENT))
    result = await comment_on_issue(
        make_context(recorder), issue="ED-1", text="Lorem ipsum.\nSecond line.\n\nNew paragraph."
    )
    request = recorder.only()
    assert request.method == "POST" and request.url.path == f"{API}/issue/ED-1/comment"
    assert body_of(request) == {
        "body": {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "text", "text": "Lorem ipsum."},
                        {"type": "hardBreak"},
                        {"type": "text", "text": "Second line."},
                    ],
                },
                {"type": "paragraph", "content": [{"type": "text", "text": "New paragraph."}]},
            ],
        }
    }
    assert result == {
        "key": "ED-1",
        "comment_id": "10000",
        "author": {"account_id": "5b10a2844c20165700ede21g", "name": "Mia Krystof"},
        "created": "2021-01-17T12:34:00+00:00",
    }


async def test_comment_on_issue_needs_text() -> None:
    recorder = Recorder()
    with pytest.raises(ToolExecutionError, match="text is empty"):
        await comment_on_issue(make_context(recorder), issue="ED-1", text="\n ")
    assert recorder.requests == []


# --- ListProjects --------------------------------------------------------------------------------------------


async def test_list_projects_pages_with_start_at() -> None:
    recorder = Recorder(httpx2.Response(200, json=PROJECTS_PAGE_1), httpx2.Response(200, json=PROJECTS_PAGE_2))
    result = await list_projects(make_context(recorder), query=" ex ", max_results=10)
    first, second = recorder.requests
    assert first.url.path == second.url.path == f"{API}/project/search"
    assert dict(first.url.params) == {"startAt": "0", "maxResults": "10", "orderBy": "key", "query": "ex"}
    assert dict(second.url.params) == {"startAt": "2", "maxResults": "8", "orderBy": "key", "query": "ex"}
    assert result["projects"] == [
        {"key": "EX", "id": "10000", "name": "Example", "type": "software", "style": "classic"},
        {"key": "ABC", "id": "10001", "name": "Alphabetical", "type": "business", "style": "classic"},
        {"key": "ED", "id": "10002", "name": "Order desk", "type": "software", "style": "next-gen"},
    ]
    assert (result["count"], result["truncated"]) == (3, False)


async def test_list_projects_says_when_it_left_some_out() -> None:
    recorder = Recorder(httpx2.Response(200, json=PROJECTS_PAGE_1))
    result = await list_projects(make_context(recorder), max_results=2)
    assert len(recorder.requests) == 1
    assert result["count"] == 2 and result["truncated"] is True


# --- errors and catalog --------------------------------------------------------------------------------------


async def test_429_is_retryable_with_the_wait() -> None:
    recorder = Recorder(httpx2.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(UpstreamRateLimitError) as caught:
        await get_issue(make_context(recorder), issue="ED-1")
    assert caught.value.retry_after == 30.0


async def test_default_base_url_is_atlassians_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sites, "CACHE", SiteCache())
    recorder = Recorder(httpx2.Response(200, json=[JIRA_SITE]), httpx2.Response(200, json=TRANSITIONS))
    await list_transitions(context_for(recorder, provider_id="atlassian", token=TOKEN, settings={}), issue="ED-1")
    assert [str(r.url) for r in recorder.requests] == [
        "https://api.atlassian.com/oauth/token/accessible-resources",
        f"https://api.atlassian.com/ex/jira/{CLOUD_ID}/rest/api/3/issue/ED-1/transitions",
    ]


def test_every_tool_has_its_narrow_scope_and_annotations() -> None:
    catalog = {d.mcp_name: d for d in load_catalog(["toolkits.jira"], ProviderRegistry({}))}
    assert {name: tuple(d.requirement.scopes) for name, d in catalog.items()} == {  # type: ignore[union-attr]
        "Jira_ListSites": ("read:jira-work",),
        "Jira_ListProjects": ("read:jira-work",),
        "Jira_SearchIssues": ("read:jira-work",),
        "Jira_GetIssue": ("read:jira-work",),
        "Jira_ListTransitions": ("read:jira-work",),
        "Jira_CreateIssue": ("write:jira-work",),
        "Jira_UpdateIssue": ("write:jira-work",),
        "Jira_TransitionIssue": ("read:jira-work", "write:jira-work"),
        "Jira_CommentOnIssue": ("write:jira-work",),
    }
    for name, definition in catalog.items():
        assert definition.requirement is not None and definition.requirement.id == "atlassian"
        assert definition.title and definition.hints["openWorldHint"] is True, name
        reads = name.split("_")[1].startswith(("List", "Search", "Get"))
        assert definition.hints["readOnlyHint"] is reads, name
        if not reads:
            assert {"destructiveHint", "idempotentHint"} <= set(definition.hints), name
        for parameter, schema in definition.input_schema.get("properties", {}).items():
            assert schema.get("description"), (name, parameter)
    assert catalog["Jira_UpdateIssue"].hints["destructiveHint"] is True
