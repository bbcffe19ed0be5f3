"""Between Notion's objects and plain text: blocks to Markdown-like lines, text to blocks, property values to
plain values.

Reference: https://developers.notion.com/reference/block (block types and their `rich_text`),
https://developers.notion.com/reference/rich-text (`plain_text`; a text object holds at most 2,000 characters,
https://developers.notion.com/reference/request-limits), https://developers.notion.com/reference/property-value-object.
"""

from __future__ import annotations

import re
from typing import Any

from toolkits.notion.client import iso

__all__ = ["block_lines", "plain", "properties", "rich_text", "text_to_blocks", "title_of"]

MAX_TEXT_CHARS = 2000  # per rich text object
MAX_RICH_TEXT_ITEMS = 100  # per rich text array

_HEADING = re.compile(r"(#{1,3}) +(.*)")
_TODO = re.compile(r"[-*] \[([ xX])\] +(.*)")
_BULLET = re.compile(r"[-*] +(.*)")
_NUMBERED = re.compile(r"\d+[.)] +(.*)")


def plain(items: Any) -> str:
    """The plain text of a rich text array."""
    return "".join(str(item.get("plain_text") or "") for item in items or [] if isinstance(item, dict))


def rich_text(text: str) -> list[dict[str, Any]]:
    """A rich text array holding `text`, in pieces of at most 2,000 characters."""
    pieces = [text[i : i + MAX_TEXT_CHARS] for i in range(0, len(text), MAX_TEXT_CHARS)] or [""]
    return [{"type": "text", "text": {"content": piece}} for piece in pieces[:MAX_RICH_TEXT_ITEMS]]


def _block(kind: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"object": "block", "type": kind, kind: {"rich_text": rich_text(text), **extra}}


def text_to_blocks(text: str) -> list[dict[str, Any]]:
    """Blocks for `text`, one per line, with a few Markdown forms understood: '#', '##', '###' headings,
    '- ' or '* ' bullets, '1. ' numbered items, '- [ ] ' / '- [x] ' to-dos, '> ' quotes, '---' dividers and
    ``` fenced code. Empty lines separate paragraphs and make no block."""
    blocks: list[dict[str, Any]] = []
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        index += 1
        if stripped.startswith("```"):
            language = stripped[3:].strip() or "plain text"
            code: list[str] = []
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            index += 1  # the closing fence
            blocks.append(_block("code", "\n".join(code), language=language))
        elif not stripped:
            continue
        elif stripped == "---":
            blocks.append({"object": "block", "type": "divider", "divider": {}})
        elif match := _HEADING.fullmatch(stripped):
            blocks.append(_block(f"heading_{len(match.group(1))}", match.group(2)))
        elif match := _TODO.fullmatch(stripped):
            blocks.append(_block("to_do", match.group(2), checked=match.group(1) != " "))
        elif match := _BULLET.fullmatch(stripped):
            blocks.append(_block("bulleted_list_item", match.group(1)))
        elif match := _NUMBERED.fullmatch(stripped):
            blocks.append(_block("numbered_list_item", match.group(1)))
        elif stripped.startswith("> "):
            blocks.append(_block("quote", stripped[2:]))
        else:
            blocks.append(_block("paragraph", line.rstrip()))
    return blocks


_PREFIX = {
    "heading_1": "# ",
    "heading_2": "## ",
    "heading_3": "### ",
    "bulleted_list_item": "- ",
    "numbered_list_item": "1. ",
    "quote": "> ",
    "toggle": "▸ ",
    "paragraph": "",
    "template": "",
}


