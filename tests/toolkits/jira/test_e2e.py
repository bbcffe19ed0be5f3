"""Jira end to end: Jira_SearchIssues through the real gate and vault to a stand-in of Atlassian's API gateway
(accessible-resources, then the site's REST API v3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401  (the fixture, found by pytest through this import)
from tests.e2e.toolkit_harness import authorize_and_call, standin
from tests.toolkits.jira.jira_examples import CLOUD_ID, CONFLUENCE_SITE, JIRA_SITE, SEARCH_ISSUE, search_page

pytestmark = pytest.mark.anyio


async def test_search_issues_through_the_gate_discovers_the_site_with_the_stored_token(stack_factory: Any) -> None:
    seen: list[tuple[str, str, Any]] = []

    async def resources(request: Request) -> JSONResponse:
        seen.append((request.headers.get("authorization", ""), request.url.path, None))
        return JSONResponse([JIRA_SITE, CONFLUENCE_SITE])

    async def search(request: Request) -> JSONResponse:
        seen.append((request.headers.get("authorization", ""), request.url.path, json.loads(await request.body())))
        return JSONResponse(search_page(SEARCH_ISSUE))

    app = Starlette(
        routes=[
            Route("/oauth/token/accessible-resources", resources),
            Route(f"/ex/jira/{CLOUD_ID}/rest/api/3/search/jql", search, methods=["POST"]),
        ]
    )
    with standin(app) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="atlassian",
            toolkit="toolkits.jira",
            settings_name="jira",
            base_url=base_url,
            tool="Jira_SearchIssues",
            arguments={"jql": "project = EX", "max_results": 5},
            # The test provider playing Atlassian's authorization server requires PKCE; Atlassian's catalogue
            # entry does not send it (its docs do not mention PKCE).
            provider_overrides={"pkce": True},
        )

    assert not result.is_error, result
    content = result.structured_content
    assert [i["key"] for i in content["issues"]] == ["ED-1"]
    assert content["issues"][0]["url"] == "https://your-domain.atlassian.net/browse/ED-1"
    assert content["issues"][0]["created"] == "2021-01-17T12:34:00+00:00"
    assert seen[0] == (f"Bearer {token}", "/oauth/token/accessible-resources", None)
    assert seen[1][:2] == (f"Bearer {token}", f"/ex/jira/{CLOUD_ID}/rest/api/3/search/jql")
    assert seen[1][2]["jql"] == "project = EX" and seen[1][2]["maxResults"] == 5
