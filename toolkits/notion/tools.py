"""The Notion tools: search, read a page as text, create a page, append to a page, query a database.

Scopes: Notion's OAuth has none (https://developers.notion.com/docs/authorization): what an integration may do
is set by its capabilities, and what it may see by the pages the user shares with it during consent. So every
tool declares no scope, and a 404 says the page may not be shared with the integration.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp_server import ADDS, READS, ToolContext, ToolExecutionError, pick, tool
from mcp_server.auth import Notion
from toolkits.notion.blocks import block_lines, properties, rich_text, text_to_blocks, title_of
from toolkits.notion.client import MAX_PAGE_SIZE, NotionAPI, check_id, check_limit, iso

__all__ = ["append_to_page", "create_page", "get_page_content", "query_database", "search"]

NOTION = Notion(scopes=[])
MAX_CONTENT_CHARS = 100_000  # of text written by one call
MAX_BLOCKS_READ = 1000
MAX_DEPTH = 3  # nested blocks read below the page
MAX_TITLE_CHARS = 2000
PageId = Annotated[str, "The page's id (from Notion_Search) or its notion.so URL."]


def _not_found(thing: str) -> str:
    return f"{thing} (or it is not shared with the authmcp integration: share it, or reconnect Notion and pick it)"


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    parent = item.get("parent") or {}
    parent_type = parent.get("type")
    return {
        **pick(item, "id", "object"),
        "title": title_of(item),
        "url": item.get("url"),
        "parent_type": parent_type,
        "parent_id": parent.get(parent_type) if parent_type not in (None, "workspace") else None,
        "created_time": iso(item.get("created_time")),
        "last_edited_time": iso(item.get("last_edited_time")),
        "archived": item.get("archived"),
    }


@tool(requires_auth=NOTION, title="Search Notion", hints=READS)
async def search(
    context: ToolContext,
    query: Annotated[str, "Words in the title of the page or database; '' lists the most recently edited."] = "",
    kind: Annotated[Literal["any", "page", "database"], "Only pages, only databases, or 'any' (default)."] = "any",
    limit: Annotated[int, "How many results to return, 1-100 (default 20)."] = 20,
) -> dict[str, Any]:
    """Search the Notion pages and databases shared with this integration by title, most recently edited
    first when the query is empty.

    Returns `results` (id, object: page or database, title, url, parent, ISO 8601 times), `count` and
    `more_available`. Pass a page's id to Notion_GetPageContent, a database's to Notion_QueryDatabase.
    """
    if not isinstance(query, str) or len(query) > 1000:
        raise ToolExecutionError("query must be text of at most 1000 characters, e.g. 'meeting notes'.")
    if kind not in ("any", "page", "database"):
        raise ToolExecutionError(f"kind {kind!r} is not valid: use one of any, page, database.")
    check_limit(limit, maximum=MAX_PAGE_SIZE)
    body: dict[str, Any] = {"sort": {"direction": "descending", "timestamp": "last_edited_time"}}
    if query.strip():
        body["query"] = query.strip()
    if kind != "any":
        body["filter"] = {"property": "object", "value": kind}
    results, more = await NotionAPI(context).paginate("POST", "/search", what="the search", limit=limit, body=body)
    found = [_summary(item) for item in results]
    return {"results": found, "count": len(found), "more_available": more}


async def _read_blocks(context: ToolContext, block_id: str, depth: int, budget: list[int], lines: list[str]) -> bool:
    """Append the text of `block_id`'s children (and theirs, to MAX_DEPTH) to `lines`; False when cut short."""
    children, more = await NotionAPI(context).paginate(
        "GET",
        f"/blocks/{block_id}/children",
        what=_not_found(f"the content of {block_id}"),
        limit=budget[0],
    )
    complete = not more
    for block in children:
        budget[0] -= 1
        lines.extend("  " * depth + line for line in block_lines(block))
        if block.get("has_children") and block.get("type") not in ("child_page", "child_database"):
            if depth + 1 >= MAX_DEPTH or budget[0] <= 0:
                complete = False
            else:
                complete = await _read_blocks(context, str(block.get("id")), depth + 1, budget, lines) and complete
        if budget[0] <= 0:
            return False
    return complete


