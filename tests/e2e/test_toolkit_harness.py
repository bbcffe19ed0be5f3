"""The harness that every bundled toolkit's end-to-end test uses, checked on the sample toolkit."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import REPO
from tests.e2e.toolkit_harness import authorize_and_call, standin

pytestmark = pytest.mark.anyio


async def test_harness_runs_a_tool_against_a_standin_with_the_stored_token(stack_factory: Any) -> None:
    seen: list[str] = []

    async def profile(request: Request) -> JSONResponse:
        seen.append(request.headers.get("authorization", ""))
        return JSONResponse({"ok": True})

    with standin(Starlette(routes=[Route("/profile", profile)])) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="demo",
            toolkit=str(REPO / "tests/support/standin_toolkit.py"),
            settings_name="standin",
            base_url=base_url,
            tool="Standin_Profile",
            arguments={},
        )
    assert result.structured_content == {"ok": True}
    assert seen == [f"Bearer {token}"]
