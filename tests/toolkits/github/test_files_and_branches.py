"""Files, branches, commits, stars, issue edits and issue search against a stand-in answering GitHub's
documented examples."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx2
import pytest

from mcp_server import UpstreamError
from tests.toolkits.github import fixtures, fixtures_changes
from tests.toolkits.github.standin import (
    answer,
    assert_github_request,
    assert_refused_before_any_request,
    make_context,
)
from toolkits.github import (
    create_branch,
    create_or_update_file,
    get_file_contents,
    list_branches,
    list_commits,
    list_issue_comments,
    search_issues,
    star_repository,
    unstar_repository,
    update_issue,
)

pytestmark = pytest.mark.anyio

REPO = {"owner": "octocat", "repo": "Hello-World"}


# --- files -------------------------------------------------------------------------------------------------


async def test_get_file_contents_decodes_the_base64_text() -> None:
    context, standin = make_context(answer(fixtures_changes.CONTENT_FILE))
    result = await get_file_contents(context, owner="octokit", repo="octokit.rb", path="/README.md", ref="master")
    assert_github_request(standin.requests[0], "GET", "/repos/octokit/octokit.rb/contents/README.md", {"ref": "master"})
    assert result == {
        "type": "file",
        "path": "README.md",
        "name": "README.md",
        "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
        "size": fixtures_changes.CONTENT_FILE["size"],
        "html_url": "https://github.com/octokit/octokit.rb/blob/master/README.md",
        "text": fixtures_changes.README_TEXT,
        "truncated": False,
    }


async def test_a_path_with_spaces_and_hashes_is_percent_encoded_per_segment() -> None:
    context, standin = make_context(answer(fixtures_changes.CONTENT_FILE))
    await get_file_contents(context, **REPO, path="docs/notes #1/a b.md")
    assert standin.requests[0].url.raw_path == b"/repos/octocat/Hello-World/contents/docs/notes%20%231/a%20b.md"


async def test_a_folder_is_listed_with_its_entries() -> None:
    context, standin = make_context(answer(fixtures_changes.CONTENT_DIRECTORY))
    result = await get_file_contents(context, owner="octokit", repo="octokit.rb", path="lib")
    assert_github_request(standin.requests[0], "GET", "/repos/octokit/octokit.rb/contents/lib")
    assert result["type"] == "dir" and result["count"] == 2
    assert result["entries"][1] == {
        "name": "octokit",
        "path": "lib/octokit",
        "type": "dir",
        "size": 0,
        "sha": "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d",
    }


async def test_binary_and_large_files_come_back_without_text() -> None:
    binary = fixtures_changes.CONTENT_FILE | {"content": base64.b64encode(b"\x89PNG\r\n\x1a\n\xff").decode()}
    context, _ = make_context(answer(binary))
    result = await get_file_contents(context, **REPO, path="logo.png")
    assert result["text"] is None and "not UTF-8 text" in result["note"]
    # Files over 1 MB: `encoding: "none"` and an empty content (same operation's description).
    large = fixtures_changes.CONTENT_FILE | {"encoding": "none", "content": "", "size": 2_000_000}
    context, _ = make_context(answer(large))
    result = await get_file_contents(context, **REPO, path="big.csv")
    assert result["text"] is None and "over 1 MB" in result["note"]


async def test_create_a_file_sends_base64_content_on_a_branch() -> None:
    context, standin = make_context(answer(fixtures_changes.FILE_COMMIT, status=201))
    result = await create_or_update_file(
        context, **REPO, path="notes/hello.txt", content="Hello 👋\n", message="my commit message", branch="docs/notes"
    )
    assert_github_request(standin.requests[0], "PUT", "/repos/octocat/Hello-World/contents/notes/hello.txt")
    assert json.loads(standin.requests[0].content) == {
        "message": "my commit message",
        "content": base64.b64encode("Hello 👋\n".encode()).decode(),
        "branch": "docs/notes",
    }
    assert result == {
        "created": True,
        "path": "notes/hello.txt",
        "sha": "95b966ae1c166bd92f8ae7d1c313e738c731dfc3",
        "html_url": "https://github.com/octocat/Hello-World/blob/master/notes/hello.txt",
        "commit_sha": "7638417db6d59f3c431d3e1f261cc637155684cd",
        "commit_message": "my commit message",
        "commit_html_url": "https://github.com/octocat/Hello-World/git/commit/7638417db6d59f3c431d3e1f261cc637155684cd",
    }


async def test_updating_a_file_sends_its_sha_and_a_stale_sha_is_explained() -> None:
    context, standin = make_context(answer(fixtures_changes.FILE_COMMIT, status=200))
    result = await create_or_update_file(
        context,
        **REPO,
        path="notes/hello.txt",
        content="v2",
        message="Update",
        sha="95b966ae1c166bd92f8ae7d1c313e738c731dfc3",
    )
    assert json.loads(standin.requests[0].content)["sha"] == "95b966ae1c166bd92f8ae7d1c313e738c731dfc3"
    assert result["created"] is False
    conflict = {"message": "notes/hello.txt does not match 95b966ae", "documentation_url": "https://docs.github.com"}
    context, _ = make_context(answer(conflict, status=409))
    with pytest.raises(UpstreamError) as caught:
        await create_or_update_file(
            context,
            **REPO,
            path="notes/hello.txt",
            content="v2",
            message="Update",
            sha="95b966ae1c166bd92f8ae7d1c313e738c731dfc3",
        )
    assert caught.value.status_code == 409 and "read it again with GitHub_GetFileContents" in str(caught.value)


async def test_creating_a_file_that_exists_asks_for_its_sha() -> None:
    # GitHub answers 422 when `sha` is missing for an existing file (the message text is only known from the
    # live service and is not relied on).
    context, _ = make_context(answer({"message": "Invalid request."}, status=422))
    with pytest.raises(UpstreamError) as caught:
        await create_or_update_file(context, **REPO, path="README", content="x", message="m")
    assert "pass its current sha" in str(caught.value)


# --- branches, commits, stars ------------------------------------------------------------------------------


async def test_list_branches() -> None:
    context, standin = make_context(answer([fixtures_changes.BRANCH]))
    result = await list_branches(context, **REPO)
    assert_github_request(standin.requests[0], "GET", "/repos/octocat/Hello-World/branches", {"per_page": "100"})
    assert result == {
        "branches": [{"name": "master", "sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc", "protected": True}],
        "count": 1,
        "more_available": False,
    }


async def test_create_branch_from_the_default_branch() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/repos/octocat/Hello-World":
            return httpx2.Response(200, json=fixtures.REPOSITORY)
        if request.method == "GET":
            return httpx2.Response(200, json=fixtures_changes.git_ref("master", fixtures_changes.MASTER_SHA))
        return httpx2.Response(201, json=fixtures_changes.git_ref("feature/a", fixtures_changes.MASTER_SHA))

    context, standin = make_context(handler)
    result = await create_branch(context, **REPO, branch="feature/a")
    assert_github_request(standin.requests[0], "GET", "/repos/octocat/Hello-World")
    assert_github_request(standin.requests[1], "GET", "/repos/octocat/Hello-World/git/ref/heads/master")
    assert_github_request(standin.requests[2], "POST", "/repos/octocat/Hello-World/git/refs")
    assert json.loads(standin.requests[2].content) == {
        "ref": "refs/heads/feature/a",
        "sha": fixtures_changes.MASTER_SHA,
    }
    assert result == {
        "branch": "feature/a",
        "ref": "refs/heads/feature/a",
        "sha": fixtures_changes.MASTER_SHA,
        "from_branch": "master",
    }


async def test_an_existing_branch_name_is_explained() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET":
            return httpx2.Response(200, json=fixtures_changes.git_ref("dev", fixtures_changes.MASTER_SHA))
        return httpx2.Response(422, json={"message": "Reference already exists"})

    context, standin = make_context(handler)
    with pytest.raises(UpstreamError) as caught:
        await create_branch(context, **REPO, branch="feature/a", from_branch="dev")
    assert len(standin.requests) == 2
    assert "exists already" in str(caught.value)


async def test_list_commits_sends_the_filters() -> None:
    context, standin = make_context(answer([fixtures_changes.COMMIT]))
    result = await list_commits(
        context,
        **REPO,
        branch="main",
        path="src/app.py",
        author="octocat",
        since="2024-05-01T09:30:00+02:00",
        until="2024-06-01",
        limit=10,
    )
    assert_github_request(
        standin.requests[0],
        "GET",
        "/repos/octocat/Hello-World/commits",
        {
            "sha": "main",
            "path": "src/app.py",
            "author": "octocat",
            "since": "2024-05-01T07:30:00Z",
            "until": "2024-06-01T00:00:00Z",
            "per_page": "10",
        },
    )
    assert result["commits"] == [
        {
            "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "message": "Fix all the bugs",
            "author": "octocat",
            "date": "2011-04-14T16:00:49+00:00",
            "html_url": "https://github.com/octocat/Hello-World/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
        }
    ]


async def test_star_and_unstar_answer_204_without_a_body() -> None:
    # https://docs.github.com/en/rest/activity/starring?apiVersion=2022-11-28#star-a-repository-for-the-authenticated-user
    # and #unstar-...: 204 No Content.
    context, standin = make_context(lambda request: httpx2.Response(204))
    assert await star_repository(context, **REPO) == {"repository": "octocat/Hello-World", "starred": True}
    assert await unstar_repository(context, **REPO) == {"repository": "octocat/Hello-World", "starred": False}
    assert_github_request(standin.requests[0], "PUT", "/user/starred/octocat/Hello-World")
    assert_github_request(standin.requests[1], "DELETE", "/user/starred/octocat/Hello-World")
    assert standin.requests[0].content == b""


# --- issues ------------------------------------------------------------------------------------------------


async def test_close_an_issue_as_not_planned() -> None:
    closed = fixtures.plain_issue(1347, "Found a bug") | {
        "state": "closed",
        "state_reason": "not_planned",
        "closed_at": "2011-04-23T10:00:00Z",
    }
    context, standin = make_context(answer(closed))
    result = await update_issue(
        context, **REPO, issue_number=1347, state="closed", state_reason="not_planned", labels=[], assignees=["hubot"]
    )
    assert_github_request(standin.requests[0], "PATCH", "/repos/octocat/Hello-World/issues/1347")
    assert json.loads(standin.requests[0].content) == {
        "state": "closed",
        "state_reason": "not_planned",
        "labels": [],
        "assignees": ["hubot"],
    }
    assert result["state"] == "closed" and result["state_reason"] == "not_planned"
    assert result["closed_at"] == "2011-04-23T10:00:00+00:00"


async def test_list_issue_comments() -> None:
    context, standin = make_context(answer([fixtures.ISSUE_COMMENT]))
    result = await list_issue_comments(context, **REPO, issue_number=1347, limit=3)
    assert_github_request(
        standin.requests[0], "GET", "/repos/octocat/Hello-World/issues/1347/comments", {"per_page": "3"}
    )
    assert result["comments"] == [
        {
            "id": 1,
            "author": "octocat",
            "created_at": "2011-04-14T16:00:49+00:00",
            "html_url": "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1",
            "body": "Me too",
        }
    ]


async def test_search_issues_adds_the_kind_the_api_requires() -> None:
    # Since 2025 the API answers 422 to an issue search that says neither is:issue nor is:pr (known from the
    # live service and GitHub's changelog, not from the OpenAPI description).
    context, standin = make_context(answer(fixtures_changes.SEARCH_ISSUES))
    result = await search_issues(context, query="windows label:bug", sort="updated", limit=5)
    assert_github_request(
        standin.requests[0],
        "GET",
        "/search/issues",
        {"q": "windows label:bug is:issue", "sort": "updated", "order": "desc", "per_page": "5"},
    )
    item = result["items"][0]
    assert result["total_count"] == 280
    assert item["repository"] == "octocat/Hello-World" and item["number"] == 1347
    assert item["title"] == "Spelling error in the README file" and item["is_pull_request"] is False
    context, standin = make_context(answer(fixtures_changes.SEARCH_ISSUES))
    await search_issues(context, query="review-requested:@me is:PR is:open", kind="issue")
    assert standin.requests[0].url.params["q"] == "review-requested:@me is:PR is:open"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: get_file_contents(c, **REPO, path="../etc/passwd"), "path '../etc/passwd'"),
        (lambda c: get_file_contents(c, **REPO, path="a//b"), "without '..' or empty parts"),
        (lambda c: get_file_contents(c, **REPO, path="a", ref="  "), "ref is empty"),
        (lambda c: get_file_contents(c, **REPO, path="a", ref="bad ref"), "ref 'bad ref'"),
        (lambda c: create_or_update_file(c, **REPO, path="", content="x", message="m"), "path ''"),
        (lambda c: create_or_update_file(c, **REPO, path="a", content="x", message=" "), "message is empty"),
        (lambda c: create_or_update_file(c, **REPO, path="a", content=3, message="m"), "content must be"),
        (lambda c: create_or_update_file(c, **REPO, path="a", content="x" * 1_000_001, message="m"), "at most"),
        (lambda c: create_or_update_file(c, **REPO, path="a", content="x", message="m", sha="nope"), "sha 'nope'"),
        (
            lambda c: create_or_update_file(c, **REPO, path="a", content="x", message="m", branch="x.lock"),
            "branch 'x.lock'",
        ),
        (lambda c: create_branch(c, **REPO, branch="feature~1"), "branch 'feature~1'"),
        (lambda c: create_branch(c, **REPO, branch="ok", from_branch="a b"), "from_branch 'a b'"),
        (lambda c: list_branches(c, **REPO, limit=0), "1 to 300"),
        (lambda c: list_commits(c, **REPO, since="yesterday"), "since 'yesterday'"),
        (lambda c: list_commits(c, **REPO, author="not a user"), "'not a user'"),
        (lambda c: star_repository(c, owner="octocat", repo="a/b"), "repo 'a/b'"),
        (lambda c: update_issue(c, **REPO, issue_number=1), "Nothing to change"),
        (
            lambda c: update_issue(c, **REPO, issue_number=1, state="closed", state_reason="reopened"),
            "'reopened' with state 'open'",
        ),
        (lambda c: update_issue(c, **REPO, issue_number=1, state="done"), "state 'done'"),
        (lambda c: update_issue(c, **REPO, issue_number=1, title=""), "title is empty"),
        (lambda c: list_issue_comments(c, **REPO, issue_number=1, limit=301), "1 to 300"),
        (lambda c: search_issues(c, query=""), "query is empty"),
        (lambda c: search_issues(c, query="x", kind="discussion"), "kind 'discussion'"),
        (lambda c: search_issues(c, query="x", sort="stars"), "sort 'stars'"),
    ],
)
async def test_bad_input_is_refused_before_any_request(call: Any, expected: str) -> None:
    await assert_refused_before_any_request(call, expected)
