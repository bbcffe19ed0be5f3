"""The Google Drive API v3 on the toolkit HTTP layer (its calling convention, file listings), and the shaping of
file metadata.

Reference: https://developers.google.com/drive/api/reference/rest/v3 (files, permissions). Every call names
`supportsAllDrives=true` and every listing `corpora=allDrives` with `includeItemsFromAllDrives=true`: without
them Drive leaves shared-drive files out of searches and answers a shared-drive folder as empty.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mcp_server import Page, ProviderAPI, ToolContext, ToolExecutionError, collect_pages, iso_datetime

__all__ = [
    "ALL_DRIVES",
    "DEFAULT_API_BASE_URL",
    "FILE_FIELDS",
    "FOLDER_MIME_TYPE",
    "DriveAPI",
    "check_file_id",
    "check_limit",
    "get_bytes",
    "get_json",
    "list_files",
    "quote_query_value",
    "request_json",
    "shape_file",
    "update_file",
    "upload_url",
]

DEFAULT_API_BASE_URL = "https://www.googleapis.com/drive/v3"
FOLDER_MIME_TYPE = "application/vnd.google-apps.folder"
# The file fields every tool asks for (partial response: https://developers.google.com/drive/api/guides/fields-parameter)
FILE_FIELDS = "id,name,mimeType,modifiedTime,owners(displayName,emailAddress),webViewLink,size"
# files.list accepts pageSize 1..1000; smaller pages keep each answer quick.
MAX_PAGE_SIZE = 100
MAX_LIMIT = 100
MAX_NAME_LENGTH = 255
# Sent on every request: the app handles shared drives (files.get/update/create, permissions.*).
SUPPORTS_ALL_DRIVES = {"supportsAllDrives": "true"}
# Sent on every files.list: search My Drive, shared-with-me and every shared drive the user can reach.
ALL_DRIVES = {**SUPPORTS_ALL_DRIVES, "includeItemsFromAllDrives": "true", "corpora": "allDrives"}

_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
_ID_IN_URL = re.compile(r"(?:/d/|/folders/|[?&]id=)([A-Za-z0-9_-]+)")


class DriveAPI(ProviderAPI):
    """The Google Drive API v3 for one tool call."""

    name = "Google Drive"
    default_base_url = DEFAULT_API_BASE_URL


def upload_url(context: ToolContext) -> str:
    """The media upload endpoint: Drive's discovery document puts it at `/upload` + the API path
    (https://www.googleapis.com/upload/drive/v3/files)."""
    parts = urlsplit(DriveAPI(context).base_url)
    return urlunsplit(parts._replace(path=f"/upload{parts.path}")) + "/files"


async def request_json(
    context: ToolContext,
    method: str,
    path: str,
    params: dict[str, Any],
    *,
    what: str,
    json: dict[str, Any] | None = None,
    url: str | None = None,
    content: bytes | None = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    """Send `method path` (relative to the API base URL, or to `url`); the JSON object answered ({} when empty)."""
    headers = {"Content-Type": content_type} if content_type else {}
    return await DriveAPI(context).request(
        method, url or path, what=what, params=params, json=json, content=content, headers=headers
    )


async def update_file(
    context: ToolContext,
    fid: str,
    change: dict[str, Any],
    *,
    fields: str = FILE_FIELDS,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`files.update` without content: PATCH the metadata of the Drive file `fid` with `change` (and the query
    `params`, e.g. `addParents`), and return the file's `fields` as Drive answers them."""
    query = {**(params or {}), "fields": fields, **SUPPORTS_ALL_DRIVES}
    return await request_json(context, "PATCH", f"/files/{fid}", query, what=f"the Drive file {fid}", json=change)


async def get_json(context: ToolContext, path: str, params: dict[str, Any], *, what: str) -> dict[str, Any]:
    """GET `path` (relative to the API base URL) and return its JSON object."""
    return await DriveAPI(context).get_json(path, what=what, params=params)


async def get_bytes(
    context: ToolContext, path: str, params: dict[str, Any], *, what: str, max_bytes: int
) -> tuple[bytes, bool]:
    """GET a file's bytes (alt=media or export) reading at most `max_bytes`; return (data, truncated)."""
    return await DriveAPI(context).read_bytes(path, what=what, max_bytes=max_bytes, params=params)


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
    """files.list over every drive, following nextPageToken until `limit` files or `max_pages` pages.

    Returns (raw files, has_more); has_more is also true when Drive says the search was incomplete (it could
    not search every shared drive).
    """
    api = DriveAPI(context)
    incomplete = False

    async def fetch(page_token: str | None, wanted: int) -> Page:
        nonlocal incomplete
        params: dict[str, Any] = {
            "q": q,
            "pageSize": min(MAX_PAGE_SIZE, wanted),
            "fields": f"nextPageToken,incompleteSearch,files({fields})",
            "spaces": "drive",
            **ALL_DRIVES,
            "orderBy": order_by,
            "pageToken": page_token,
        }
        body = await api.get_json("/files", what=what, params=params)
        incomplete = incomplete or body.get("incompleteSearch") is True
        return Page([f for f in body.get("files") or [] if isinstance(f, dict)], next=body.get("nextPageToken") or None)

    files, more = await collect_pages(fetch, limit=limit, max_pages=max_pages)
    return files, more or incomplete


def check_limit(limit: int, maximum: int = MAX_LIMIT) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise ToolExecutionError(f"limit must be a whole number from 1 to {maximum}; got {limit!r}.")


def check_file_id(value: str, *, what: str = "file_id") -> str:
    """A Drive file id from an id or a Drive/Docs URL; a ToolExecutionError saying what is expected otherwise."""
    text = (value or "").strip() if isinstance(value, str) else ""
    if "/" in text or "?" in text:
        match = _ID_IN_URL.search(text)
        text = match.group(1) if match else text
    if not _FILE_ID.fullmatch(text):
        raise ToolExecutionError(
            f"{what} {value!r} is not a Google Drive file id: give the id returned by SearchFiles or "
            f"ListRecentFiles (letters, digits, '-' and '_', e.g. 1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms)"
            + (", or 'root' for My Drive." if what in ("folder_id", "parent_id") else ".")
        )
    return text


def quote_query_value(value: str) -> str:
    """A string literal for a Drive query: single-quoted, with backslashes and single quotes escaped.

    https://developers.google.com/drive/api/guides/ref-search-terms ("Escape single quotes in queries with \\'").
    """
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


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
        "modified_time": iso_datetime(raw.get("modifiedTime")),
        "owners": owners,
        "web_view_link": raw.get("webViewLink"),
        "size": _size(raw.get("size")),
    }


def check_name(value: str, *, what: str = "name") -> str:
    """A file or folder name: not blank, at most 255 characters (longer names are refused rather than cut)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ToolExecutionError(f"{what} is empty; give a name, e.g. 'Meeting notes'.")
    if len(text) > MAX_NAME_LENGTH:
        raise ToolExecutionError(f"{what} is {len(text)} characters long; keep it to {MAX_NAME_LENGTH} at most.")
    return text
