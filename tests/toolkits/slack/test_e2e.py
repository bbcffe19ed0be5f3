"""End to end: Slack_WhoAmI through the real gate and vault, against a stand-in of the Slack Web API."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401  (the fixture, found by pytest through this import)
from tests.e2e.toolkit_harness import authorize_and_call, standin

pytestmark = pytest.mark.anyio

# The test provider plays Slack's OAuth server: it takes `scope` (not Slack's `user_scope`) and requires PKCE,
# which the catalogue leaves off for Slack.
PLAY_SLACK = {"scope_param": "scope", "pkce": True}

# https://docs.slack.dev/reference/methods/auth.test (example response, user token)
AUTH_TEST = {
    "ok": True,
    "url": "https://subarachnoid.slack.com/",
    "team": "Subarachnoid Workspace",
    "user": "grace",
    "team_id": "T12345678",
    "user_id": "W12345678",
}
# https://docs.slack.dev/reference/methods/users.info (example response, abridged)
USERS_INFO = {
    "ok": True,
    "user": {
        "id": "W012A3CDE",
        "team_id": "T012AB3C4",
        "name": "spengler",
        "deleted": False,
        "color": "9f69e7",
        "real_name": "Egon Spengler",
        "tz": "America/Los_Angeles",
        "tz_label": "Pacific Daylight Time",
        "tz_offset": -25200,
        "profile": {
            "real_name": "Egon Spengler",
            "display_name": "spengler",
            "email": "spengler@ghostbusters.example.com",
        },
        "is_admin": True,
        "is_bot": False,
    },
}


async def test_who_am_i_end_to_end(stack_factory: Any) -> None:
    seen: list[str] = []

    async def auth_test(request: Request) -> JSONResponse:
        seen.append(request.headers.get("authorization", ""))
        return JSONResponse(AUTH_TEST)

    async def users_info(request: Request) -> JSONResponse:
        seen.append(request.headers.get("authorization", ""))
        assert request.query_params["user"] == "W12345678"
        return JSONResponse(USERS_INFO)

    app = Starlette(routes=[Route("/auth.test", auth_test, methods=["POST"]), Route("/users.info", users_info)])
    with standin(app) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="slack",
            toolkit="toolkits.slack",
            settings_name="slack",
            base_url=base_url,
            tool="Slack_WhoAmI",
            arguments={},
            provider_overrides=PLAY_SLACK,
        )
    assert not result.is_error, result.content
    assert result.structured_content == {
        "user_id": "W12345678",
        "name": "spengler",
        "real_name": "Egon Spengler",
        "display_name": "spengler",
        "email": "spengler@ghostbusters.example.com",
        "timezone": "America/Los_Angeles",
        "is_bot": False,
        "is_admin": True,
        "deleted": False,
        "team": "Subarachnoid Workspace",
        "team_id": "T12345678",
        "url": "https://subarachnoid.slack.com/",
    }
    assert seen == [f"Bearer {token}", f"Bearer {token}"]


async def test_ok_false_reaches_the_model_as_an_error_through_the_gate(stack_factory: Any) -> None:
    # https://docs.slack.dev/reference/methods/conversations.info: HTTP 200 with {"ok": false, "error":
    # "channel_not_found"}. The gate gives the tool the catalogue's error_style for Slack, so this is an error.
    async def info(request: Request) -> JSONResponse:
        assert request.query_params["channel"] == "C0NOTHERE"
        return JSONResponse({"ok": False, "error": "channel_not_found"})

    with standin(Starlette(routes=[Route("/conversations.info", info)])) as base_url:
        result, _ = await authorize_and_call(
            stack_factory,
            provider_id="slack",
            toolkit="toolkits.slack",
            settings_name="slack",
            base_url=base_url,
            tool="Slack_GetConversationInfo",
            arguments={"conversation_id": "C0NOTHERE"},
            provider_overrides=PLAY_SLACK,
        )
    assert result.is_error
    assert "the conversation C0NOTHERE was not found (channel_not_found)" in result.content[0].text
