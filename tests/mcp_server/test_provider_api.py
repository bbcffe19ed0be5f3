"""ProviderAPI, the toolkits' HTTP layer, against a real HTTP server on 127.0.0.1 reached through the server's
own provider client (its timeouts and size cap)."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from mcp_server import (
    Page,
    ProviderAPI,
    RetryableToolError,
    ToolAuthorization,
    ToolContext,
    ToolExecutionError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamServerError,
    collect_pages,
)
from mcp_server._http import httpx2, provider_client

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes


Answer = tuple[int, dict[str, str], bytes]
Route = Callable[[Seen], Answer]


def answer(body: Any = None, status: int = 200, raw: bytes | None = None, **headers: str) -> Answer:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return status, {"content-type": "application/json", **headers}, data


class Service:
    """An HTTP API on 127.0.0.1: answers each path from `routes`, records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                seen = Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                service.seen.append(seen)
                route = service.routes.get(parts.path)
                status, headers, data = route(seen) if route else answer({"error": "no route"}, 404)
                self.send_response(status)
                for name, value in {**headers, "content-length": str(len(data))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Acme(ProviderAPI):
    name = "Acme"
    default_base_url = "https://api.acme.invalid"
    path_prefix = "/v2"
    headers: ClassVar[dict[str, str]] = {"Acme-Version": "2024-01-01"}


@pytest.fixture
def service() -> Iterator[Service]:
    running = Service()
    yield running
    running.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    async with provider_client(5.0) as client:
        yield client


def context_for(service: Service, http: httpx2.AsyncClient | None, **auth: Any) -> ToolContext:
    return ToolContext(
        user_id="u1",
        authorization=ToolAuthorization(provider_id="acme", token="tok-acme-1", **auth),
        settings={"api_base_url": service.url},
        http=http,
    )


async def test_requests_go_to_the_configured_base_with_the_token_and_json(
    service: Service, http: httpx2.AsyncClient
) -> None:
    service.routes["/v2/things"] = lambda seen: answer({"got": json.loads(seen.body)}, 201)
    api = Acme(context_for(service, http))
    created = await api.request(
        "POST", "/things", what="a new thing", json={"name": "a"}, params={"q": "x", "skip": None}
    )
    assert created == {"got": {"name": "a"}}
    seen = service.seen[0]
    assert (seen.method, seen.path, seen.query) == ("POST", "/v2/things", {"q": ["x"]})  # None values left out
    assert seen.headers["authorization"] == "Bearer tok-acme-1"
    assert seen.headers["acme-version"] == "2024-01-01"
    assert seen.headers["content-type"] == "application/json"


async def test_the_default_base_url_without_the_setting() -> None:
    api = Acme(ToolContext(user_id="u1"))
    assert api.base_url == "https://api.acme.invalid/v2"
    assert api.url("/me") == "https://api.acme.invalid/v2/me"


async def test_no_http_client_is_a_clear_tool_error(service: Service) -> None:
    with pytest.raises(ToolExecutionError, match="No HTTP client is available to reach Acme"):
        await Acme(context_for(service, None)).get_json("/me", what="the profile")


async def test_empty_answer_is_an_empty_object_and_a_non_object_is_refused(
    service: Service, http: httpx2.AsyncClient
) -> None:
    service.routes["/v2/gone"] = lambda seen: answer(status=204)
    service.routes["/v2/list"] = lambda seen: answer([1, 2])
    service.routes["/v2/html"] = lambda seen: answer(raw=b"<html>oops</html>", **{"content-type": "text/html"})
    api = Acme(context_for(service, http))
    assert await api.request("DELETE", "/gone", what="the thing") == {}
    for path in ("/list", "/html"):
        with pytest.raises(UpstreamError, match="Acme answered the thing with an unexpected response") as info:
            await api.get_json(path, what="the thing")
        assert info.value.status_code == 502


@pytest.mark.parametrize(
    ("status", "headers", "error", "phrase"),
    [
        (401, {}, UpstreamAuthError, "refused the stored token"),
        (429, {"retry-after": "30"}, UpstreamRateLimitError, "Retry in 30 s"),
        (503, {"retry-after": "7"}, UpstreamServerError, "try again later"),
        (403, {}, UpstreamError, "does not allow it"),
        (404, {}, UpstreamError, "the thing 42 was not found"),
        (422, {}, UpstreamError, r"rejected the thing 42 \(HTTP 422\)"),
    ],
)
async def test_error_statuses_are_mapped_once(
    service: Service,
    http: httpx2.AsyncClient,
    status: int,
    headers: dict[str, str],
    error: type[Exception],
    phrase: str,
) -> None:
    service.routes["/v2/things/42"] = lambda seen: answer({"message": "secret user data"}, status, **headers)
    with pytest.raises(error, match=phrase) as info:
        await Acme(context_for(service, http)).get_json("/things/42", what="the thing 42")
    assert "secret user data" not in str(info.value)
    if status in (429, 503):
        assert isinstance(info.value, RetryableToolError) and info.value.retry_after in (30, 7)


async def test_refusals_and_the_check_hook_come_before_the_common_mapping(
    service: Service, http: httpx2.AsyncClient
) -> None:
    service.routes["/v2/merge"] = lambda seen: answer({"message": "not mergeable"}, 405)
    service.routes["/v2/busy"] = lambda seen: answer({"error": "busy"}, 400, **{"x-acme-busy": "1"})

    class Checked(Acme):
        def check(self, response: httpx2.Response, *, what: str) -> None:
            if response.headers.get("x-acme-busy"):
                raise UpstreamRateLimitError(f"Acme is busy with {what}.")

    api = Checked(context_for(service, http))
    with pytest.raises(UpstreamError, match=r"^The pull request cannot be merged") as refused:
        await api.send("PUT", "/merge", what="the merge", refusals={405: "The pull request cannot be merged."})
    assert refused.value.status_code == 405
    with pytest.raises(UpstreamRateLimitError, match="Acme is busy with the job"):
        await api.get_json("/busy", what="the job")


async def test_the_providers_own_error_style_applies(service: Service, http: httpx2.AsyncClient) -> None:
    service.routes["/v2/chat.postMessage"] = lambda seen: answer({"ok": False, "error": "channel_not_found"})
    api = Acme(context_for(service, http, error_style="ok_flag"))
    with pytest.raises(UpstreamError, match="was not found \\(channel_not_found\\)"):
        await api.request("POST", "/chat.postMessage", what="the channel", json={})


async def test_the_token_never_goes_to_another_host(service: Service, http: httpx2.AsyncClient) -> None:
    api = Acme(context_for(service, http))
    with pytest.raises(ToolExecutionError, match=r"only sent to 127\.0\.0\.1"):
        await api.get_json("https://elsewhere.invalid/v2/me", what="the profile")
    assert service.seen == []
    service.routes["/upload/v2/files"] = lambda seen: answer({"id": "f1"})
    assert await api.request("POST", f"{service.url}/upload/v2/files", what="the upload", content=b"x") == {"id": "f1"}


async def test_link_pagination_follows_next_links_on_the_origin_only(
    service: Service, http: httpx2.AsyncClient
) -> None:
    def page(seen: Seen) -> Answer:
        number = int(seen.query.get("page", ["1"])[0])
        links = {
            1: f'<{service.url}/v2/items?page=2>; rel="next"',
            2: '<https://elsewhere.invalid/v2/items?page=3>; rel="next"',
        }
        return answer(
            [{"n": number * 10 + i} for i in range(3)], **({"link": links[number]} if number in links else {})
        )

    service.routes["/v2/items"] = page
    api = Acme(context_for(service, http))
    items, more = await api.paginate_links("/items", what="the items", limit=4, max_pages=5, params={"per_page": 3})
    assert [i["n"] for i in items] == [10, 11, 12, 20] and more
    assert service.seen[1].query == {"page": ["2"]}  # the link's query, not the first request's
    items, more = await api.paginate_links("/items", what="the items", limit=50, max_pages=5)
    assert len(items) == 6 and more  # the third page is on another host: not followed, but more exists
    assert all(seen.path == "/v2/items" for seen in service.seen)


async def test_token_pagination_in_the_query_and_in_a_body(service: Service, http: httpx2.AsyncClient) -> None:
    tokens = {None: "t2", "t2": "t3", "t3": "t4", "t4": None}

    def page(seen: Seen) -> Answer:
        asked = json.loads(seen.body) if seen.body else {k: v[0] for k, v in seen.query.items()}
        size = int(asked["size"])
        return answer({"entries": [{"i": i} for i in range(size)], "meta": {"next": tokens[asked.get("token")]}})

    service.routes["/v2/entries"] = page
    api = Acme(context_for(service, http))
    items, more = await api.paginate_tokens(
        "/entries",
        what="the entries",
        limit=5,
        max_pages=9,
        items_key="entries",
        token_param="token",
        next_token=lambda body: body["meta"]["next"],
        size_param="size",
        page_size=2,
    )
    assert len(items) == 5 and more
    assert [s.query.get("size") for s in service.seen] == [["2"], ["2"], ["1"]]
    service.seen.clear()
    items, more = await api.paginate_tokens(
        "/entries",
        what="the entries",
        limit=50,
        max_pages=9,
        items_key="entries",
        token_param="token",
        next_token=lambda body: body["meta"]["next"],
        size_param="size",
        page_size=2,
        method="POST",
        json={"q": "a"},
    )
    assert len(items) == 8 and not more
    assert [json.loads(s.body) for s in service.seen][1] == {"q": "a", "size": 2, "token": "t2"}


async def test_offset_pagination_stops_on_the_last_page(service: Service, http: httpx2.AsyncClient) -> None:
    rows = [{"row": n} for n in range(7)]

    def page(seen: Seen) -> Answer:
        start, size = int(seen.query["startAt"][0]), int(seen.query["maxResults"][0])
        return answer({"values": rows[start : start + size]})

    service.routes["/v2/rows"] = page
    api = Acme(context_for(service, http))
    items, more = await api.paginate_offset(
        "/rows",
        what="the rows",
        limit=50,
        max_pages=9,
        items_key="values",
        offset_param="startAt",
        size_param="maxResults",
        page_size=3,
    )
    assert items == rows and not more
    assert [s.query["startAt"] for s in service.seen] == [["0"], ["3"], ["6"]]


async def test_collect_pages_is_bounded_by_pages_and_filters() -> None:
    calls: list[str | None] = []

    async def endless(cursor: str | None, wanted: int) -> Page:
        calls.append(cursor)
        return Page([{"even": len(calls) % 2 == 0}], next=f"c{len(calls)}")

    items, more = await collect_pages(endless, limit=10, max_pages=4, keep=lambda item: bool(item["even"]))
    assert len(items) == 2 and more and calls == [None, "c1", "c2", "c3"]


async def test_read_bytes_stops_at_the_bound(service: Service, http: httpx2.AsyncClient) -> None:
    service.routes["/v2/file"] = lambda seen: (200, {"content-type": "application/octet-stream"}, b"x" * 5000)
    api = Acme(context_for(service, http))
    assert await api.read_bytes("/file", what="the file", max_bytes=100) == (b"x" * 100, True)
    data, cut = await api.read_bytes("/file", what="the file", max_bytes=10_000)
    assert len(data) == 5000 and not cut


async def test_the_origin_is_compared_without_letter_case() -> None:
    api = Acme(ToolContext(user_id="u1", settings={"api_base_url": "HTTPS://API.Acme.invalid"}))
    assert api.owns("https://api.acme.invalid/v2/items?page=2")
    assert not api.owns("https://api.acme.invalid.evil.example/v2/items")


def test_the_bundled_toolkits_reach_their_services_only_through_provider_api() -> None:
    """No toolkit module touches the HTTP client, writes a Bearer header or reads the base URL setting itself."""
    import ast
    from pathlib import Path

    import toolkits

    found = []
    for path in sorted(Path(toolkits.__file__).parent.glob("*/*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in ("http", "get_setting", "get_auth_token_or_empty"):
                found.append(f"{path.parent.name}/{path.name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "Bearer " in node.value:
                found.append(f"{path.parent.name}/{path.name}:{node.lineno} a Bearer header")
    assert found == []