@tool(requires_auth=NOTION, title="Read a Notion page as text", hints=READS)
async def get_page_content(
    context: ToolContext,
    page_id: PageId,
    max_blocks: Annotated[int, "At most this many blocks are read, 1-1000 (default 500)."] = 500,
) -> dict[str, Any]:
    """Read a Notion page: its title, its properties as plain values and its content as Markdown-like text
    (headings, lists, to-dos, quotes, code; nested blocks indented, 3 levels deep; sub-pages named with their id).

    Returns `id`, `title`, `url`, ISO 8601 times, `properties`, `text` and `complete` (false when the block
    limit or the nesting depth cut the content short).
    """
    ref = check_id(page_id, "page_id")
    check_limit(max_blocks, maximum=MAX_BLOCKS_READ, name="max_blocks")
    page = await NotionAPI(context).request("GET", f"/pages/{ref}", what=_not_found(f"the page {ref}"))
    lines: list[str] = []
    complete = await _read_blocks(context, ref, 0, [max_blocks], lines)
    return {
        "id": page.get("id"),
        "title": title_of(page),
        "url": page.get("url"),
        "created_time": iso(page.get("created_time")),
        "last_edited_time": iso(page.get("last_edited_time")),
        "properties": properties(page),
        "text": "\n".join(lines),
        "complete": complete,
    }


def _content_blocks(content: Any, *, required: bool) -> list[dict[str, Any]]:
    if content is None and not required:
        return []
    if not isinstance(content, str) or (required and not content.strip()):
        raise ToolExecutionError("content is empty: give the text to add, e.g. '## Notes\\n- first point'.")
    if len(content) > MAX_CONTENT_CHARS:
        raise ToolExecutionError(f"content is {len(content)} characters long; at most {MAX_CONTENT_CHARS} per call.")
    return text_to_blocks(content)


async def _append(context: ToolContext, block_id: str, blocks: list[dict[str, Any]]) -> int:
    """Append `blocks` in requests of at most 100 (Notion's limit per request); the number appended."""
    for start in range(0, len(blocks), MAX_PAGE_SIZE):
        await NotionAPI(context).request(
            "PATCH",
            f"/blocks/{block_id}/children",
            what=_not_found(f"the page {block_id}"),
            json={"children": blocks[start : start + MAX_PAGE_SIZE]},
        )
    return len(blocks)


@tool(requires_auth=NOTION, title="Create a Notion page", hints=ADDS)
async def create_page(
    context: ToolContext,
    parent_id: Annotated[str, "The page or database to create it in: its id (from Notion_Search) or URL."],
    title: Annotated[str, "The new page's title."],
    content: Annotated[
        str | None,
        "The page's text; lines starting with '#', '- ', '1. ', '- [ ] ', '> ', '```' or '---' become headings, "
        "lists, to-dos, quotes, code and dividers.",
    ] = None,
    parent_type: Annotated[
        Literal["page", "database"], "Whether parent_id is a page (default) or a database (a new row)."
    ] = "page",
    database_properties: Annotated[
        dict[str, Any] | None,
        "For a database row: other property values in Notion's format, e.g. {'Status': {'status': {'name': 'Done'}}}.",
    ] = None,
) -> dict[str, Any]:
    """Create a Notion page under a page, or as a new row of a database, with a title and optional text.

    Returns the new page's `id` (for Notion_AppendToPage), `url` and the number of blocks written.
    """
    parent = check_id(parent_id, "parent_id")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_CHARS:
        raise ToolExecutionError(f"title must be non-empty text of at most {MAX_TITLE_CHARS} characters.")
    if parent_type not in ("page", "database"):
        raise ToolExecutionError(f"parent_type {parent_type!r} is not valid: use page or database.")
    if database_properties is not None and (
        parent_type != "database"
        or not isinstance(database_properties, dict)
        or not all(isinstance(v, dict) for v in database_properties.values())
    ):
        raise ToolExecutionError(
            "database_properties go with parent_type 'database' and map property names to Notion property "
            "values, e.g. {'Status': {'status': {'name': 'Done'}}}."
        )
    blocks = _content_blocks(content, required=False)
    title_property = "title"
    if parent_type == "database":
        database = await NotionAPI(context).get_json(f"/databases/{parent}", what=_not_found(f"the database {parent}"))
        title_property = next(
            (
                name
                for name, prop in (database.get("properties") or {}).items()
                if isinstance(prop, dict) and prop.get("type") == "title"
            ),
            "Name",
        )
    page_properties: dict[str, Any] = {
        **(database_properties or {}),
        title_property: {"title": rich_text(title.strip())},
    }
    body = {
        "parent": {"page_id": parent} if parent_type == "page" else {"database_id": parent},
        "properties": page_properties,
        "children": blocks[:MAX_PAGE_SIZE],
    }
    page = await NotionAPI(context).request("POST", "/pages", json=body, what=_not_found(f"the {parent_type} {parent}"))
    page_id = str(page.get("id"))
    await _append(context, page_id, blocks[MAX_PAGE_SIZE:])
    return {
        "id": page_id,
        "url": page.get("url"),
        "title": title_of(page) or title.strip(),
        "blocks_written": len(blocks),
    }


