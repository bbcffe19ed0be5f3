"""Whether each tool can work on this server as configured: is its provider's OAuth app set up?

A tool whose provider has no client id/secret answers every call with "not configured"; people should learn that
from `authmcp tools` and the start-up log, not from the first call. A secret that is not in `[secrets]` is not a
fault: each user is asked for it on a page of ours when a tool first needs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mcp_server.calls.catalog import Catalog, ToolDefinition, unknown_provider
from mcp_server.config import Settings
from mcp_server.providers import ProviderRegistry

__all__ = ["ToolReadiness", "log_unconfigured", "tool_readiness", "unconfigured_providers"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolReadiness:
    ready: bool  # a call can succeed once the user has authorized (or typed their secrets)
    provider_configured: bool | None  # None: the tool needs no provider
    secrets_set: tuple[str, ...]  # server-wide values given in [secrets]
    secrets_asked: tuple[str, ...]  # asked of each user on first use
    reason: str | None = None  # why it is not ready, and what to do

    @property
    def summary(self) -> str:
        if self.provider_configured is False:
            return "no: provider not configured"
        if self.secrets_asked:
            return "yes (asks each user for " + ", ".join(self.secrets_asked) + ")"
        return "yes"


def tool_readiness(definition: ToolDefinition, providers: ProviderRegistry, settings: Settings) -> ToolReadiness:
    configured: bool | None = None
    reason = None
    if definition.requirement is not None:
        provider = providers.get(definition.requirement.id)
        configured = provider is not None and not provider.missing_settings()
        if provider is None:  # loaded only by `authmcp tools`: serving refuses such a toolkit
            reason = f"The {unknown_provider(definition.requirement.id)}."
        elif not configured:
            reason = provider.how_to_configure()
    given = tuple(name for name in definition.secrets if name in settings.secrets)
    asked = tuple(name for name in definition.secrets if name not in settings.secrets)
    return ToolReadiness(configured is not False, configured, given, asked, reason)


def unconfigured_providers(catalog: Catalog, providers: ProviderRegistry) -> dict[str, int]:
    """Provider id -> how many tools need it, for the providers tools need that have no OAuth app set up."""
    missing: dict[str, int] = {}
    for definition in catalog:
        requirement = definition.requirement
        if requirement is None:
            continue
        provider = providers.get(requirement.id)
        if provider is None or provider.missing_settings():
            missing[requirement.id] = missing.get(requirement.id, 0) + 1
    return missing


def log_unconfigured(catalog: Catalog, providers: ProviderRegistry) -> None:
    """One start-up line naming the providers that tools need and that are not configured."""
    missing = unconfigured_providers(catalog, providers)
    if missing:
        named = ", ".join(f"{provider} ({count} tools)" for provider, count in sorted(missing.items()))
        logger.warning(
            'providers not configured, so their tools answer "not configured": %s. Set client_id and '
            "client_secret under [providers.<id>]; `authmcp tools` shows each tool.",
            named,
        )
