"""A real browser for the tests: Playwright for Python driving Debian's Chromium (`apt-get install chromium`).

Playwright's own browser download is never used: the system Chromium is launched with `executable_path`
(`AUTHMCP_TEST_CHROMIUM` overrides the path). Loaded by `tests/conftest.py` as a pytest plugin:

- `chromium`: one browser for the test; each person in a test gets `await chromium.new_context()`, a browser
  profile of its own (its own cookies), as two people on two machines would.
- `screenshots`: `await screenshots.take(page, "name")` saves a full-page PNG under the test's tmp dir
  (`<tmp>/screenshots/<name>.png`) and returns its path.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

__all__ = ["CHROMIUM", "Screenshots", "chromium", "page_text", "screenshots"]

CHROMIUM = Path(os.environ.get("AUTHMCP_TEST_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`); .ci/run does")
    # Chromium's sandbox needs an unprivileged user; CI runs as root
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Screenshots:
    folder: Path
    taken: list[Path] = field(default_factory=list)

    async def take(self, page: Page, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{re.sub(r'[^A-Za-z0-9_-]+', '-', name)}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def screenshots(tmp_path: Path) -> Screenshots:
    """Where a test's screenshots go: its tmp dir, or `$SCREENSHOTS_DIR` (docs/screenshots/ is made so)."""
    folder = os.environ.get("SCREENSHOTS_DIR")
    return Screenshots(Path(folder) if folder else tmp_path / "screenshots")


async def page_text(page: Page) -> str:
    """What the person reads: the title, then the visible text of the body, whitespace collapsed."""
    body = await page.inner_text("body")
    return " ".join(f"{await page.title()} {body}".split())
