"""What a tool does to the world, named once: the combinations of MCP tool annotations tools have.

`@tool(hints=READS)` says the same as `@tool(read_only=True, idempotent=True, open_world=True)`. Every set here
reaches beyond the server (`open_world`); they differ in whether the tool changes anything, may lose something,
and whether calling it again changes anything more.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACTS", "ADDS", "OVERWRITES", "READS", "SETS", "ToolHints"]


@dataclass(frozen=True, kw_only=True)
class ToolHints:
    """MCP tool annotations (`readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`); a hint left
    as None is not sent. The same meanings as `@tool`'s keywords of these names."""

    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


#: Only reads: a listing, a search, a lookup.
READS = ToolHints(read_only=True, idempotent=True, open_world=True)
#: Adds something new, losing nothing; a second call adds a second one (an issue, an event, a draft, a comment).
ADDS = ToolHints(read_only=False, destructive=False, idempotent=False, open_world=True)
#: Adds or sets something, losing nothing; a second call changes nothing more (a star, a reviewer, a label).
SETS = ToolHints(read_only=False, destructive=False, idempotent=True, open_world=True)
#: Overwrites or removes something; a second call changes nothing more (an update, a deletion, a move).
OVERWRITES = ToolHints(read_only=False, destructive=True, idempotent=True, open_world=True)
#: Acts for the user in a way that cannot be taken back, again on every call (an email sent, a message posted).
ACTS = ToolHints(read_only=False, destructive=True, idempotent=False, open_world=True)
