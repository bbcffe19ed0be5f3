"""Tests of the GitHub toolkit's repository-scoped requests (`Repository`) and the helpers built on it."""

from __future__ import annotations

import json

import pytest

from mcp_server import ToolExecutionError, UpstreamError
from tests.toolkits.github.standin import answer, assert_github_request, make_context, never
from toolkits.github.client import Repository
from toolkits.github.issues import send_edit
from toolkits.github.pull_requests import send_to_pull_request

pytestmark = pytest.mark.anyio


def test_paths_and_names_are_those_of_the_checked_repository() -> None:
    context, _ = make_context(never)
    repository = Repository(context, " octocat ", "Hello-World")
    assert repository.full_name == "octocat/Hello-World"
    assert repository.path() == "/repos/octocat/Hello-World"
    assert repository.path("issues/3") == "/repos/octocat/Hello-World/issues/3"
    assert repository.of("the issue #3") == "the issue #3 of octocat/Hello-World"
    assert repository.itself() == "the repository octocat/Hello-World"


def test_names_hint_at_private_repositories_without_the_repo_scope() -> None:
    context, _ = make_context(never, scopes=())
    repository = Repository(context, "octocat", "secret")
    assert repository.of("the issues").startswith("the issues of octocat/secret (if it is private")
    assert "'repo' scope" in repository.itself()


def test_an_owner_that_is_not_a_github_name_is_refused() -> None:
    context, _ = make_context(never)
    with pytest.raises(ToolExecutionError, match="is not a GitHub user or organization name"):
        Repository(context, "octocat/Hello-World", "Hello-World")


async def test_listing_asks_below_the_repository_and_shapes_each_item() -> None:
    context, standin = make_context(answer([{"name": "main"}, {"name": "dev"}]))
    repository = Repository(context, "octocat", "Hello-World")
    listed = await repository.listing(
        "branches",
        what=repository.of("the branches"),
        key="names",
        shape=lambda item: {"n": item["name"]},
        limit=5,
        maximum=300,
    )
    assert listed == {"names": [{"n": "main"}, {"n": "dev"}], "count": 2, "more_available": False}
    assert_github_request(standin.requests[0], "GET", "/repos/octocat/Hello-World/branches", {"per_page": "5"})


async def test_send_edit_patches_the_numbered_item() -> None:
    context, standin = make_context(answer({"number": 3, "title": "New"}))
    repository = Repository(context, "octocat", "Hello-World")
    data = await send_edit(repository, "pulls", 3, {"title": "New"}, thing="the pull request", fields="title")
    assert data == {"number": 3, "title": "New"}
    assert_github_request(standin.requests[0], "PATCH", "/repos/octocat/Hello-World/pulls/3")
    assert json.loads(standin.requests[0].content) == {"title": "New"}


async def test_send_edit_refuses_an_edit_of_nothing_before_any_request() -> None:
    context, standin = make_context(never)
    repository = Repository(context, "octocat", "Hello-World")
    with pytest.raises(ToolExecutionError, match=r"Nothing to change: give at least one of title or body\."):
        await send_edit(repository, "issues", 3, {}, thing="the issue", fields="title or body")
    assert standin.requests == []


async def test_send_to_pull_request_words_a_422_refusal() -> None:
    context, standin = make_context(answer({"message": "Validation Failed"}, status=422))
    repository = Repository(context, "octocat", "Hello-World")
    with pytest.raises(UpstreamError) as caught:
        await send_to_pull_request(
            repository, 7, "reviews", {"event": "APPROVE"}, refused="the review of", because="it is a draft."
        )
    assert str(caught.value).startswith(
        "GitHub refused the review of pull request #7 of octocat/Hello-World (HTTP 422): it is a draft."
    )
    assert_github_request(standin.requests[0], "POST", "/repos/octocat/Hello-World/pulls/7/reviews")


async def test_listing_refuses_a_limit_past_the_maximum_before_any_request() -> None:
    context, standin = make_context(never)
    repository = Repository(context, "octocat", "Hello-World")
    with pytest.raises(ToolExecutionError, match="limit 301 is not valid: give a whole number from 1 to 300"):
        await repository.listing("branches", what="the branches", key="b", shape=dict, limit=301, maximum=300)
    assert standin.requests == []
