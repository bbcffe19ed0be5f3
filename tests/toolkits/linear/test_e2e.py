"""End to end: Linear_ListIssues through the real gate and vault, against a stand-in of Linear's GraphQL endpoint
that validates the request against Linear's published schema."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import graphql_sync
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401  (the fixture, found by pytest through this import)
from tests.e2e.toolkit_harness import authorize_and_call, standin
from tests.toolkits.linear import fixtures
from tests.toolkits.linear.standin import SCHEMA

pytestmark = pytest.mark.anyio

# The test provider plays Linear's OAuth server; it joins scopes with spaces, Linear with commas.
PLAY_LINEAR = {"scope_delimiter": " "}


async def test_list_issues_end_to_end(stack_factory: Any) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def graphql(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append((request.headers.get("authorization", ""), body["variables"]))
        root = {"issues": lambda _info, **args: fixtures.connection([fixtures.issue(7)])}
        result = graphql_sync(SCHEMA, body["query"], root_value=root, variable_values=body["variables"])
        if result.errors:
            return JSONResponse({"errors": [{"message": str(e)} for e in result.errors]}, status_code=400)
        return JSONResponse({"data": result.data})

    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
    with standin(app) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="linear",
            toolkit="toolkits.linear",
            settings_name="linear",
            base_url=base_url,
            tool="Linear_ListIssues",
            arguments={"assigned_to_me": True, "limit": 5},
            provider_overrides=PLAY_LINEAR,
        )
    assert not result.is_error, result.content
    content = result.structured_content
    assert content["count"] == 1 and content["issues"][0]["identifier"] == "ENG-7"
    assert content["issues"][0]["updated_at"] == "2024-05-02T10:00:00+00:00"
    assert seen == [
        (f"Bearer {token}", {"filter": {"and": [{"assignee": {"isMe": {"eq": True}}}]}, "first": 5, "after": None})
    ]
