"""Microsoft end to end: Microsoft_ListEmails through the real gate and vault to a stand-in of Microsoft Graph."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401  (the fixture, found by pytest through this import)
from tests.e2e.toolkit_harness import authorize_and_call, standin
from tests.toolkits.microsoft.graph_examples import MESSAGE, PLANNER_MESSAGE, messages_page

pytestmark = pytest.mark.anyio


async def test_list_emails_through_the_gate_follows_the_next_link_with_the_stored_token(stack_factory: Any) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    async def inbox(request: Request) -> JSONResponse:
        # List messages (user-list-messages.md): a page of message resources and the URL of the next page.
        seen.append((request.headers.get("authorization", ""), dict(request.query_params)))
        if "$skip" in request.query_params:
            return JSONResponse(messages_page(PLANNER_MESSAGE))
        next_link = f"{str(request.base_url).rstrip('/')}/me/mailFolders/inbox/messages?$top=2&$skip=1"
        return JSONResponse(messages_page(MESSAGE, next_link=next_link))

    with standin(Starlette(routes=[Route("/me/mailFolders/inbox/messages", inbox)])) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="microsoft",
            toolkit="toolkits.microsoft",
            settings_name="microsoft",
            base_url=base_url,
            tool="Microsoft_ListEmails",
            arguments={"n_emails": 2},
        )

    assert not result.is_error, result
    content = result.structured_content
    assert [e["id"] for e in content["emails"]] == ["AAMkADhMGAAA=", "AAMkAGUAAAwTW09AAA="]
    assert content["emails"][0]["received"] == "2018-09-09T03:15:08+00:00"
    assert [auth for auth, _ in seen] == [f"Bearer {token}", f"Bearer {token}"]
    assert seen[0][1]["$top"] == "2" and seen[0][1]["$orderby"] == "receivedDateTime desc"
    assert seen[1][1] == {"$top": "2", "$skip": "1"}
