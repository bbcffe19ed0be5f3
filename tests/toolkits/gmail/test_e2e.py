"""Gmail end to end: through the real gate and vault to a stand-in of the Gmail API v1."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401  (the fixture, found by pytest through this import)
from tests.e2e.toolkit_harness import authorize_and_call, standin
from tests.toolkits.gmail.test_tools import MESSAGE_HTML, MESSAGE_MULTIPART

pytestmark = pytest.mark.anyio

ME = "/gmail/v1/users/me"


async def test_list_emails_through_the_gate_uses_the_stored_token(stack_factory: Any) -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []
    messages = {m["id"]: m for m in (MESSAGE_MULTIPART, MESSAGE_HTML)}

    async def listing(request: Request) -> JSONResponse:
        seen.append((request.headers.get("authorization", ""), request.url.path, dict(request.query_params)))
        # users.messages.list response: https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list
        return JSONResponse(
            {"messages": [{"id": i, "threadId": m["threadId"]} for i, m in messages.items()], "resultSizeEstimate": 2}
        )

    async def message(request: Request) -> JSONResponse:
        seen.append((request.headers.get("authorization", ""), request.url.path, dict(request.query_params)))
        # Message resource: https://developers.google.com/gmail/api/reference/rest/v1/users.messages#Message
        return JSONResponse(messages[request.path_params["id"]])

    app = Starlette(routes=[Route(f"{ME}/messages", listing), Route(f"{ME}/messages/{{id}}", message)])
    with standin(app) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="google",
            toolkit="toolkits.gmail",
            settings_name="gmail",
            base_url=base_url,
            tool="Gmail_ListEmails",
            arguments={"n_emails": 2},
        )

    assert not result.is_error
    content = result.structured_content
    assert content["count"] == 2
    first, second = content["emails"]
    assert (first["id"], first["subject"]) == ("18d0a1b2c3d4e5f6", "Q1 report")
    assert first["date"] == "2024-01-15T10:00:00+01:00"
    assert first["body"] == "Hi Alice,\n\nThe Q1 report is ready for review.\n\nBob"
    assert (second["id"], second["body"]) == ("18d0a1b2c3d4e5f7", "Newsletter\n\nFish & chips on Friday.\n\nOne\nTwo")
    assert seen == [
        (f"Bearer {token}", f"{ME}/messages", {"maxResults": "2"}),
        (f"Bearer {token}", f"{ME}/messages/18d0a1b2c3d4e5f6", {"format": "full"}),
        (f"Bearer {token}", f"{ME}/messages/18d0a1b2c3d4e5f7", {"format": "full"}),
    ]
