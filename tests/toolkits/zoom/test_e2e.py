"""End to end: Zoom_ListUpcomingMeetings through the real gate and vault against a stand-in of the Zoom API."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401
from tests.e2e.toolkit_harness import authorize_and_call, standin
from tests.toolkits.zoom.test_tools import MEETINGS_PAGE_1, MEETINGS_PAGE_2

pytestmark = pytest.mark.anyio


async def test_list_upcoming_meetings_through_the_gate(stack_factory: Any) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    async def meetings(request: Request) -> JSONResponse:
        # GET /users/{userId}/meetings with the documented example pages (see test_tools.py for the sources).
        seen.append((request.headers.get("authorization", ""), dict(request.query_params)))
        page = MEETINGS_PAGE_2 if request.query_params.get("next_page_token") else MEETINGS_PAGE_1
        return JSONResponse(page)

    with standin(Starlette(routes=[Route("/users/me/meetings", meetings)])) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="zoom",
            toolkit="toolkits.zoom",
            settings_name="zoom",
            base_url=base_url,
            tool="Zoom_ListUpcomingMeetings",
            arguments={},
        )

    assert not result.is_error, result
    content = result.structured_content
    assert content["count"] == 2 and content["truncated"] is False
    assert [m["meeting_id"] for m in content["meetings"]] == ["97763643886", "95204914252"]
    assert content["meetings"][0]["start_time"] == "2022-03-22T23:00:00-07:00"
    assert [auth for auth, _ in seen] == [f"Bearer {token}", f"Bearer {token}"]
    assert seen[0][1] == {"type": "upcoming", "page_size": "100"}
    assert seen[1][1]["next_page_token"] == "Tva2CuIdTgsv8wAnhyAdU3m06Y2HuLQtlh3"
