"""Unit tests of the Notion toolkit against a stand-in of Notion's API answering in its documented shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from mcp_server import ToolAuthorization, ToolContext, ToolExecutionError, UpstreamError, UpstreamRateLimitError
from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry
from tests.toolkits.notion import fixtures
from tests.toolkits.notion.fixtures import DATABASE_ID, PAGE_ID, block, page_of
from toolkits.notion import append_to_page, create_page, get_page_content, query_database, search

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx2.Request], httpx2.Response]


class Standin:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == "Bearer tok-notion-1"
        assert request.headers["notion-version"] == "2022-06-28"
        assert request.url.host == "notion.test"
        return self.handler(request)


def make_context(handler: Handler) -> tuple[ToolContext, Standin]:
    standin = Standin(handler)
    context = ToolContext(
        user_id="u1",
        authorization=ToolAuthorization(provider_id="notion", token="tok-notion-1"),
        http=httpx2.AsyncClient(transport=httpx2.MockTransport(standin)),
        settings={"api_base_url": "https://notion.test"},
    )
    return context, standin


def sent(request: httpx2.Request) -> tuple[str, str, dict[str, str], Any]:
    return (
        request.method,
        request.url.path,
        dict(request.url.params),
        json.loads(request.content) if request.content else None,
    )


def test_catalog_declares_no_scope_and_annotates_every_tool() -> None:
    catalog = load_catalog(["toolkits.notion"], ProviderRegistry({}))
    hints = {
        t.mcp_name: (t.requirement.id, tuple(t.requirement.scopes), t.hints["readOnlyHint"])
        for t in catalog
        if t.requirement
    }
    assert hints == {
        "Notion_Search": ("notion", (), True),
        "Notion_GetPageContent": ("notion", (), True),
        "Notion_QueryDatabase": ("notion", (), True),
        "Notion_CreatePage": ("notion", (), False),
        "Notion_AppendToPage": ("notion", (), False),
    }
    for definition in catalog:
        assert definition.title and definition.hints["openWorldHint"] is True


async def test_search_pages_by_title() -> None:
    context, standin = make_context(lambda r: httpx2.Response(200, json=page_of([fixtures.PAGE])))
    result = await search(context, query=" kale ", kind="page", limit=10)
    assert sent(standin.requests[0]) == (
        "POST",
        "/v1/search",
        {},
        {
            "sort": {"direction": "descending", "timestamp": "last_edited_time"},
            "query": "kale",
            "filter": {"property": "object", "value": "page"},
            "page_size": 10,
        },
    )
    assert result == {
        "results": [
            {
                "id": PAGE_ID,
                "object": "page",
                "title": "Tuscan kale",
                "url": fixtures.PAGE["url"],
                "parent_type": "page_id",
                "parent_id": "b55c9c91-384d-452b-81db-d1ef79372b75",
                "created_time": "2022-03-01T19:05:00+00:00",
                "last_edited_time": "2022-07-06T20:25:00+00:00",
                "archived": False,
            }
        ],
        "count": 1,
        "more_available": False,
    }


async def test_search_follows_the_cursor_in_the_body() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if body.get("start_cursor") == "c2":
            return httpx2.Response(200, json=page_of([fixtures.DATABASE]))
        return httpx2.Response(200, json=page_of([fixtures.PAGE], next_cursor="c2"))

    context, standin = make_context(handler)
    result = await search(context, limit=5)
    assert [json.loads(r.content).get("start_cursor") for r in standin.requests] == [None, "c2"]
    assert [json.loads(r.content)["page_size"] for r in standin.requests] == [5, 4]
    assert [r["title"] for r in result["results"]] == ["Tuscan kale", "Grocery List"]


async def test_get_page_content_as_text_with_nested_blocks() -> None:
    toggle_id = "a1d8a6c4-9d4b-4f5e-8c7a-111111111111"
    top = [
        block("heading_2", "Lacinato kale"),
        block("paragraph", "Lacinato kale is a variety of kale with a long tradition in Italian cuisine."),
        block("to_do", "Buy seeds", checked=True),
        block("toggle", "Recipes", has_children=True, block_id=toggle_id),
        block("code", "print('kale')", language="python"),
        {**block("divider"), "divider": {}},
        {**block("child_page"), "child_page": {"title": "Kale soup"}, "id": "c3c3c3c3-0000-4000-8000-000000000001"},
    ]

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == f"/v1/pages/{PAGE_ID}":
            return httpx2.Response(200, json=fixtures.PAGE)
        if request.url.path == f"/v1/blocks/{toggle_id}/children":
            return httpx2.Response(200, json=page_of([block("bulleted_list_item", "Kale chips")]))
        if request.url.params.get("start_cursor") == "p2":
            return httpx2.Response(200, json=page_of(top[4:]))
        return httpx2.Response(200, json=page_of(top[:4], next_cursor="p2"))

    context, standin = make_context(handler)
    result = await get_page_content(context, page_id=fixtures.PAGE["url"])
    # the page's blocks are listed (both pages) before the toggle's children are read
    assert [sent(r)[:3] for r in standin.requests] == [
        ("GET", f"/v1/pages/{PAGE_ID}", {}),
        ("GET", f"/v1/blocks/{PAGE_ID}/children", {"page_size": "100"}),
        ("GET", f"/v1/blocks/{PAGE_ID}/children", {"page_size": "100", "start_cursor": "p2"}),
        ("GET", f"/v1/blocks/{toggle_id}/children", {"page_size": "100"}),
    ]
    assert result["title"] == "Tuscan kale" and result["id"] == PAGE_ID
    assert result["properties"] == {"title": "Tuscan kale"}
    assert result["text"] == "\n".join(
        [
            "## Lacinato kale",
            "Lacinato kale is a variety of kale with a long tradition in Italian cuisine.",
            "- [x] Buy seeds",
            "▸ Recipes",
            "  - Kale chips",
            "```python",
            "print('kale')",
            "```",
            "---",
            "[Page: Kale soup] (id c3c3c3c3-0000-4000-8000-000000000001)",
        ]
    )
    assert result["complete"] is True
    assert result["last_edited_time"] == "2022-07-06T20:25:00+00:00"


async def test_the_block_limit_marks_the_text_incomplete() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.startswith("/v1/pages/"):
            return httpx2.Response(200, json=fixtures.PAGE)
        return httpx2.Response(
            200, json=page_of([block("paragraph", "one"), block("paragraph", "two")], next_cursor="more")
        )

    context, standin = make_context(handler)
    result = await get_page_content(context, page_id=PAGE_ID, max_blocks=2)
    assert result["text"] == "one\ntwo" and result["complete"] is False
    assert len(standin.requests) == 2


async def test_create_page_under_a_page_with_formatted_content() -> None:
    created = fixtures.PAGE | {"id": "c3c3c3c3-0000-4000-8000-000000000002"}
    context, standin = make_context(lambda r: httpx2.Response(200, json=created))
    result = await create_page(
        context,
        parent_id=PAGE_ID.replace("-", ""),
        title=" Kale notes ",
        content="# Kale\n\nGrows in winter.\n- Lacinato\n1. Sow\n- [ ] Water\n> Tasty",
    )
    method, path, _, body = sent(standin.requests[0])
    assert (method, path) == ("POST", "/v1/pages")
    assert body["parent"] == {"page_id": PAGE_ID}
    assert body["properties"] == {"title": {"title": [{"type": "text", "text": {"content": "Kale notes"}}]}}
    assert [(b["type"], b[b["type"]]["rich_text"][0]["text"]["content"]) for b in body["children"]] == [
        ("heading_1", "Kale"),
        ("paragraph", "Grows in winter."),
        ("bulleted_list_item", "Lacinato"),
        ("numbered_list_item", "Sow"),
        ("to_do", "Water"),
        ("quote", "Tasty"),
    ]
    assert body["children"][4]["to_do"]["checked"] is False
    assert result == {
        "id": "c3c3c3c3-0000-4000-8000-000000000002",
        "url": fixtures.PAGE["url"],
        "title": "Tuscan kale",
        "blocks_written": 6,
    }


async def test_a_database_row_uses_the_databases_title_property_and_long_content_is_appended() -> None:
    row = fixtures.ROW

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET":
            return httpx2.Response(200, json=fixtures.DATABASE)
        if request.method == "POST":
            return httpx2.Response(200, json=row)
        return httpx2.Response(200, json=page_of([]))

    context, standin = make_context(handler)
    content = "\n".join(f"line {n}" for n in range(150)) + "\n" + "x" * 4500
    result = await create_page(
        context,
        parent_id=DATABASE_ID,
        parent_type="database",
        title="Kale",
        content=content,
        database_properties={"Price": {"number": 2.5}},
    )
    assert [sent(r)[:2] for r in standin.requests] == [
        ("GET", f"/v1/databases/{DATABASE_ID}"),
        ("POST", "/v1/pages"),
        ("PATCH", f"/v1/blocks/{row['id']}/children"),
    ]
    created = sent(standin.requests[1])[3]
    assert created["parent"] == {"database_id": DATABASE_ID}
    assert created["properties"]["Name"] == {"title": [{"type": "text", "text": {"content": "Kale"}}]}
    assert created["properties"]["Price"] == {"number": 2.5}
    assert len(created["children"]) == 100
    appended = sent(standin.requests[2])[3]["children"]
    assert len(appended) == 51
    # a text object holds at most 2,000 characters (https://developers.notion.com/reference/request-limits)
    assert [len(t["text"]["content"]) for t in appended[-1]["paragraph"]["rich_text"]] == [2000, 2000, 500]
    assert result["blocks_written"] == 151


async def test_append_to_page_sends_code_and_dividers() -> None:
    context, standin = make_context(lambda r: httpx2.Response(200, json=page_of([block("paragraph", "x")])))
    result = await append_to_page(context, page_id=PAGE_ID, content="---\n```sql\nselect 1;\n```\nDone")
    method, path, _, body = sent(standin.requests[0])
    assert (method, path) == ("PATCH", f"/v1/blocks/{PAGE_ID}/children")
    assert body == {
        "children": [
            {"object": "block", "type": "divider", "divider": {}},
            {
                "object": "block",
                "type": "code",
                "code": {"rich_text": [{"type": "text", "text": {"content": "select 1;"}}], "language": "sql"},
            },
            {
                "object": "block",
                "type": "paragraph",
                "paragraph": {"rich_text": [{"type": "text", "text": {"content": "Done"}}]},
            },
        ]
    }
    assert result == {"id": PAGE_ID, "blocks_appended": 3}


async def test_query_database_sends_filter_and_sorts_and_flattens_properties() -> None:
    context, standin = make_context(lambda r: httpx2.Response(200, json=page_of([fixtures.ROW], next_cursor="n")))
    result = await query_database(
        context,
        database_id=DATABASE_ID,
        filter={"property": "In stock", "checkbox": {"equals": True}},
        sorts=[{"property": "Price", "direction": "ascending"}],
        limit=1,
    )
    assert sent(standin.requests[0]) == (
        "POST",
        f"/v1/databases/{DATABASE_ID}/query",
        {},
        {
            "filter": {"property": "In stock", "checkbox": {"equals": True}},
            "sorts": [{"property": "Price", "direction": "ascending"}],
            "page_size": 1,
        },
    )
    assert result["more_available"] is True
    row = result["rows"][0]
    assert row["id"] == "2e01e904-febd-43a0-ad02-8eedb903a82c" and row["title"] == "Tuscan kale"
    assert row["properties"] == {
        "Name": "Tuscan kale",
        "In stock": True,
        "Price": 2.5,
        "Food group": "🥬 Vegetable",
        "Store availability": ["Gus's Community Market", "Rainbow Grocery"],
        "Last ordered": "2022-02-22",
        "Status": "In progress",
        "Photographer": ["Avocado Lovelace"],
        "Recipes": [PAGE_ID],
        "Description": "A dark green leafy vegetable",
        "Cost of next trip": 0,
        "Last edited": "2022-07-06T20:25:00+00:00",
    }


async def test_404_says_the_page_may_not_be_shared() -> None:
    context, _ = make_context(lambda r: httpx2.Response(404, json=fixtures.NOT_FOUND))
    with pytest.raises(UpstreamError) as caught:
        await get_page_content(context, page_id=PAGE_ID)
    assert caught.value.status_code == 404 and "not shared with the authmcp integration" in str(caught.value)
    assert "Could not find" not in str(caught.value)


async def test_429_is_retryable_after_the_wait() -> None:
    context, _ = make_context(lambda r: httpx2.Response(429, json=fixtures.RATE_LIMITED, headers={"Retry-After": "7"}))
    with pytest.raises(UpstreamRateLimitError) as caught:
        await search(context, query="x")
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: search(c, kind="block"), "kind 'block'"),
        (lambda c: search(c, limit=101), "1 to 100"),
        (lambda c: get_page_content(c, page_id="kale"), "not a Notion id"),
        (lambda c: get_page_content(c, page_id=PAGE_ID + "0"), "not a Notion id"),
        (lambda c: get_page_content(c, page_id=PAGE_ID, max_blocks=0), "max_blocks 0"),
        (lambda c: create_page(c, parent_id=PAGE_ID, title=" "), "title must be"),
        (lambda c: create_page(c, parent_id=PAGE_ID, title="t", parent_type="workspace"), "parent_type"),
        (
            lambda c: create_page(c, parent_id=PAGE_ID, title="t", database_properties={"Price": {"number": 1}}),
            "database_properties go with",
        ),
        (lambda c: create_page(c, parent_id=PAGE_ID, title="t", content="x" * 100_001), "at most 100000"),
        (lambda c: append_to_page(c, page_id=PAGE_ID, content="  "), "content is empty"),
        (lambda c: query_database(c, database_id=DATABASE_ID, filter={}), "filter must be"),
        (lambda c: query_database(c, database_id=DATABASE_ID, sorts={"property": "x"}), "sorts must be"),
        (lambda c: query_database(c, database_id=DATABASE_ID, limit=501), "1 to 500"),
    ],
)
async def test_bad_input_is_refused_before_any_request(call: Any, expected: str) -> None:
    def never(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError(f"no request expected, got {request.method} {request.url}")

    context, standin = make_context(never)
    with pytest.raises(ToolExecutionError) as caught:
        await call(context)
    assert expected in str(caught.value)
    assert not isinstance(caught.value, UpstreamError)
    assert standin.requests == []