@tool(requires_auth=NOTION, title="Append text to a Notion page", hints=ADDS)
async def append_to_page(
    context: ToolContext,
    page_id: PageId,
    content: Annotated[
        str, "The text to add at the end; '#', '- ', '1. ', '- [ ] ', '> ', '```' and '---' lines are formatted."
    ],
) -> dict[str, Any]:
    """Add text at the end of a Notion page (or inside a block that takes children, such as a toggle).

    Returns the page's `id` and the number of blocks appended.
    """
    ref = check_id(page_id, "page_id")
    blocks = _content_blocks(content, required=True)
    appended = await _append(context, ref, blocks)
    return {"id": ref, "blocks_appended": appended}


@tool(requires_auth=NOTION, title="Query a Notion database", hints=READS)
async def query_database(
    context: ToolContext,
    database_id: Annotated[str, "The database's id (from Notion_Search) or URL."],
    filter: Annotated[
        dict[str, Any] | None,
        "A Notion filter object, e.g. {'property': 'Status', 'status': {'equals': 'Done'}} or "
        "{'and': [...]}; omit for every row.",
    ] = None,
    sorts: Annotated[
        list[dict[str, Any]] | None,
        "Notion sort objects, e.g. [{'property': 'Due', 'direction': 'ascending'}] or "
        "[{'timestamp': 'last_edited_time', 'direction': 'descending'}].",
    ] = None,
    limit: Annotated[int, "How many rows to return, 1-500 (default 50)."] = 50,
) -> dict[str, Any]:
    """Query a Notion database's rows, optionally filtered and sorted with Notion's filter and sort objects.

    Returns `rows` (id, title, url, properties as plain values: text, numbers, select names, ISO 8601 dates,
    people's names, ids of related pages; ISO 8601 times), `count` and `more_available`.
    """
    ref = check_id(database_id, "database_id")
    if filter is not None and (not isinstance(filter, dict) or not filter):
        raise ToolExecutionError(
            "filter must be a Notion filter object, e.g. {'property': 'Status', 'status': {'equals': 'Done'}}."
        )
    if sorts is not None and (not isinstance(sorts, list) or not all(isinstance(s, dict) for s in sorts)):
        raise ToolExecutionError(
            "sorts must be a list of objects, e.g. [{'property': 'Due', 'direction': 'ascending'}]."
        )
    check_limit(limit, maximum=500)
    body: dict[str, Any] = {}
    if filter:
        body["filter"] = filter
    if sorts:
        body["sorts"] = sorts
    rows, more = await NotionAPI(context).paginate(
        "POST", f"/databases/{ref}/query", body=body, limit=limit, what=_not_found(f"the database {ref}")
    )
    shaped = [
        {
            **{k: v for k, v in _summary(row).items() if k not in ("object", "parent_type", "parent_id")},
            "properties": properties(row),
        }
        for row in rows
    ]
    return {"rows": shaped, "count": len(shaped), "more_available": more}
