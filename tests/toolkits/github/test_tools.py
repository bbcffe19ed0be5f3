"""Unit tests of the GitHub toolkit against a stand-in of the GitHub REST API answering documented examples."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import httpx2
import pytest

from mcp_server import (
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamServerError,
)
from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry
from tests.toolkits.github import fixtures
from tests.toolkits.github.standin import (
    BASE,
    answer,
    assert_github_request,
    assert_refused_before_any_request,
    make_context,
)
from toolkits.github import (
    comment_on_issue,
    create_issue,
    get_issue,
    get_pull_request,
    get_repository,
    list_issues,
    list_pull_requests,
    list_repositories,
    search_code,
)

pytestmark = pytest.mark.anyio

# --- catalog -----------------------------------------------------------------------------------------------


def test_catalog_loads_every_tool_with_its_mcp_name_and_scopes() -> None:
    catalog = load_catalog(["toolkits.github"], ProviderRegistry({}))
    scopes = {t.mcp_name: (t.requirement.id, tuple(t.requirement.scopes)) for t in catalog if t.requirement}
    assert scopes == {
        "GitHub_ListRepositories": ("github", ("repo",)),
        "GitHub_GetRepository": ("github", ()),
        "GitHub_ListBranches": ("github", ()),
        "GitHub_CreateBranch": ("github", ("repo",)),
        "GitHub_ListCommits": ("github", ()),
        "GitHub_StarRepository": ("github", ("public_repo",)),
        "GitHub_UnstarRepository": ("github", ("public_repo",)),
        "GitHub_ListIssues": ("github", ()),
        "GitHub_GetIssue": ("github", ()),
        "GitHub_CreateIssue": ("github", ("repo",)),
        "GitHub_UpdateIssue": ("github", ("repo",)),
        "GitHub_CommentOnIssue": ("github", ("repo",)),
        "GitHub_ListIssueComments": ("github", ()),
        "GitHub_ListPullRequests": ("github", ()),
        "GitHub_GetPullRequest": ("github", ()),
        "GitHub_CreatePullRequest": ("github", ("repo",)),
        "GitHub_UpdatePullRequest": ("github", ("repo",)),
        "GitHub_MergePullRequest": ("github", ("repo",)),
        "GitHub_RequestReviewers": ("github", ("repo",)),
        "GitHub_ListReviews": ("github", ()),
        "GitHub_CreateReview": ("github", ("repo",)),
        "GitHub_ListReviewComments": ("github", ()),
        "GitHub_CreateReviewComment": ("github", ("repo",)),
        "GitHub_GetFileContents": ("github", ()),
        "GitHub_CreateOrUpdateFile": ("github", ("repo",)),
        "GitHub_SearchCode": ("github", ()),
        "GitHub_SearchIssues": ("github", ()),
    }
    assert len(catalog) == 27
    for definition in catalog:
        assert definition.api_name == definition.mcp_name.replace("_", ".", 1)
        schema = definition.input_schema
        assert "context" not in schema["properties"]
        for name, prop in schema["properties"].items():
            assert prop.get("description"), (definition.mcp_name, name)
    issues = catalog.get("GitHub_ListIssues")
    assert issues is not None
    assert issues.input_schema["properties"]["state"]["enum"] == ["open", "closed", "all"]
    assert issues.input_schema["required"] == ["owner", "repo"]


def test_every_tool_is_annotated_and_reads_are_told_from_writes() -> None:
    catalog = load_catalog(["toolkits.github"], ProviderRegistry({}))
    destructive = {
        "GitHub_UpdateIssue",
        "GitHub_UpdatePullRequest",
        "GitHub_MergePullRequest",
        "GitHub_CreateOrUpdateFile",
        "GitHub_UnstarRepository",
    }
    for definition in catalog:
        assert definition.title, definition.mcp_name
        assert definition.hints["openWorldHint"] is True
        read_only = not (definition.requirement and set(definition.requirement.scopes) & {"repo", "public_repo"})
        read_only = read_only or definition.mcp_name == "GitHub_ListRepositories"
        assert definition.hints["readOnlyHint"] is read_only, definition.mcp_name
        assert "idempotentHint" in definition.hints, definition.mcp_name
        if not read_only:
            assert definition.hints["destructiveHint"] is (definition.mcp_name in destructive), definition.mcp_name


# --- repositories ------------------------------------------------------------------------------------------


async def test_list_repositories_follows_the_next_link_over_two_pages() -> None:
    second = copy.deepcopy(fixtures.REPOSITORY) | {
        "id": 2,
        "name": "Spoon-Knife",
        "full_name": "octocat/Spoon-Knife",
        "private": True,
        "visibility": "private",
    }

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.params.get("page") == "2":
            return httpx2.Response(200, json=[second])
        next_link = f'<{BASE}/user/repos?visibility=all&sort=updated&per_page=30&page=2>; rel="next"'
        return httpx2.Response(200, json=[fixtures.REPOSITORY], headers={"Link": next_link})

    context, standin = make_context(handler)
    result = await list_repositories(context)
    assert_github_request(
        standin.requests[0],
        "GET",
        "/user/repos",
        {"visibility": "all", "sort": "updated", "direction": "desc", "per_page": "30"},
    )
    assert_github_request(
        standin.requests[1],
        "GET",
        "/user/repos",
        {"visibility": "all", "sort": "updated", "per_page": "30", "page": "2"},
    )
    assert result["count"] == 2 and result["more_available"] is False
    assert [r["full_name"] for r in result["repositories"]] == ["octocat/Hello-World", "octocat/Spoon-Knife"]
    assert result["repositories"][0] == {
        "full_name": "octocat/Hello-World",
        "owner": "octocat",
        "name": "Hello-World",
        "id": 1296269,
        "private": False,
        "visibility": "public",
        "description": "This your first repo!",
        "default_branch": "master",
        "language": None,
        "topics": ["octocat", "atom", "electron", "api"],
        "stars": 80,
        "forks": 9,
        "open_issues": 0,
        "archived": False,
        "fork": False,
        "html_url": "https://github.com/octocat/Hello-World",
        "created_at": "2011-01-26T19:01:12+00:00",
        "updated_at": "2011-01-26T19:14:43+00:00",
        "pushed_at": "2011-01-26T19:06:43+00:00",
    }


async def test_list_repositories_stops_at_the_limit_and_says_more_are_available() -> None:
    page = [copy.deepcopy(fixtures.REPOSITORY) | {"id": i} for i in range(3)]
    link = f'<{BASE}/user/repos?page=2>; rel="next"'
    context, standin = make_context(answer(page, headers={"Link": link}))
    result = await list_repositories(context, visibility="private", sort="full_name", limit=2)
    assert_github_request(
        standin.requests[0],
        "GET",
        "/user/repos",
        {"visibility": "private", "sort": "full_name", "direction": "asc", "per_page": "2"},
    )
    assert len(standin.requests) == 1
    assert result["count"] == 2 and result["more_available"] is True


async def test_pagination_never_follows_a_next_link_to_another_host() -> None:
    link = '<https://elsewhere.example/user/repos?page=2>; rel="next"'
    context, standin = make_context(answer([fixtures.REPOSITORY], headers={"Link": link}))
    result = await list_repositories(context)
    assert len(standin.requests) == 1
    assert result["count"] == 1 and result["more_available"] is True


async def test_get_repository_shapes_the_documented_repository() -> None:
    context, standin = make_context(answer(fixtures.REPOSITORY))
    result = await get_repository(context, owner="octocat", repo="Hello-World")
    assert_github_request(standin.requests[0], "GET", "/repos/octocat/Hello-World")
    assert result["full_name"] == "octocat/Hello-World"
    assert result["default_branch"] == "master"
    assert result["pushed_at"] == "2011-01-26T19:06:43+00:00"


async def test_get_repository_accepts_a_trailing_dot_git() -> None:
    context, standin = make_context(answer(fixtures.REPOSITORY))
    await get_repository(context, owner="octocat", repo="Hello-World.git")
    assert standin.requests[0].url.path == "/repos/octocat/Hello-World"


# --- issues ------------------------------------------------------------------------------------------------


async def test_list_issues_skips_pull_requests_and_sends_labels() -> None:
    # The documented list example is an issue that is a pull request; the others are the same without it.
    body = [fixtures.ISSUE, fixtures.plain_issue(1348, "Crash on start"), fixtures.plain_issue(1349, "Typo")]
    context, standin = make_context(answer(body))
    result = await list_issues(context, owner="octocat", repo="Hello-World", state="all", labels=["bug", "ui"])
    assert_github_request(
        standin.requests[0],
        "GET",
        "/repos/octocat/Hello-World/issues",
        {"state": "all", "labels": "bug,ui", "per_page": "30"},
    )
    assert [i["number"] for i in result["issues"]] == [1348, 1349]
    assert result["count"] == 2 and result["more_available"] is False
    first = result["issues"][0]
    assert first == {
        "number": 1348,
        "title": "Crash on start",
        "state": "open",
        "state_reason": "completed",
        "author": "octocat",
        "labels": ["bug"],
        "assignees": ["octocat"],
        "milestone": "v1.0",
        "comments": 0,
        "locked": True,
        "is_pull_request": False,
        "created_at": "2011-04-22T13:33:48+00:00",
        "updated_at": "2011-04-22T13:33:48+00:00",
        "closed_at": None,
        "html_url": "https://github.com/octocat/Hello-World/issues/1348",
        "body": "I'm having a problem with this.",
    }


async def test_list_issues_truncates_long_bodies_in_the_list() -> None:
    issue = fixtures.plain_issue(7, "Long") | {"body": "x" * 2000}
    context, _ = make_context(answer([issue]))
    result = await list_issues(context, owner="octocat", repo="Hello-World")
    assert result["issues"][0]["body"] == "x" * 500 + " …"


async def test_get_issue_returns_the_full_issue() -> None:
    context, standin = make_context(answer(fixtures.ISSUE))
    result = await get_issue(context, owner="octocat", repo="Hello-World", issue_number=1347)
    assert_github_request(standin.requests[0], "GET", "/repos/octocat/Hello-World/issues/1347")
    assert result["title"] == "Found a bug"
    assert result["body"] == "I'm having a problem with this."
    assert result["is_pull_request"] is True


async def test_create_issue_posts_the_documented_fields() -> None:
    context, standin = make_context(answer(fixtures.ISSUE, status=201))
    result = await create_issue(
        context,
        owner="octocat",
        repo="Hello-World",
        title="Found a bug",
        body="I'm having a problem with this.",
        labels=["bug"],
        assignees=["@octocat"],
    )
    request = standin.requests[0]
    assert_github_request(request, "POST", "/repos/octocat/Hello-World/issues")
    assert json.loads(request.content) == {
        "title": "Found a bug",
        "body": "I'm having a problem with this.",
        "labels": ["bug"],
        "assignees": ["octocat"],
    }
    assert result["number"] == 1347
    assert result["html_url"] == "https://github.com/octocat/Hello-World/issues/1347"


async def test_create_issue_sends_only_the_title_when_nothing_else_is_given() -> None:
    context, standin = make_context(answer(fixtures.ISSUE, status=201))
    await create_issue(context, owner="octocat", repo="Hello-World", title="  Found a bug ")
    assert json.loads(standin.requests[0].content) == {"title": "Found a bug"}


async def test_comment_on_issue_posts_the_body() -> None:
    context, standin = make_context(answer(fixtures.ISSUE_COMMENT, status=201))
    result = await comment_on_issue(context, owner="octocat", repo="Hello-World", issue_number=1347, body="Me too")
    request = standin.requests[0]
    assert_github_request(request, "POST", "/repos/octocat/Hello-World/issues/1347/comments")
    assert json.loads(request.content) == {"body": "Me too"}
    assert result == {
        "id": 1,
        "issue_number": 1347,
        "author": "octocat",
        "created_at": "2011-04-14T16:00:49+00:00",
        "html_url": "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1",
        "body": "Me too",
    }


# --- pull requests -----------------------------------------------------------------------------------------


async def test_list_pull_requests_shapes_the_documented_list() -> None:
    listed = {k: v for k, v in fixtures.PULL_REQUEST.items() if k not in ("merged", "mergeable", "commits")}
    context, standin = make_context(answer([listed]))
    result = await list_pull_requests(context, owner="octocat", repo="Hello-World", state="closed", limit=5)
    assert_github_request(
        standin.requests[0], "GET", "/repos/octocat/Hello-World/pulls", {"state": "closed", "per_page": "5"}
    )
    pull = result["pull_requests"][0]
    assert pull["number"] == 1347
    assert pull["title"] == "Amazing new feature"
    assert pull["head_branch"] == "new-topic" and pull["base_branch"] == "master"
    assert pull["assignees"] == ["octocat", "hubot"]
    assert pull["requested_reviewers"] == ["other_user"]
    assert pull["merged_at"] == "2011-01-26T19:01:12+00:00"


async def test_get_pull_request_includes_its_changed_files_over_two_pages() -> None:
    renamed = fixtures.PULL_REQUEST_FILE | {
        "filename": "docs/b.md",
        "status": "renamed",
        "previous_filename": "a.md",
        "additions": 0,
        "deletions": 0,
    }

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/repos/octocat/Hello-World/pulls/1347":
            return httpx2.Response(200, json=fixtures.PULL_REQUEST)
        if request.url.params.get("page") == "2":
            return httpx2.Response(200, json=[renamed])
        link = f'<{BASE}/repos/octocat/Hello-World/pulls/1347/files?per_page=100&page=2>; rel="next"'
        return httpx2.Response(200, json=[fixtures.PULL_REQUEST_FILE], headers={"Link": link})

    context, standin = make_context(handler)
    result = await get_pull_request(context, owner="octocat", repo="Hello-World", pull_number=1347)
    assert_github_request(standin.requests[0], "GET", "/repos/octocat/Hello-World/pulls/1347")
    assert_github_request(
        standin.requests[1], "GET", "/repos/octocat/Hello-World/pulls/1347/files", {"per_page": "100"}
    )
    assert_github_request(
        standin.requests[2], "GET", "/repos/octocat/Hello-World/pulls/1347/files", {"per_page": "100", "page": "2"}
    )
    assert result["files"] == [
        {"filename": "file1.txt", "status": "added", "additions": 103, "deletions": 21},
        {"filename": "docs/b.md", "status": "renamed", "additions": 0, "deletions": 0, "previous_filename": "a.md"},
    ]
    assert result["files_truncated"] is False
    assert result["merged"] is False and result["mergeable"] is True
    assert result["commits"] == 3 and result["additions"] == 100 and result["changed_files"] == 5
    assert result["body"] == "Please pull these awesome changes in!"
    assert result["merged_by"] == "octocat"


# --- search ------------------------------------------------------------------------------------------------


async def test_search_code_sends_the_query_and_shapes_the_matches() -> None:
    context, standin = make_context(answer(fixtures.SEARCH_CODE))
    result = await search_code(context, query="addClass in:file language:js repo:jquery/jquery", limit=10)
    assert_github_request(
        standin.requests[0],
        "GET",
        "/search/code",
        {"q": "addClass in:file language:js repo:jquery/jquery", "per_page": "10"},
    )
    assert result == {
        "total_count": 7,
        "incomplete_results": False,
        "items": [
            {
                "repository": "jquery/jquery",
                "path": "src/attributes/classes.js",
                "name": "classes.js",
                "sha": "d7212f9dee2dcc18f084d7df8f417b80846ded5a",
                "html_url": "https://github.com/jquery/jquery/blob/825ac3773694e0cd23ee74895fd5aeb535b27da4/src/attributes/classes.js",
            }
        ],
    }


# --- upstream errors ---------------------------------------------------------------------------------------

# https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api ("Bad credentials", "Not Found")
BAD_CREDENTIALS = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository"}


async def test_401_becomes_upstream_auth_error() -> None:
    context, _ = make_context(answer(BAD_CREDENTIALS, status=401))
    with pytest.raises(UpstreamAuthError):
        await get_repository(context, owner="octocat", repo="Hello-World")


async def test_404_names_the_thing_not_found() -> None:
    context, _ = make_context(answer(NOT_FOUND, status=404))
    with pytest.raises(UpstreamError) as caught:
        await get_issue(context, owner="octocat", repo="Hello-World", issue_number=9)
    assert caught.value.status_code == 404
    assert "the issue #9 of octocat/Hello-World was not found" in str(caught.value)
    assert "repo' scope" not in str(caught.value)


async def test_404_without_the_repo_scope_hints_at_private_repositories() -> None:
    context, _ = make_context(answer(NOT_FOUND, status=404), scopes=())
    with pytest.raises(UpstreamError) as caught:
        await get_repository(context, owner="octocat", repo="secret")
    assert "the repository octocat/secret" in str(caught.value)
    assert "'repo' scope" in str(caught.value)


async def test_403_is_a_clear_refusal() -> None:
    context, _ = make_context(answer({"message": "Resource not accessible"}, status=403))
    with pytest.raises(UpstreamError) as caught:
        await create_issue(context, owner="octocat", repo="Hello-World", title="x")
    assert caught.value.status_code == 403
    assert "refused access to creating an issue in octocat/Hello-World" in str(caught.value)


async def test_429_is_retryable_with_the_retry_after_wait() -> None:
    context, _ = make_context(answer({"message": "API rate limit exceeded"}, status=429, headers={"Retry-After": "60"}))
    with pytest.raises(UpstreamRateLimitError) as caught:
        await search_code(context, query="addClass")
    assert caught.value.retry_after == 60.0
    assert "Retry in 60 s" in str(caught.value)


# https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#rate-limit-errors: an exceeded
# primary rate limit is 403 or 429 with `x-ratelimit-remaining: 0` and the reset time in `x-ratelimit-reset`.
@pytest.mark.parametrize("status", [403, 429])
async def test_an_exhausted_primary_rate_limit_is_retryable_until_the_reset(status: int) -> None:
    reset = int(time.time()) + 120
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": "5000",
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "core",
    }
    context, _ = make_context(answer({"message": "API rate limit exceeded for user ID 1."}, status, headers))
    with pytest.raises(UpstreamRateLimitError) as caught:
        await get_repository(context, owner="octocat", repo="Hello-World")
    assert caught.value.retry_after is not None and 100 <= caught.value.retry_after <= 121
    assert caught.value.status_code == status
    assert "rate limiting the repository octocat/Hello-World" in str(caught.value)


async def test_a_secondary_rate_limit_403_with_retry_after_is_retryable() -> None:
    body = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}
    context, _ = make_context(answer(body, 403, {"retry-after": "30"}))
    with pytest.raises(UpstreamRateLimitError) as caught:
        await comment_on_issue(context, owner="octocat", repo="Hello-World", issue_number=1, body="hi")
    assert caught.value.retry_after == 30.0


async def test_5xx_is_an_upstream_server_error() -> None:
    context, _ = make_context(answer({"message": "Server Error"}, status=502))
    with pytest.raises(UpstreamServerError):
        await list_issues(context, owner="octocat", repo="Hello-World")


async def test_an_error_on_the_second_page_is_mapped_too() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.params.get("page") == "2":
            return httpx2.Response(401, json=BAD_CREDENTIALS)
        link = f'<{BASE}/user/repos?page=2>; rel="next"'
        return httpx2.Response(200, json=[fixtures.REPOSITORY], headers={"Link": link})

    context, _ = make_context(handler)
    with pytest.raises(UpstreamAuthError):
        await list_repositories(context)


# --- input validation: a clear error and no request --------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: get_repository(c, owner="octo/cat", repo="Hello-World"), "owner 'octo/cat'"),
        (lambda c: get_repository(c, owner="-octocat", repo="Hello-World"), "owner '-octocat'"),
        (lambda c: get_repository(c, owner="", repo="Hello-World"), "owner ''"),
        (lambda c: get_repository(c, owner="https://github.com/octocat", repo="x"), "not a URL"),
        (lambda c: get_repository(c, owner="o" * 40, repo="Hello-World"), "1-39"),
        (lambda c: get_repository(c, owner="octocat", repo="octocat/Hello-World"), "repo 'octocat/Hello-World'"),
        (lambda c: get_repository(c, owner="octocat", repo=".."), "repo '..'"),
        (lambda c: get_repository(c, owner="octocat", repo="hello world"), "repo 'hello world'"),
        (lambda c: get_issue(c, owner="octocat", repo="Hello-World", issue_number=0), "issue_number 0"),
        (lambda c: get_issue(c, owner="octocat", repo="Hello-World", issue_number=-3), "issue_number -3"),
        (lambda c: get_issue(c, owner="octocat", repo="Hello-World", issue_number="12"), "issue_number '12'"),
        (lambda c: get_issue(c, owner="octocat", repo="Hello-World", issue_number=True), "issue_number True"),
        (lambda c: get_pull_request(c, owner="octocat", repo="Hello-World", pull_number=0), "pull_number 0"),
        (lambda c: comment_on_issue(c, owner="octocat", repo="Hello-World", issue_number=0, body="x"), "issue_number"),
        (
            lambda c: comment_on_issue(c, owner="octocat", repo="Hello-World", issue_number=1, body="  "),
            "body is empty",
        ),
        (
            lambda c: comment_on_issue(c, owner="octocat", repo="Hello-World", issue_number=1, body="x" * 65537),
            "at most 65536",
        ),
        (lambda c: create_issue(c, owner="octocat", repo="Hello-World", title=""), "title is empty"),
        (lambda c: create_issue(c, owner="octocat", repo="Hello-World", title="t" * 257), "at most 256"),
        (lambda c: create_issue(c, owner="octocat", repo="Hello-World", title="t", labels="bug"), "list of label"),
        (lambda c: create_issue(c, owner="octocat", repo="Hello-World", title="t", labels=["a,b"]), "'a,b'"),
        (
            lambda c: create_issue(c, owner="octocat", repo="Hello-World", title="t", assignees=["not a user"]),
            "'not a user'",
        ),
        (lambda c: list_issues(c, owner="octocat", repo="Hello-World", state="opened"), "use one of open, closed, all"),
        (lambda c: list_issues(c, owner="octocat", repo="Hello-World", labels=[""]), "label name"),
        (lambda c: list_issues(c, owner="octocat", repo="Hello-World", limit=0), "1 to 100"),
        (lambda c: list_pull_requests(c, owner="octocat", repo="Hello-World", state="merged"), "state 'merged'"),
        (lambda c: list_repositories(c, visibility="secret"), "visibility 'secret'"),
        (lambda c: list_repositories(c, sort="stars"), "sort 'stars'"),
        (lambda c: list_repositories(c, limit=301), "1 to 300"),
        (lambda c: search_code(c, query="   "), "query is empty"),
        (lambda c: search_code(c, query="x", limit=101), "1 to 100"),
    ],
)
async def test_bad_input_is_refused_before_any_request(call: Any, expected: str) -> None:
    await assert_refused_before_any_request(call, expected)
