"""Plain text to and from Atlassian Document Format (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/)."""

from __future__ import annotations

from typing import Any

import pytest

from toolkits.jira.adf import adf_to_text, text_to_adf


def text(value: str, **marks: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = [{"type": kind, "attrs": attrs} for kind, attrs in marks.items()]
    return node


def paragraph(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def doc(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


def test_rich_documents_read_as_plain_text() -> None:
    # Node types and attributes as the ADF structure reference defines them.
    document = doc(
        {"type": "heading", "attrs": {"level": 2}, "content": [text("Steps")]},
        paragraph(
            text("See "),
            text("the runbook", link={"href": "https://example.com/run"}),
            {"type": "hardBreak"},
            {"type": "mention", "attrs": {"id": "5b10a2844c20165700ede21g", "text": "@Mia Krystof"}},
            text(" please check "),
            {"type": "emoji", "attrs": {"shortName": ":smile:", "text": "😄"}},
        ),
        {
            "type": "orderedList",
            "attrs": {"order": 3},
            "content": [
                {"type": "listItem", "content": [paragraph(text("open"))]},
                {
                    "type": "listItem",
                    "content": [
                        paragraph(text("close")),
                        {
                            "type": "bulletList",
                            "content": [{"type": "listItem", "content": [paragraph(text("nested"))]}],
                        },
                    ],
                },
            ],
        },
        {"type": "codeBlock", "attrs": {"language": "python"}, "content": [text("print(1)\nprint(2)")]},
        {"type": "blockquote", "content": [paragraph(text("quoted"))]},
        {"type": "rule"},
        {
            "type": "table",
            "content": [
                {
                    "type": "tableRow",
                    "content": [
                        {"type": "tableHeader", "content": [paragraph(text("a"))]},
                        {"type": "tableHeader", "content": [paragraph(text("b"))]},
                    ],
                },
                {
                    "type": "tableRow",
                    "content": [
                        {"type": "tableCell", "content": [paragraph(text("1"))]},
                        {"type": "tableCell", "content": [paragraph(text("2"))]},
                    ],
                },
            ],
        },
        {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "abc", "type": "file"}}]},
        paragraph({"type": "inlineCard", "attrs": {"url": "https://your-domain.atlassian.net/browse/ED-2"}}),
    )
    assert adf_to_text(document) == (
        "Steps\n\n"
        "See the runbook (https://example.com/run)\n@Mia Krystof please check 😄\n\n"
        "3. open\n4. close\n  - nested\n\n"
        "print(1)\nprint(2)\n\n"
        "> quoted\n\n"
        "---\n\n"
        "a | b\n1 | 2\n\n"
        "[attachment]\n\n"
        "https://your-domain.atlassian.net/browse/ED-2"
    )


@pytest.mark.parametrize(
    ("value", "expected"), [(None, ""), ("  plain  ", "plain"), ({"type": "doc", "content": []}, ""), (7, "")]
)
def test_missing_or_plain_values(value: object, expected: str) -> None:
    assert adf_to_text(value) == expected


def test_plain_text_becomes_paragraphs_breaks_and_lists() -> None:
    written = "First line\nsecond line\n\n* one\n* two\n1. a\n2) b\nafter\n\n\n"
    assert text_to_adf(written) == doc(
        paragraph(text("First line"), {"type": "hardBreak"}, text("second line")),
        {
            "type": "bulletList",
            "content": [
                {"type": "listItem", "content": [paragraph(text("one"))]},
                {"type": "listItem", "content": [paragraph(text("two"))]},
            ],
        },
        {
            "type": "orderedList",
            "content": [
                {"type": "listItem", "content": [paragraph(text("a"))]},
                {"type": "listItem", "content": [paragraph(text("b"))]},
            ],
        },
        paragraph(text("after")),
    )


def test_text_round_trips() -> None:
    written = "Order entry fails.\nSteps:\n\n- open the form\n- pick a supplier\n\n1. first\n2. second\n\nThanks"
    assert adf_to_text(text_to_adf(written)) == written


def test_blank_lines_inside_a_paragraph_leave_no_empty_text_nodes() -> None:
    document = text_to_adf("a\n \nb\n\n\n\nc")
    assert all(node.get("text") != "" for block in document["content"] for node in block["content"])
    assert adf_to_text(document) == "a\n\nb\n\nc"
