"""Plain text from the HTML that services send as message bodies (Gmail, Outlook, Teams), for a model to read.

Shared by every toolkit so the same body reads the same whichever service it came from.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]


class _TextFromHTML(HTMLParser):
    _LINES = frozenset({"li", "tr", "div", "dt", "dd"})
    _PARAGRAPHS = frozenset(
        {
            "p",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "table",
            "ul",
            "ol",
            "blockquote",
            "hr",
            "section",
            "article",
            "header",
            "footer",
            "pre",
        }
    )
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def _break(self, newlines: int) -> None:
        """End the current line (1) or paragraph (2), without piling up blank lines."""
        text = "".join(self.parts[-3:])
        have = len(text) - len(text.rstrip("\n")) if text.strip(" \t") else newlines
        if have < newlines:
            self.parts.append("\n" * (newlines - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self._PARAGRAPHS:
            self._break(2)
        elif tag in self._LINES:
            self._break(1)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._PARAGRAPHS:
            self._break(2)
        elif tag in self._LINES:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text of `html`: tags dropped, block elements as line and paragraph breaks, whitespace folded."""
    parser = _TextFromHTML()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
