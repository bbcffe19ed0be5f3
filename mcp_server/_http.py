"""The one place authmcp imports its HTTP client library (httpx2, the client the MCP SDK and authlib use)."""

from __future__ import annotations

import httpx2

__all__ = ["httpx2"]
