"""A toolkit with one slow call whose progress a test from another process can see and steer through files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio

from mcp_server import tool

TOOLKIT_NAME = "Slow"


@tool
async def hold(folder: Annotated[str, "Where the call writes 'started' and waits for 'release'"]) -> str:
    """Write `started` in the folder, then wait until a `release` file appears there; answer "finished"."""
    place = Path(folder)
    (place / "started").write_text("started")
    while not (place / "release").exists():  # the test creates it when it has seen what it waits for
        await anyio.sleep(0.05)
    return "finished"
