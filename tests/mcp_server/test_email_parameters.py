"""The shared email parameters (`EmailSubject`, `EmailBody`, `EmailCc`, `EmailBcc`) as a tool's input schema."""

from __future__ import annotations

from pathlib import Path

from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry

TOOLKIT = '''
from mcp_server import EmailBcc, EmailBody, EmailCc, EmailSubject, tool

@tool
def send(subject: EmailSubject, body: EmailBody, cc: EmailCc = None, bcc: EmailBcc = None) -> str:
    """Send an email."""
    return subject
'''


def test_the_parameters_carry_their_descriptions_and_cc_and_bcc_are_optional(tmp_path: Path) -> None:
    path = tmp_path / "mailer.py"
    path.write_text(TOOLKIT)
    (definition,) = list(load_catalog([str(path)], ProviderRegistry({})))
    properties = definition.input_schema["properties"]
    assert properties["subject"]["description"] == "The subject line."
    assert properties["body"]["description"] == "The plain-text body."
    assert properties["cc"]["description"] == "Addresses to copy." and properties["cc"]["default"] is None
    assert properties["bcc"]["description"] == "Addresses to blind-copy."
    assert definition.input_schema["required"] == ["subject", "body"]
    arguments = definition.validate_arguments({"subject": "Hi", "body": "Text", "cc": ["ana@example.com"]})
    assert arguments == {"subject": "Hi", "body": "Text", "cc": ["ana@example.com"], "bcc": None}
