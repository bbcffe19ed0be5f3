"""Known OAuth 2.0 providers (a data file) and the OAuth 2.0 client that talks to them."""

from __future__ import annotations

from mcp_server.providers.registry import Provider, ProviderRegistry, load_catalogue

__all__ = ["Provider", "ProviderRegistry", "load_catalogue"]
