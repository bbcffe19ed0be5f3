"""Atlassian Document Format (ADF), the JSON tree Jira Cloud REST v3 uses for descriptions and comments, to
and from the plain text a model reads and writes.

Reference: https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
"""

from __future__ import annotations

import re
from typing import Any

_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


# ---- plain text -> ADF ------------------------------------------------------------------------------------


def _inline(lines: list[str]) -> list[dict[str, Any]]:
    """Text nodes for the lines of one paragraph, joined by hard breaks (ADF text nodes may not be empty)."""
    nodes: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        if index:
            nodes.append({"type": "hardBreak"})
        if line:
            nodes.append({"type": "text", "text": line})
    return nodes


def _list(kind: str, items: list[str]) -> dict[str, Any]:
    return {
        "type": kind,
        "content": [{"type": "listItem", "content": [{"type": "paragraph", "content": _inline([i])}]} for i in items],
    }


def text_to_adf(text: str) -> dict[str, Any]:
    """An ADF document from plain text: blank lines separate paragraphs, single newlines are hard breaks, and
    runs of '- ' / '* ' or '1. ' lines become bullet or numbered lists."""
    content: list[dict[str, Any]] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = [line.rstrip() for line in block.split("\n")]
        paragraph: list[str] = []
        kind, items = "", list[str]()  # the list being collected, if any

        # bound now: each block's own lists (the functions run only while it is read)
        def flush_paragraph(paragraph: list[str] = paragraph) -> None:
            if paragraph:
                content.append({"type": "paragraph", "content": _inline(paragraph)})
                paragraph.clear()

        def flush_list(items: list[str] = items) -> None:
            nonlocal kind
            if items:
                content.append(_list(kind, items))
                items.clear()
            kind = ""

        for line in lines:
            bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
            found = ("bulletList", bullet) if bullet else ("orderedList", numbered) if numbered else ("", None)
            if found[1] is not None:
                flush_paragraph()
                if kind and kind != found[0]:
                    flush_list()
                kind = found[0]
                items.append(found[1].group(1).strip())
            else:
                flush_list()
                paragraph.append(line)
        flush_paragraph()
        flush_list()
    return {"type": "doc", "version": 1, "content": [c for c in content if c.get("content")]}


# ---- ADF -> plain text ------------------------------------------------------------------------------------

_BLOCKS = {
    "paragraph",
    "heading",
    "codeBlock",
    "blockquote",
    "panel",
    "mediaSingle",
    "mediaGroup",
    "rule",
    "bulletList",
    "orderedList",
    "table",
    "expand",
    "nestedExpand",
    "decisionList",
    "taskList",
}


def _inline_text(node: dict[str, Any]) -> str:
    kind = node.get("type")
    raw = node.get("attrs")
    attrs: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if kind == "text":
        text = str(node.get("text") or "")
        link = next(
            (
                m.get("attrs", {}).get("href")
                for m in node.get("marks") or []
                if isinstance(m, dict) and m.get("type") == "link"
            ),
            None,
        )
        return f"{text} ({link})" if link and link != text else text
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        return str(attrs.get("text") or "@someone")
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in {"inlineCard", "blockCard", "embedCard"}:
        return str(attrs.get("url") or "")
    if kind == "date":
        return str(attrs.get("timestamp") or "")
    if kind == "status":
        return f"[{attrs.get('text', '')}]"
    if kind == "media":
        return "[attachment]"
    return "".join(_inline_text(c) for c in node.get("content") or [] if isinstance(c, dict))


def _blocks(nodes: list[Any], prefix: str = "") -> list[str]:
    """The text of each block node, lists and quotes prefixed, one string per block."""
    out: list[str] = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        kind, children = node.get("type"), [c for c in node.get("content") or [] if isinstance(c, dict)]
        if kind in {"bulletList", "orderedList", "taskList", "decisionList"}:
            start = int((node.get("attrs") or {}).get("order", 1) or 1) if kind == "orderedList" else 1
            items = []
            for index, item in enumerate(children):
                marker = f"{start + index}. " if kind == "orderedList" else "- "
                inner = _blocks(item.get("content") or [], prefix + "  ") or [_inline_text(item)]
                items.append("\n".join([prefix + marker + inner[0].lstrip(), *inner[1:]]))
            out.append("\n".join(items))
        elif kind == "blockquote":
            out.extend("\n".join("> " + line for line in block.split("\n")) for block in _blocks(children, prefix))
        elif kind == "rule":
            out.append(prefix + "---")
        elif kind == "table":
            rows = [
                " | ".join(
                    " ".join(_blocks(cell.get("content") or []))
                    for cell in row.get("content") or []
                    if isinstance(cell, dict)
                )
                for row in children
            ]
            out.append("\n".join(prefix + row for row in rows))
        elif kind in {"panel", "expand", "nestedExpand", "layoutSection", "layoutColumn", "doc"}:
            out.extend(_blocks(children, prefix))
        elif kind in _BLOCKS or kind == "listItem":
            text = _inline_text(node)
            if text.strip():
                out.append("\n".join(prefix + line for line in text.split("\n")))
        else:
            text = _inline_text(node)
            if text.strip():
                out.append(prefix + text)
    return out


def adf_to_text(document: object) -> str:
    """Plain text from an ADF document (or the string Jira sends for a plain-text field)."""
    if isinstance(document, str):
        return document.strip()
    if not isinstance(document, dict):
        return ""
    return "\n\n".join(_blocks([document])).strip()
