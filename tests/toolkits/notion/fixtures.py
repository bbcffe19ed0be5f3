"""Notion API bodies in the shapes of Notion's API reference (https://developers.notion.com/reference, version
2022-06-28), with the values of its examples ("Tuscan kale" pages, the "Grocery List" database), trimmed to what
the toolkit reads plus a few fields it must ignore. Each names its reference page."""

from __future__ import annotations

from typing import Any

PAGE_ID = "59833787-2cf9-4fdf-8782-e53db20768a5"
DATABASE_ID = "d9824bdc-8445-4327-be8b-5b47500af6ce"
USER = {"object": "user", "id": "ee5f0f84-409a-440f-983a-a5315961c6e4"}


def text(content: str, **annotations: Any) -> dict[str, Any]:
    """A rich text object (https://developers.notion.com/reference/rich-text)."""
    return {
        "type": "text",
        "text": {"content": content, "link": None},
        "annotations": {
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "code": False,
            "color": "default",
            **annotations,
        },
        "plain_text": content,
        "href": None,
    }


# https://developers.notion.com/reference/page (example page object) and .../retrieve-a-page.
PAGE: dict[str, Any] = {
    "object": "page",
    "id": PAGE_ID,
    "created_time": "2022-03-01T19:05:00.000Z",
    "last_edited_time": "2022-07-06T20:25:00.000Z",
    "created_by": USER,
    "last_edited_by": USER,
    "cover": None,
    "icon": {"type": "emoji", "emoji": "🥬"},
    "parent": {"type": "page_id", "page_id": "b55c9c91-384d-452b-81db-d1ef79372b75"},
    "archived": False,
    "properties": {"title": {"id": "title", "type": "title", "title": [text("Tuscan kale")]}},
    "url": "https://www.notion.so/Tuscan-kale-598337872cf94fdf8782e53db20768a5",
}


def block(
    kind: str, content: str = "", *, has_children: bool = False, block_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A block object (https://developers.notion.com/reference/block) of a rich-text type."""
    body: dict[str, Any] = {"rich_text": [text(content)] if content else [], "color": "default", **extra}
    return {
        "object": "block",
        "id": block_id or "c02fc1d3-db8b-45c5-a222-27595b15aea7",
        "parent": {"type": "page_id", "page_id": PAGE_ID},
        "created_time": "2022-03-01T19:05:00.000Z",
        "last_edited_time": "2022-03-01T19:05:00.000Z",
        "created_by": USER,
        "last_edited_by": USER,
        "has_children": has_children,
        "archived": False,
        "type": kind,
        kind: body,
    }


def page_of(results: list[dict[str, Any]], next_cursor: str | None = None) -> dict[str, Any]:
    """A paginated list (https://developers.notion.com/reference/intro#pagination)."""
    return {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
        "type": "block",
        "block": {},
    }


# https://developers.notion.com/reference/database (example database object) and .../retrieve-a-database.
DATABASE: dict[str, Any] = {
    "object": "database",
    "id": DATABASE_ID,
    "created_time": "2021-07-08T23:50:00.000Z",
    "last_edited_time": "2021-07-08T23:50:00.000Z",
    "title": [text("Grocery List")],
    "parent": {"type": "page_id", "page_id": "98ad959b-2b6a-4774-80ee-00246fb0ea9b"},
    "url": "https://www.notion.so/bc1211cae3f14939ae34260b16f627c",
    "archived": False,
    "is_inline": False,
    "properties": {
        "Name": {"id": "title", "name": "Name", "type": "title", "title": {}},
        "In stock": {"id": "%7B%5C", "name": "In stock", "type": "checkbox", "checkbox": {}},
        "Price": {"id": "cU%5EF", "name": "Price", "type": "number", "number": {"format": "dollar"}},
        "Food group": {"id": "TJmr", "name": "Food group", "type": "select", "select": {"options": []}},
    },
}

# https://developers.notion.com/reference/post-database-query (200 example: a list of pages with their
# property values, https://developers.notion.com/reference/property-value-object).
ROW: dict[str, Any] = {
    "object": "page",
    "id": "2e01e904-febd-43a0-ad02-8eedb903a82c",
    "created_time": "2022-03-01T19:05:00.000Z",
    "last_edited_time": "2022-07-06T20:25:00.000Z",
    "parent": {"type": "database_id", "database_id": DATABASE_ID},
    "archived": False,
    "url": "https://www.notion.so/Tuscan-kale-2e01e904febd43a0ad028eedb903a82c",
    "properties": {
        "Name": {"id": "title", "type": "title", "title": [text("Tuscan kale")]},
        "In stock": {"id": "%7B%5C", "type": "checkbox", "checkbox": True},
        "Price": {"id": "cU%5EF", "type": "number", "number": 2.5},
        "Food group": {
            "id": "TJmr",
            "type": "select",
            "select": {"id": "t|O@", "name": "🥬 Vegetable", "color": "green"},
        },
        "Store availability": {
            "id": "Z%3D%3F",
            "type": "multi_select",
            "multi_select": [
                {"id": "t|O@", "name": "Gus's Community Market", "color": "yellow"},
                {"id": "{Ml\\", "name": "Rainbow Grocery", "color": "gray"},
            ],
        },
        "Last ordered": {"id": "Jsfb", "type": "date", "date": {"start": "2022-02-22", "end": None, "time_zone": None}},
        "Status": {"id": "Ztmt", "type": "status", "status": {"id": "abc", "name": "In progress", "color": "blue"}},
        "Photographer": {
            "id": "ph",
            "type": "people",
            "people": [{"object": "user", "id": USER["id"], "name": "Avocado Lovelace"}],
        },
        "Recipes": {"id": "rc", "type": "relation", "relation": [{"id": PAGE_ID}], "has_more": False},
        "Description": {
            "id": "_Tc_",
            "type": "rich_text",
            "rich_text": [text("A dark "), text("green", bold=True), text(" leafy vegetable")],
        },
        "Cost of next trip": {"id": "WOd%3B", "type": "formula", "formula": {"type": "number", "number": 0}},
        "Last edited": {"id": "le", "type": "last_edited_time", "last_edited_time": "2022-07-06T20:25:00.000Z"},
    },
}

# https://developers.notion.com/reference/status-codes: error bodies.
NOT_FOUND = {
    "object": "error",
    "status": 404,
    "code": "object_not_found",
    "message": f"Could not find page with ID: {PAGE_ID}. Make sure the relevant pages and databases are "
    f"shared with your integration.",
}
RATE_LIMITED = {
    "object": "error",
    "status": 429,
    "code": "rate_limited",
    "message": "You have been rate limited. Please try again in a few minutes.",
}
