"""End to end: GitHub_ListIssues through the real gate and vault against a stand-in of the GitHub REST API."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401
from tests.e2e.toolkit_harness import authorize_and_call, standin
from tests.toolkits.github import fixtures

pytestmark = pytest.mark.anyio


async def test_list_issues_runs_through_the_gate_with_the_stored_token(stack_factory: Any) -> None:
    seen: list[dict[str, str]] = []

    async def issues(request: Request) -> JSONResponse:
        # https://docs.github.com/en/rest/issues/issues?apiVersion=2022-11-28#list-repository-issues (200 example,
        # a pull request) plus the same issue without its `pull_request` key.
        seen.append(
            {
                "authorization": request.headers.get("authorization", ""),
                "accept": request.headers.get("accept", ""),
                "owner": request.path_params["owner"],
                "repo": request.path_params["repo"],
                "state": request.query_params.get("state", ""),
            }
        )
        return JSONResponse([fixtures.ISSUE, fixtures.plain_issue(1348, "Crash on start")])

    app = Starlette(routes=[Route("/repos/{owner}/{repo}/issues", issues)])
    with standin(app) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="github",
            toolkit="toolkits.github",
            settings_name="github",
            base_url=base_url,
            tool="GitHub_ListIssues",
            arguments={"owner": "octocat", "repo": "Hello-World", "state": "all"},
        )

    assert not result.is_error
    content = result.structured_content
    assert content["count"] == 1 and content["more_available"] is False
    issue = content["issues"][0]
    assert issue["number"] == 1348
    assert issue["title"] == "Crash on start"
    assert issue["labels"] == ["bug"]
    assert issue["created_at"] == "2011-04-22T13:33:48+00:00"
    assert seen == [
        {
            "authorization": f"Bearer {token}",
            "accept": "application/vnd.github+json",
            "owner": "octocat",
            "repo": "Hello-World",
            "state": "all",
        }
    ]
