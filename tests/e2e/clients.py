"""The MCP SDK's own client over each transport, pointed at an `authmcp serve` subprocess."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from typing import IO, Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters, UrlElicitationRequiredError
from mcp.client.session import ClientRequestContext
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import (
    URL_ELICITATION_REQUIRED,
    ElicitCompleteNotification,
    ElicitRequestParams,
    ElicitRequestURLParams,
    ElicitResult,
)

from tests.e2e.conftest import Stack, bearer


@contextlib.asynccontextmanager
async def mcp_client(
    stack: Stack,
    transport: str,
    *,
    mode: str = "auto",
    token: str | None = None,
    headers: dict[str, str] | None = None,
    errlog: IO[str] | None = None,
    **client_options: Any,
) -> AsyncIterator[Client]:
    """A connected `mcp.Client`: stdio launches its own authmcp; http and sse reach the running one."""
    all_headers = {**bearer(token), **(headers or {})}
    if transport == "stdio":
        params = StdioServerParameters(command=sys.executable, args=stack.serve_args("stdio"), env=stack.env())
        server: Any = stdio_client(params, errlog=errlog or sys.stderr)
        async with Client(server, mode=mode, **client_options) as client:  # type: ignore[arg-type]
            yield client
    elif transport == "http":
        async with httpx2.AsyncClient(headers=all_headers, timeout=30, trust_env=False) as http:
            server = streamable_http_client(f"{stack.base_url}/mcp", http_client=http)
            async with Client(server, mode=mode, **client_options) as client:  # type: ignore[arg-type]
                yield client
    elif transport == "sse":
        server = sse_client(f"{stack.base_url}/sse", headers=all_headers)
        async with Client(server, mode=mode, **client_options) as client:  # type: ignore[arg-type]
            yield client
    else:
        raise ValueError(transport)


async def call_concurrently(calls: list[tuple[Stack, int]], tool: str, arguments: dict[str, Any]) -> list[Any]:
    """Call `tool` n times at once through each stack's HTTP endpoint (one client per stack); all results."""
    results: list[Any] = []

    async def one(client: Client) -> None:
        results.append(await client.call_tool(tool, arguments))

    async def many(target: Stack, n: int) -> None:
        async with mcp_client(target, "http") as client:
            async with anyio.create_task_group() as tg:
                for _ in range(n):
                    tg.start_soon(one, client)

    async with anyio.create_task_group() as tg:
        for target, n in calls:
            tg.start_soon(many, target, n)
    return results


class CompletionNotices:
    """A 2025-11-25 client's side of URL elicitation: it accepts every elicitation and records each
    `notifications/elicitation/complete`. Pass `**notices.client_options()` to `mcp_client`."""

    def __init__(self) -> None:
        self.completed = anyio.Event()
        self.ids: list[str] = []

    def client_options(self) -> dict[str, Any]:
        return {"mode": "legacy", "elicitation_callback": self._accept, "message_handler": self._on_message}

    async def _accept(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept")

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, ElicitCompleteNotification):
            self.ids.append(message.params.elicitation_id)
            self.completed.set()


async def url_elicitation_required(client: Client, tool: str = "Demo_WhoAmI") -> ElicitRequestURLParams:
    """Call `tool` as a 2025-11-25 client: the -32042 error and the one URL elicitation it carries."""
    with pytest.raises(MCPError) as info:
        await client.call_tool(tool, {})
    assert info.value.code == URL_ELICITATION_REQUIRED
    (elicitation,) = UrlElicitationRequiredError.from_error(info.value.error).elicitations
    return elicitation
