"""A real browser for tests of authmcp's pages: Chromium (Debian's `chromium` package) driven by Playwright.

`playwright install` downloads its own browsers, which CI cannot; the system's Chromium is used instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

__all__ = ["chromium"]

CHROMIUM = os.environ.get("AUTHMCP_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium, closed after the test."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is needed for the page tests: install Debian's chromium (not found at {CHROMIUM}).")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()
