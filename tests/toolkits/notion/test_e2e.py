"""End to end: Notion_Search through the real gate and vault, against a stand-in of Notion's API."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401  (the fixture, found by pytest through this import)
from tests.e2e.toolkit_harness import authorize_and_call, standin
from tests.toolkits.notion import fixtures

pytestmark = pytest.mark.anyio

# The test provider plays Notion's OAuth server and requires PKCE, which the catalogue leaves off for Notion.
PLAY_NOTION = {"pkce": True}


async def test_search_end_to_end(stack_factory: Any) -> None:
    seen: list[tuple[str, str, dict[str, Any]]] = []

    async def search(request: Request) -> JSONResponse:
        # https://developers.notion.com/reference/post-search (200: a paginated list of pages and databases)
        seen.append(
            (request.headers.get("authorization", ""), request.headers.get("notion-version", ""), await request.json())
        )
        return JSONResponse(fixtures.page_of([fixtures.PAGE, fixtures.DATABASE]))

    app = Starlette(routes=[Route("/v1/search", search, methods=["POST"])])
    with standin(app) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="notion",
            toolkit="toolkits.notion",
            settings_name="notion",
            base_url=base_url,
            tool="Notion_Search",
            arguments={"query": "kale", "limit": 2},
            provider_overrides=PLAY_NOTION,
        )
    assert not result.is_error, result.content
    content = result.structured_content
    assert [(r["object"], r["title"]) for r in content["results"]] == [
        ("page", "Tuscan kale"),
        ("database", "Grocery List"),
    ]
    assert seen == [
        (
            f"Bearer {token}",
            "2022-06-28",
            {
                "sort": {"direction": "descending", "timestamp": "last_edited_time"},
                "query": "kale",
                "page_size": 2,
            },
        )
    ]