def block_lines(block: dict[str, Any]) -> list[str]:
    """One block as text lines (without its children)."""
    kind = str(block.get("type") or "")
    raw = block.get(kind)
    content: dict[str, Any] = raw if isinstance(raw, dict) else {}
    text = plain(content.get("rich_text"))
    if kind in _PREFIX:
        return [_PREFIX[kind] + text]
    if kind == "to_do":
        return [f"- [{'x' if content.get('checked') else ' '}] {text}"]
    if kind == "callout":
        icon = (content.get("icon") or {}).get("emoji") or ""
        return [f"> {icon} {text}".replace(">  ", "> ")]
    if kind == "code":
        return [f"```{content.get('language') or ''}", *text.split("\n"), "```"]
    if kind == "divider":
        return ["---"]
    if kind == "equation":
        return [f"$$ {content.get('expression') or ''} $$"]
    if kind in ("child_page", "child_database"):
        label = "Page" if kind == "child_page" else "Database"
        return [f"[{label}: {content.get('title') or 'Untitled'}] (id {block.get('id')})"]
    if kind in ("bookmark", "embed", "link_preview"):
        caption = plain(content.get("caption"))
        return [f"[{kind}: {content.get('url') or ''}]" + (f" {caption}" if caption else "")]
    if kind in ("image", "video", "file", "pdf", "audio"):
        caption = plain(content.get("caption"))
        # Notion-hosted file URLs expire after an hour; only external links are worth giving.
        external = (content.get("external") or {}).get("url") if content.get("type") == "external" else None
        return [f"[{kind}" + (f": {caption}" if caption else "") + (f" {external}" if external else "") + "]"]
    if kind == "table_row":
        return ["| " + " | ".join(plain(cell) for cell in content.get("cells") or []) + " |"]
    if kind in ("table", "column_list", "column", "synced_block", "breadcrumb", "table_of_contents"):
        return []  # containers: their children carry the text
    return [f"[{kind or 'unsupported'} block]"]


def title_of(page: dict[str, Any]) -> str:
    """A page's title (its `title` property) or a database's title."""
    if isinstance(page.get("title"), list):  # a database object
        return plain(page["title"])
    for value in (page.get("properties") or {}).values():
        if isinstance(value, dict) and value.get("type") == "title":
            return plain(value.get("title"))
    return ""


def _value(prop: dict[str, Any]) -> Any:
    kind = prop.get("type")
    value = prop.get(kind) if kind else None
    if kind in ("title", "rich_text"):
        return plain(value)
    if kind in ("select", "status"):
        return value.get("name") if isinstance(value, dict) else None
    if kind == "multi_select":
        return [option.get("name") for option in value or [] if isinstance(option, dict)]
    if kind == "date":
        if not isinstance(value, dict):
            return None
        return (
            {"start": iso(value.get("start")), "end": iso(value.get("end"))}
            if value.get("end")
            else iso(value.get("start"))
        )
    if kind == "people":
        return [person.get("name") or person.get("id") for person in value or [] if isinstance(person, dict)]
    if kind in ("created_by", "last_edited_by"):
        return value.get("name") or value.get("id") if isinstance(value, dict) else None
    if kind == "relation":
        return [item.get("id") for item in value or [] if isinstance(item, dict)]
    if kind == "files":
        return [item.get("name") for item in value or [] if isinstance(item, dict)]
    if kind in ("created_time", "last_edited_time"):
        return iso(value)
    if kind == "formula" and isinstance(value, dict):
        inner = value.get(value.get("type"))
        return _value({"type": "date", "date": inner}) if value.get("type") == "date" else inner
    if kind == "rollup" and isinstance(value, dict):
        inner = value.get(value.get("type"))
        if value.get("type") == "array":
            return [_value(item) for item in inner or [] if isinstance(item, dict)]
        return inner
    if kind == "unique_id" and isinstance(value, dict):
        return f"{value.get('prefix')}-{value.get('number')}" if value.get("prefix") else value.get("number")
    return value  # number, checkbox, url, email, phone_number


def properties(page: dict[str, Any]) -> dict[str, Any]:
    """A page's property values as plain values: text, numbers, names, ISO 8601 dates, ids of related pages."""
    return {name: _value(prop) for name, prop in (page.get("properties") or {}).items() if isinstance(prop, dict)}
