"""Gmail and Outlook declare their list, search and draft parameters with the shared email types: the same name
reads the same in both toolkits' input schemas, and says what the shared type says."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from mcp_server import EmailDraftId, EmailFromFilter, EmailMatchCount, EmailRecentCount, EmailSubjectFilter
from mcp_server.calls.catalog import Catalog, bundled_toolkits, load_catalog
from mcp_server.providers import ProviderRegistry

SHARED = [
    ("ListEmails", "n_emails", EmailRecentCount),
    ("SearchEmails", "sender", EmailFromFilter),
    ("SearchEmails", "subject", EmailSubjectFilter),
    ("SearchEmails", "max_results", EmailMatchCount),
    ("SendDraftEmail", "draft_id", EmailDraftId),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(bundled_toolkits(), ProviderRegistry({}))


def parameter(catalog: Catalog, tool: str, name: str) -> dict[str, Any]:
    definition = catalog.get(tool)
    assert definition is not None, tool
    return dict(definition.input_schema["properties"][name])


@pytest.mark.parametrize(("tool", "name", "shared"), SHARED)
def test_gmail_and_outlook_describe_the_parameter_with_the_shared_type(
    catalog: Catalog, tool: str, name: str, shared: Any
) -> None:
    gmail = parameter(catalog, f"Gmail_{tool}", name)
    outlook = parameter(catalog, f"Microsoft_{tool}", name)
    assert gmail["description"] == outlook["description"] == get_args(shared)[1]
    assert gmail.get("type") == outlook.get("type")
    assert gmail.get("anyOf") == outlook.get("anyOf")
