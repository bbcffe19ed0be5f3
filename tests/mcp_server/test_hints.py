"""`@tool(hints=...)`: the named sets of MCP tool annotations say what their four keywords say."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mcp_server import ACTS, ADDS, OVERWRITES, READS, SETS, ToolHints, tool
from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry

KEYWORDS = {
    "READS": "read_only=True, idempotent=True, open_world=True",
    "ADDS": "read_only=False, destructive=False, idempotent=False, open_world=True",
    "SETS": "read_only=False, destructive=False, idempotent=True, open_world=True",
    "OVERWRITES": "read_only=False, destructive=True, idempotent=True, open_world=True",
    "ACTS": "read_only=False, destructive=True, idempotent=False, open_world=True",
}


def served_hints(tmp_path: Path, arguments: str) -> dict[str, bool]:
    path = tmp_path / "hinted.py"
    path.write_text(
        "from mcp_server import tool, ToolHints, ACTS, ADDS, OVERWRITES, READS, SETS\n"
        + textwrap.dedent(
            f'''
            @tool({arguments})
            def act() -> str:
                """Do something."""
                return ""
            '''
        )
    )
    (definition,) = list(load_catalog([str(path)], ProviderRegistry({})))
    return dict(definition.hints)


@pytest.mark.parametrize("name", sorted(KEYWORDS))
def test_a_named_set_is_served_as_its_four_keywords(tmp_path: Path, name: str) -> None:
    by_name = served_hints(tmp_path, f"hints={name}")
    assert by_name == served_hints(tmp_path, KEYWORDS[name])
    assert by_name["openWorldHint"] is True and len(by_name) == KEYWORDS[name].count("=")


def test_the_sets_differ_in_what_the_tool_does() -> None:
    assert READS.read_only and READS.destructive is None
    assert not ADDS.destructive and not ADDS.idempotent
    assert not SETS.destructive and SETS.idempotent
    assert OVERWRITES.destructive and OVERWRITES.idempotent
    assert ACTS.destructive and not ACTS.idempotent
    assert len({READS, ADDS, SETS, OVERWRITES, ACTS}) == 5
    assert ToolHints(read_only=True, idempotent=True, open_world=True) == READS


def test_hints_of_its_own_send_only_what_they_set(tmp_path: Path) -> None:
    assert served_hints(tmp_path, "hints=ToolHints(read_only=True)") == {"readOnlyHint": True}


def test_hints_and_a_hint_keyword_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        tool(hints=READS, destructive=False)
