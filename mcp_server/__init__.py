"""authmcp's public API for toolkit authors.

from typing import Annotated
from mcp_server import tool, ToolContext
from mcp_server.auth import Google

@tool(requires_auth=Google(scopes=["https://www.googleapis.com/auth/gmail.readonly"]))
async def list_emails(context: ToolContext, n_emails: Annotated[int, "How many emails"] = 5) -> list[dict]:
    '''List the user's most recent emails.'''
"""

from __future__ import annotations

from mcp_server.errors import (
    RetryableToolError,
    ToolExecutionError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamServerError,
)
from mcp_server.toolkit.hints import ACTS, ADDS, OVERWRITES, READS, SETS, ToolHints
from mcp_server.toolkit.inputs import (
    EmailBcc,
    EmailBody,
    EmailCc,
    EmailDraftId,
    EmailFromFilter,
    EmailMatchCount,
    EmailRecentCount,
    EmailSubject,
    EmailSubjectFilter,
    date_time,
    email_address,
    email_addresses,
    time_zone,
    whole_number,
)
from mcp_server.toolkit.plain_text import html_to_text
from mcp_server.toolkit.provider_api import Page, ProviderAPI, RequestOptions, collect_pages
from mcp_server.toolkit.shaping import iso_datetime, pick
from mcp_server.toolkit.tool import ToolAuthorization, ToolContext, tool
from mcp_server.toolkit.upstream import raise_for_upstream_status, retry_after_seconds

__all__ = [
    "ACTS",
    "ADDS",
    "OVERWRITES",
    "READS",
    "SETS",
    "EmailBcc",
    "EmailBody",
    "EmailCc",
    "EmailDraftId",
    "EmailFromFilter",
    "EmailMatchCount",
    "EmailRecentCount",
    "EmailSubject",
    "EmailSubjectFilter",
    "Page",
    "ProviderAPI",
    "RequestOptions",
    "RetryableToolError",
    "ToolAuthorization",
    "ToolContext",
    "ToolExecutionError",
    "ToolHints",
    "UpstreamAuthError",
    "UpstreamError",
    "UpstreamRateLimitError",
    "UpstreamServerError",
    "collect_pages",
    "date_time",
    "email_address",
    "email_addresses",
    "html_to_text",
    "iso_datetime",
    "pick",
    "raise_for_upstream_status",
    "retry_after_seconds",
    "time_zone",
    "tool",
    "whole_number",
]
