"""Pull request writes, reviews and review comments against a stand-in answering GitHub's documented examples."""

from __future__ import annotations

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
    create_pull_request,
    create_review,
    create_review_comment,
    list_review_comments,
    list_reviews,
    merge_pull_request,
    request_reviewers,
    update_pull_request,
)

pytestmark = pytest.mark.anyio

REPO = {"owner": "octocat", "repo": "Hello-World"}


def routes(table: dict[tuple[str, str], httpx2.Response]) -> Any:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return table[(request.method, request.url.path)]

    return handler


async def test_create_pull_request_into_the_default_branch_reads_it_first() -> None:
    handler = routes(
        {
            ("GET", "/repos/octocat/Hello-World"): httpx2.Response(200, json=fixtures_changes.REPOSITORY_MAIN),
            ("POST", "/repos/octocat/Hello-World/pulls"): httpx2.Response(201, json=fixtures.PULL_REQUEST),
        }
    )
    context, standin = make_context(handler)
    result = await create_pull_request(
        context, **REPO, title=" Amazing new feature ", head="new-topic", body="Please pull these awesome changes in!"
    )
    assert_github_request(standin.requests[0], "GET", "/repos/octocat/Hello-World")
    assert_github_request(standin.requests[1], "POST", "/repos/octocat/Hello-World/pulls")
    assert json.loads(standin.requests[1].content) == {
        "title": "Amazing new feature",
        "head": "new-topic",
        "base": "main",
        "draft": False,
        "body": "Please pull these awesome changes in!",
    }
    assert result["number"] == 1347 and result["head_branch"] == "new-topic" and result["base_branch"] == "master"
    assert result["html_url"] == "https://github.com/octocat/Hello-World/pull/1347"


async def test_create_pull_request_from_a_fork_with_a_base_sends_one_request() -> None:
    context, standin = make_context(answer(fixtures.PULL_REQUEST, status=201))
    await create_pull_request(context, **REPO, title="t", head="hubot:refs/heads/fix/typo", base="master", draft=True)
    assert len(standin.requests) == 1
    assert json.loads(standin.requests[0].content) == {
        "title": "t",
        "head": "hubot:fix/typo",
        "base": "master",
        "draft": True,
    }


async def test_a_refused_pull_request_says_what_to_check() -> None:
    body = {
        "message": "Validation Failed",
        "errors": [{"resource": "PullRequest", "code": "custom", "message": "No commits between master and new-topic"}],
    }
    context, _ = make_context(answer(body, status=422))
    with pytest.raises(UpstreamError) as caught:
        await create_pull_request(context, **REPO, title="t", head="new-topic", base="master")
    assert caught.value.status_code == 422
    assert "no commits beyond the base" in str(caught.value)
    assert "No commits between" not in str(caught.value)  # the upstream body never reaches a message


async def test_update_pull_request_patches_only_the_given_fields() -> None:
    closed = fixtures.PULL_REQUEST | {"state": "closed", "title": "new title"}
    context, standin = make_context(answer(closed))
    result = await update_pull_request(context, **REPO, pull_number=1347, title="new title", state="closed")
    assert_github_request(standin.requests[0], "PATCH", "/repos/octocat/Hello-World/pulls/1347")
    assert json.loads(standin.requests[0].content) == {"title": "new title", "state": "closed"}
    assert result["state"] == "closed" and result["title"] == "new title"


