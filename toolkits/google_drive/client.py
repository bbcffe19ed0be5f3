"""HTTP helpers for the Google Drive API v3: authorized requests, pagination, and the shaping of file metadata.

Reference: https://developers.google.com/drive/api/reference/rest/v3 (files.get, files.list, files.export).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mcp_server import ToolContext, ToolExecutionError, raise_for_upstream_status

__all__ = [
    "DEFAULT_API_BASE_URL",
    "FILE_FIELDS",
    "FOLDER_MIME_TYPE",
    "get_json",
    "get_text",
    "list_files",
    "quote_query_value",
    "shape_file",
]

DEFAULT_API_BASE_URL = "https://www.googleapis.com/drive/v3"
FOLDER_MIME_TYPE = "application/vnd.google-apps.folder"
# The file fields every tool asks for (partial response: https://developers.google.com/drive/api/guides/fields-parameter)
FILE_FIELDS = "id,name,mimeType,modifiedTime,owners(displayName,emailAddress),webViewLink,size"
# files.list accepts pageSize 1..1000; smaller pages keep each answer quick.
MAX_PAGE_SIZE = 100


def _base_url(context: ToolContext) -> str:
    return (context.get_setting("api_base_url", DEFAULT_API_BASE_URL) or DEFAULT_API_BASE_URL).rstrip("/")


def _headers(context: ToolContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {context.get_auth_token_or_empty()}"}


def _http(context: ToolContext) -> Any:
    if context.http is None:
        raise ToolExecutionError("No HTTP client is available to reach Google Drive.")
    return context.http


async def get_json(context: ToolContext, path: str, params: dict[str, Any], *, what: str) -> dict[str, Any]:
    """GET `path` (relative to the API base URL) and return its JSON object; errors via raise_for_upstream_status."""
    response = await _http(context).get(f"{_base_url(context)}{path}", params=params, headers=_headers(context))
    raise_for_upstream_status(response, what=what)
    body = response.json()
    if not isinstance(body, dict):
        raise ToolExecutionError(f"Google Drive answered {what} with an unexpected response.")
    return body


async def get_text(
    context: ToolContext, path: str, params: dict[str, Any], *, what: str, max_bytes: int
) -> tuple[str, bool]:
    """GET a file's bytes (alt=media or export) reading at most `max_bytes`; return (text, truncated)."""
    client = _http(context)
    async with client.stream("GET", f"{_base_url(context)}{path}", params=params, headers=_headers(context)) as response:
        raise_for_upstream_status(response, what=what)
        chunks: list[bytes] = []
        size = 0
        truncated = False
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                truncated = True
                break
    data = b"".join(chunks)[:max_bytes]
    # A cut may split a multi-byte character at the end: drop the partial character rather than show garbage.
    return data.decode("utf-8", errors="ignore" if truncated else "replace"), truncated


async def list_files(
    context: ToolContext,
    *,
    q: str,
    limit: int,
    what: str,
    fields: str = FILE_FIELDS,
    order_by: str | None = None,
    max_pages: int = 20,
) -> tuple[list[dict[str, Any]], bool]:
    """files.list following nextPageToken until `limit` files or `max_pages` pages; return (raw files, has_more)."""
    files: list[dict[str, Any]] = []
    page_token: str | None = None
    for _ in range(max_pages):
        params: dict[str, Any] = {
            "q": q,
            "pageSize": min(MAX_PAGE_SIZE, limit - len(files)),
            "fields": f"nextPageToken,files({fields})",
            "spaces": "drive",
        }
        if order_by:
            params["orderBy"] = order_by
        if page_token:
            params["pageToken"] = page_token
        body = await get_json(context, "/files", params, what=what)
        files.extend(f for f in body.get("files") or [] if isinstance(f, dict))
        page_token = body.get("nextPageToken") or None
        if page_token is None:
            return files[:limit], False
        if len(files) >= limit:
            return files[:limit], True
    return files[:limit], True


def quote_query_value(value: str) -> str:
    """A string literal for a Drive query: single-quoted, with backslashes and single quotes escaped.

    https://developers.google.com/drive/api/guides/ref-search-terms ("Escape single quotes in queries with \\'").
    """
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def iso_time(value: Any) -> str | None:
    """An RFC 3339 time from Drive ("2024-05-01T10:00:00.000Z") as ISO 8601 with an explicit offset."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return value


def _size(value: Any) -> int | None:
    # int64 fields are JSON strings in Google APIs; Google Docs/Sheets/Slides and folders have no size.
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def shape_file(raw: dict[str, Any]) -> dict[str, Any]:
    """The compact view of a Drive file resource that the tools return."""
    owners = [
        {"name": o.get("displayName"), "email": o.get("emailAddress")}
        for o in raw.get("owners") or []
        if isinstance(o, dict)
    ]
    return {
        "id": raw.get("id"),
        "name": raw.get("name"),
        "mime_type": raw.get("mimeType"),
        "modified_time": iso_time(raw.get("modifiedTime")),
        "owners": owners,
        "web_view_link": raw.get("webViewLink"),
        "size": _size(raw.get("size")),
    }
