"""A stand-in for a provider's API inside a unit test: an httpx2.MockTransport handler that records every
request and answers with the responses queued for it, in order."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx2

from mcp_server import ToolAuthorization, ToolContext

Answer = httpx2.Response | Callable[[httpx2.Request], httpx2.Response]


class Recorder:
    def __init__(self, *responses: Answer) -> None:
        self.requests: list[httpx2.Request] = []
        self.responses = list(responses)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if not self.responses:
            return httpx2.Response(500, json={"error": "the test queued no answer for this request"})
        answer = self.responses.pop(0)
        return answer(request) if callable(answer) else answer

    def only(self) -> httpx2.Request:
        """The one request made; fails if there were none or several."""
        assert len(self.requests) == 1, [str(r.url) for r in self.requests]
        return self.requests[0]


def context_for(
    recorder: Recorder,
    *,
    provider_id: str,
    token: str,
    settings: Mapping[str, str],
    user_id: str = "u1",
    user_info: Mapping[str, Any] | None = None,
) -> ToolContext:
    return ToolContext(
        user_id=user_id,
        authorization=ToolAuthorization(provider_id=provider_id, token=token, user_info=dict(user_info or {})),
        http=httpx2.AsyncClient(transport=httpx2.MockTransport(recorder)),
        settings=dict(settings),
    )


def body_of(request: httpx2.Request) -> Any:
    return json.loads(request.content)
