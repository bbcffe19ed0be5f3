"""A stand-in of Linear's GraphQL endpoint: each request is validated against the published schema (the subset
in schema_subset.graphql) and executed by graphql-core over fixture objects, so answers carry exactly the
fields a real answer would for that query, in the documented JSON envelope (`{"data": ...}` or `{"errors": ...}`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx2
from graphql import build_schema, graphql_sync

from mcp_server import ToolAuthorization, ToolContext

SCHEMA = build_schema((Path(__file__).parent / "schema_subset.graphql").read_text())
BASE = "https://linear.test"
# Root fields: a value, or a function taking the field's arguments (Linear's resolvers, played by the test).
Roots = Mapping[str, Any]


class Standin:
    def __init__(self, roots: Roots, headers: Mapping[str, str] | None = None) -> None:
        self.roots = roots
        self.requests: list[httpx2.Request] = []
        self.operations: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        assert request.method == "POST" and request.url.path == "/graphql"
        assert request.headers["authorization"] == "Bearer tok-linear-1"
        assert request.headers["content-type"] == "application/json"
        body = json.loads(request.content)
        self.operations.append(body)
        root = {name: (self._call(value) if callable(value) else value) for name, value in self.roots.items()}
        result = graphql_sync(SCHEMA, body["query"], root_value=root, variable_values=body.get("variables"))
        assert not result.errors, result.errors  # the request is valid against Linear's schema
        return httpx2.Response(200, json={"data": result.data})

    @staticmethod
    def _call(function: Callable[..., Any]) -> Callable[..., Any]:
        return lambda _info, **arguments: function(**arguments)


def make_context(
    roots: Roots | Callable[[httpx2.Request], httpx2.Response], scopes: tuple[str, ...] = ("read",)
) -> tuple[ToolContext, Standin]:
    standin = roots if isinstance(roots, Standin) else Standin(roots) if not callable(roots) else roots
    context = ToolContext(
        user_id="u1",
        authorization=ToolAuthorization(provider_id="linear", token="tok-linear-1", scopes=scopes),
        http=httpx2.AsyncClient(transport=httpx2.MockTransport(standin)),
        settings={"api_base_url": BASE},
    )
    return context, standin  # type: ignore[return-value]


def operation_name(body: Mapping[str, Any]) -> str:
    return str(body["query"]).split("(")[0].split("{")[0].split()[-1]
