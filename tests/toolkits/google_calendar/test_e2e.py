"""GoogleCalendar end to end: through the real gate and vault to a stand-in of the Calendar API."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401  (the fixture, found by pytest through this import)
from tests.e2e.toolkit_harness import authorize_and_call, standin
from tests.toolkits.google_calendar.test_tools import (
    EVENT_REVIEW,
    SHAPED_REVIEW,
    events_page,
)

pytestmark = pytest.mark.anyio


async def test_list_events_through_the_gate_uses_the_stored_token(stack_factory: Any) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    async def events(request: Request) -> JSONResponse:
        seen.append((request.headers.get("authorization", ""), dict(request.query_params)))
        # events.list response shape: https://developers.google.com/workspace/calendar/api/v3/reference/events/list
        return JSONResponse(events_page([EVENT_REVIEW], None))

    with standin(Starlette(routes=[Route("/calendars/primary/events", events)])) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="google",
            toolkit="toolkits.google_calendar",
            settings_name="googlecalendar",
            base_url=base_url,
            tool="GoogleCalendar_ListEvents",
            arguments={"min_datetime": "2026-12-01T00:00:00+01:00", "max_datetime": "2026-12-08T00:00:00+01:00"},
        )

    assert not result.is_error
    assert result.structured_content == {"calendar_id": "primary", "events": [SHAPED_REVIEW], "more_available": False}
    assert [authorization for authorization, _ in seen] == [f"Bearer {token}"]
    assert seen[0][1] == {
        "timeMin": "2026-12-01T00:00:00+01:00",
        "timeMax": "2026-12-08T00:00:00+01:00",
        "singleEvents": "true",
        "orderBy": "startTime",
        "maxResults": "25",
    }