async def test_merge_pull_request_puts_the_method_and_expected_head() -> None:
    context, standin = make_context(answer(fixtures_changes.MERGE_RESULT))
    result = await merge_pull_request(
        context,
        **REPO,
        pull_number=1347,
        merge_method="squash",
        commit_title="Add the feature (#1347)",
        expected_head_sha="6DCB09B5B57875F334F61AEBED695E2E4193DB5E",
    )
    assert_github_request(standin.requests[0], "PUT", "/repos/octocat/Hello-World/pulls/1347/merge")
    assert json.loads(standin.requests[0].content) == {
        "merge_method": "squash",
        "commit_title": "Add the feature (#1347)",
        "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    }
    assert result == {
        "number": 1347,
        "merged": True,
        "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "message": "Pull Request successfully merged",
    }


@pytest.mark.parametrize(("status", "expected"), [(405, "cannot be merged now"), (409, "no longer")])
async def test_merge_refusals_say_why(status: int, expected: str) -> None:
    context, _ = make_context(answer(fixtures_changes.NOT_MERGEABLE, status=status))
    with pytest.raises(UpstreamError) as caught:
        await merge_pull_request(context, **REPO, pull_number=1347, expected_head_sha="abcdef1")
    assert caught.value.status_code == status
    assert expected in str(caught.value)


async def test_request_reviewers_posts_users_and_teams() -> None:
    context, standin = make_context(answer(fixtures_changes.REVIEW_REQUESTED, status=201))
    result = await request_reviewers(
        context, **REPO, pull_number=1347, reviewers=["@hubot"], team_reviewers=["justice-league"]
    )
    assert_github_request(standin.requests[0], "POST", "/repos/octocat/Hello-World/pulls/1347/requested_reviewers")
    assert json.loads(standin.requests[0].content) == {"reviewers": ["hubot"], "team_reviewers": ["justice-league"]}
    assert result == {
        "number": 1347,
        "html_url": "https://github.com/octocat/Hello-World/pull/1347",
        "requested_reviewers": ["other_user"],
        "requested_teams": ["justice-league"],
    }


async def test_list_reviews_shapes_each_review() -> None:
    context, standin = make_context(answer([fixtures_changes.REVIEW]))
    result = await list_reviews(context, **REPO, pull_number=12, limit=5)
    assert_github_request(standin.requests[0], "GET", "/repos/octocat/Hello-World/pulls/12/reviews", {"per_page": "5"})
    assert result == {
        "reviews": [
            {
                "id": 80,
                "author": "octocat",
                "state": "CHANGES_REQUESTED",
                "commit_id": "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091",
                "submitted_at": "2019-11-17T17:43:43+00:00",
                "html_url": "https://github.com/octocat/Hello-World/pull/12#pullrequestreview-80",
                "body": "This is close to perfect! Please address the suggested inline change.",
            }
        ],
        "count": 1,
        "more_available": False,
    }


async def test_create_review_with_inline_comments() -> None:
    context, standin = make_context(answer(fixtures_changes.REVIEW))
    result = await create_review(
        context,
        **REPO,
        pull_number=12,
        event="REQUEST_CHANGES",
        body="This is close to perfect! Please address the suggested inline change.",
        comments=[
            {"path": "file.md", "line": 6, "body": "Please add more information here."},
            {"path": "/src/old.py", "line": 2, "side": "LEFT", "body": "Why was this removed?"},
        ],
    )
    assert_github_request(standin.requests[0], "POST", "/repos/octocat/Hello-World/pulls/12/reviews")
    assert json.loads(standin.requests[0].content) == {
        "event": "REQUEST_CHANGES",
        "body": "This is close to perfect! Please address the suggested inline change.",
        "comments": [
            {"path": "file.md", "line": 6, "side": "RIGHT", "body": "Please add more information here."},
            {"path": "src/old.py", "line": 2, "side": "LEFT", "body": "Why was this removed?"},
        ],
    }
    assert result["id"] == 80 and result["state"] == "CHANGES_REQUESTED"


async def test_an_approval_needs_no_body() -> None:
    context, standin = make_context(answer(fixtures_changes.REVIEW | {"state": "APPROVED", "body": ""}))
    result = await create_review(context, **REPO, pull_number=12, event="APPROVE")
    assert json.loads(standin.requests[0].content) == {"event": "APPROVE"}
    assert result["state"] == "APPROVED"


async def test_list_review_comments_keeps_the_thread_ids() -> None:
    context, standin = make_context(answer([fixtures_changes.REVIEW_COMMENT]))
    result = await list_review_comments(context, **REPO, pull_number=1)
    assert_github_request(
        standin.requests[0], "GET", "/repos/octocat/Hello-World/pulls/1/comments", {"per_page": "100"}
    )
    assert result["comments"] == [
        {
            "id": 10,
            "review_id": 42,
            "in_reply_to_id": 8,
            "author": "octocat",
            "path": "file1.txt",
            "line": 2,
            "side": "RIGHT",
            "commit_id": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "created_at": "2011-04-14T16:00:49+00:00",
            "html_url": "https://github.com/octocat/Hello-World/pull/1#discussion-diff-1",
            "body": "Great stuff!",
        }
    ]


async def test_a_line_comment_without_commit_id_uses_the_pull_requests_head() -> None:
    handler = routes(
        {
            ("GET", "/repos/octocat/Hello-World/pulls/1347"): httpx2.Response(200, json=fixtures.PULL_REQUEST),
            ("POST", "/repos/octocat/Hello-World/pulls/1347/comments"): httpx2.Response(
                201, json=fixtures_changes.REVIEW_COMMENT
            ),
        }
    )
    context, standin = make_context(handler)
    result = await create_review_comment(
        context, **REPO, pull_number=1347, body="Great stuff!", path="file1.txt", line=2
    )
    assert_github_request(standin.requests[1], "POST", "/repos/octocat/Hello-World/pulls/1347/comments")
    assert json.loads(standin.requests[1].content) == {
        "body": "Great stuff!",
        "path": "file1.txt",
        "line": 2,
        "side": "RIGHT",
        "commit_id": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    }
    assert result["id"] == 10 and result["path"] == "file1.txt"


async def test_a_reply_sends_only_the_body_and_the_comment_it_answers() -> None:
    context, standin = make_context(answer(fixtures_changes.REVIEW_COMMENT, status=201))
    await create_review_comment(context, **REPO, pull_number=1347, body="Done.", in_reply_to=8)
    assert len(standin.requests) == 1
    assert json.loads(standin.requests[0].content) == {"body": "Done.", "in_reply_to": 8}


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: create_pull_request(c, **REPO, title="", head="x"), "title is empty"),
        (lambda c: create_pull_request(c, **REPO, title="t", head="has space"), "head 'has space'"),
        (lambda c: create_pull_request(c, **REPO, title="t", head="a..b"), "not a branch name"),
        (lambda c: create_pull_request(c, **REPO, title="t", head="x", base="-main"), "base '-main'"),
        (lambda c: create_pull_request(c, **REPO, title="t", head="bad/user:x"), "owner 'bad/user'"),
        (lambda c: create_pull_request(c, **REPO, title="t", head="x", draft="yes"), "draft 'yes'"),
        (lambda c: update_pull_request(c, **REPO, pull_number=1), "Nothing to change"),
        (lambda c: update_pull_request(c, **REPO, pull_number=1, state="merged"), "state 'merged'"),
        (lambda c: merge_pull_request(c, **REPO, pull_number=1, merge_method="fast-forward"), "merge_method"),
        (lambda c: merge_pull_request(c, **REPO, pull_number=1, expected_head_sha="main"), "not a commit SHA"),
        (lambda c: request_reviewers(c, **REPO, pull_number=1), "at least one reviewer"),
        (lambda c: request_reviewers(c, **REPO, pull_number=1, reviewers="octocat"), "list of GitHub usernames"),
        (
            lambda c: request_reviewers(c, **REPO, pull_number=1, team_reviewers=["octo-org/justice-league"]),
            "team slug",
        ),
        (lambda c: create_review(c, **REPO, pull_number=1, event="LGTM"), "event 'LGTM'"),
        (lambda c: create_review(c, **REPO, pull_number=1, event="COMMENT"), "needs a summary"),
        (
            lambda c: create_review(c, **REPO, pull_number=1, event="APPROVE", comments=[{"path": "a"}]),
            "comments[0].line",
        ),
        (
            lambda c: create_review(
                c,
                **REPO,
                pull_number=1,
                event="APPROVE",
                comments=[{"path": "a", "line": 1, "body": "x", "position": 3}],
            ),
            "position",
        ),
        (
            lambda c: create_review(
                c, **REPO, pull_number=1, event="APPROVE", comments=[{"path": "../a", "line": 1, "body": "x"}]
            ),
            "comments[0].path",
        ),
        (lambda c: create_review_comment(c, **REPO, pull_number=1, body="x"), "Give path and line"),
        (lambda c: create_review_comment(c, **REPO, pull_number=1, body="x", path="a", line=0), "line 0"),
        (lambda c: create_review_comment(c, **REPO, pull_number=1, body="x", path="a", line=1, side="UP"), "side 'UP'"),
        (lambda c: list_reviews(c, **REPO, pull_number=1, limit=101), "1 to 100"),
        (lambda c: list_review_comments(c, **REPO, pull_number=0), "pull_number 0"),
    ],
)
async def test_bad_input_is_refused_before_any_request(call: Any, expected: str) -> None:
    await assert_refused_before_any_request(call, expected)
