"""The GoogleDrive reading tools: search, recent files, file content as text, and a folder tree."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import READS, ToolContext, ToolExecutionError, tool
from mcp_server.auth import Google
from toolkits.google_drive.client import (
    FILE_FIELDS,
    FOLDER_MIME_TYPE,
    SUPPORTS_ALL_DRIVES,
    check_file_id,
    check_limit,
    get_bytes,
    get_json,
    list_files,
    quote_query_value,
    shape_file,
)

__all__ = ["get_file_content", "get_file_tree_structure", "list_recent_files", "search_files"]

READONLY_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
METADATA_READONLY_SCOPE = "https://www.googleapis.com/auth/drive.metadata.readonly"

MAX_QUERY_LENGTH = 500
MAX_DEPTH = 5
MAX_TREE_NODES = 300
MAX_CONTENT_CHARS = 50_000
# Read a little more than the characters shown, so that multi-byte text still fills the budget.
MAX_CONTENT_BYTES = MAX_CONTENT_CHARS * 4

# Google Workspace types that files.export turns into text (https://developers.google.com/drive/api/guides/ref-export-formats).
EXPORT_AS = {
    "application/vnd.google-apps.document": "text/plain",
    "application/vnd.google-apps.spreadsheet": "text/csv",
    "application/vnd.google-apps.presentation": "text/plain",
    "application/vnd.google-apps.script": "application/vnd.google-apps.script+json",
}
TEXT_LIKE_TYPES = {
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "application/x-yaml",
    "application/yaml",
    "application/toml",
    "application/x-sh",
    "application/x-python",
    "application/sql",
    "application/csv",
    "application/x-httpd-php",
    "application/rtf",
}


#: Parameters several of these tools take alike.
FileLimit = Annotated[int, "How many files to return at most, 1 to 100."]


def _is_text_like(mime_type: str) -> bool:
    return mime_type.startswith("text/") or mime_type in TEXT_LIKE_TYPES or mime_type.endswith(("+json", "+xml"))


@tool(requires_auth=Google(scopes=[METADATA_READONLY_SCOPE]), title="Search Drive files", hints=READS)
async def search_files(
    context: ToolContext,
    query: Annotated[str, "Words to look for in file names and contents, e.g. 'quarterly budget'."],
    limit: FileLimit = 10,
) -> dict[str, Any]:
    """Search the user's Google Drive (names, descriptions and file contents) for files matching some words.

    Use this to find a document, spreadsheet, presentation, PDF or folder when you know something about its
    name or content. The words are searched as full text across My Drive, files shared with the user and
    every shared drive they belong to (not trashed files; most relevant first). Pass a
    returned `id` to GetFileContent to read a file, or to GetFileTreeStructure to browse a folder.

    Returns {"query", "files": [{id, name, mime_type, modified_time (ISO 8601), owners [{name, email}],
    web_view_link, size (bytes, null for Google Docs/Sheets/Slides)}], "count", "has_more"}.
    """
    words = query.strip() if isinstance(query, str) else ""
    if not words:
        raise ToolExecutionError("query is empty: give one or more words to search for, e.g. 'budget 2024'.")
    if len(words) > MAX_QUERY_LENGTH:
        raise ToolExecutionError(f"query is {len(words)} characters long; keep it under {MAX_QUERY_LENGTH}.")
    check_limit(limit)
    # Drive does not sort fullText searches (results come by relevance), so no orderBy here.
    q = f"fullText contains {quote_query_value(words)} and trashed = false"
    raw, has_more = await list_files(context, q=q, limit=limit, what="the Drive search")
    files = [shape_file(f) for f in raw]
    return {"query": words, "files": files, "count": len(files), "has_more": has_more}


@tool(requires_auth=Google(scopes=[METADATA_READONLY_SCOPE]), title="List recent Drive files", hints=READS)
async def list_recent_files(
    context: ToolContext,
    limit: FileLimit = 10,
) -> dict[str, Any]:
    """List the files in the user's Google Drive that were modified most recently, newest first.

    Use this when the user refers to something they worked on lately ("the doc I edited this morning") or to
    get an overview of recent activity. Shared-drive files are included; trashed files are left out. Pass a returned
    `id` to GetFileContent.

    Returns {"files": [{id, name, mime_type, modified_time (ISO 8601), owners [{name, email}], web_view_link,
    size}], "count", "has_more"}.
    """
    check_limit(limit)
    raw, has_more = await list_files(
        context, q="trashed = false", order_by="modifiedTime desc", limit=limit, what="the recent Drive files"
    )
    files = [shape_file(f) for f in raw]
    return {"files": files, "count": len(files), "has_more": has_more}


@tool(requires_auth=Google(scopes=[READONLY_SCOPE]), title="Read a Drive file as text", hints=READS)
async def get_file_content(
    context: ToolContext,
    file_id: Annotated[str, "The Drive file id (from SearchFiles or ListRecentFiles) or the file's Drive/Docs URL."],
) -> dict[str, Any]:
    """Read a Google Drive file as plain text.

    Google Docs and Slides are exported as plain text, Google Sheets as CSV (first sheet), and text-like files
    (txt, csv, markdown, json, code...) are read as they are. Binary files (PDF, images, Office files, ...) and
    folders are described, not dumped. Long content is cut at 50,000 characters with a note.

    Returns {"file": {id, name, mime_type, modified_time, owners, web_view_link, size}, "content" (text or
    null), "content_format" (the MIME type of the text, or null), "truncated" (bool), "note" (why content is
    missing or cut, else null)}.
    """
    fid = check_file_id(file_id)
    what = f"the Drive file {fid}"
    meta = await get_json(context, f"/files/{fid}", {"fields": FILE_FIELDS, **SUPPORTS_ALL_DRIVES}, what=what)
    file = shape_file(meta)
    mime_type = str(meta.get("mimeType") or "")
    result: dict[str, Any] = {"file": file, "content": None, "content_format": None, "truncated": False, "note": None}

    if mime_type in EXPORT_AS:
        export_type = EXPORT_AS[mime_type]
        data, cut = await get_bytes(
            context, f"/files/{fid}/export", {"mimeType": export_type}, what=what, max_bytes=MAX_CONTENT_BYTES
        )
        result["content_format"] = export_type
    elif mime_type == FOLDER_MIME_TYPE:
        result["note"] = "This is a folder; use GetFileTreeStructure with this id to see what it contains."
        return result
    elif _is_text_like(mime_type):
        data, cut = await get_bytes(
            context,
            f"/files/{fid}",
            {"alt": "media", **SUPPORTS_ALL_DRIVES},
            what=what,
            max_bytes=MAX_CONTENT_BYTES,
        )
        result["content_format"] = mime_type
    else:
        size = file["size"]
        described = f"{size} bytes" if size is not None else "size unknown"
        result["note"] = (
            f"Binary file ({mime_type or 'unknown type'}, {described}); its content is not shown as text. "
            f"Open it at web_view_link."
        )
        return result

    # A cut may split a multi-byte character at the end: drop the partial character rather than show garbage.
    text = data.decode("utf-8", errors="ignore" if cut else "replace")
    if len(text) > MAX_CONTENT_CHARS:
        text, cut = text[:MAX_CONTENT_CHARS], True
    result["content"] = text
    if cut:
        result["truncated"] = True
        result["note"] = f"Content truncated to the first {len(text)} characters; open web_view_link for the rest."
    return result


@tool(requires_auth=Google(scopes=[METADATA_READONLY_SCOPE]), title="Show a Drive folder tree", hints=READS)
async def get_file_tree_structure(
    context: ToolContext,
    folder_id: Annotated[
        str, "The id of the folder to start from; 'root' (the default) is the user's My Drive."
    ] = "root",
    depth: Annotated[int, "How many folder levels to descend, 1 to 5 (1 lists only the folder's own items)."] = 2,
) -> dict[str, Any]:
    """Show the folders and files inside a Google Drive folder as a tree, a bounded number of levels deep.

    Use this to browse the user's Drive structure (My Drive or a shared-drive folder) or see what a folder
    holds before reading files. Trashed
    items are left out; at most 300 items are listed in total.

    Returns {"tree": {id, name, mime_type, children: [...]}, "item_count", "truncated"}: every node has
    id, name and mime_type; folders have `children` (a list; null when deeper than `depth` and not listed).
    """
    fid = check_file_id(folder_id, what="folder_id")
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ToolExecutionError(f"depth must be a whole number from 1 to {MAX_DEPTH}; got {depth!r}.")

    meta = await get_json(
        context,
        f"/files/{fid}",
        {"fields": "id,name,mimeType", **SUPPORTS_ALL_DRIVES},
        what=f"the Drive folder {fid}",
    )
    if meta.get("mimeType") != FOLDER_MIME_TYPE:
        raise ToolExecutionError(
            f"{fid} is not a folder (it is {meta.get('mimeType')!r}); give a folder id, or use GetFileContent "
            f"to read this file."
        )
    root = _node(meta)
    count = 0
    truncated = False
    level = [root]
    for _ in range(depth):
        next_level: list[dict[str, Any]] = []
        for folder in level:
            remaining = MAX_TREE_NODES - count
            if remaining <= 0:
                truncated = True
                break
            raw, more = await list_files(
                context,
                q=f"{quote_query_value(folder['id'])} in parents and trashed = false",
                limit=remaining,
                fields="id,name,mimeType",
                order_by="folder,name",
                what=f"the Drive folder {folder['id']}",
            )
            truncated = truncated or more
            folder["children"] = [_node(item) for item in raw]
            count += len(raw)
            next_level.extend(c for c in folder["children"] if c["mime_type"] == FOLDER_MIME_TYPE)
        level = next_level
        if not level or truncated:
            break
    return {"tree": root, "item_count": count, "truncated": truncated}


def _node(raw: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"id": raw.get("id"), "name": raw.get("name"), "mime_type": raw.get("mimeType")}
    if raw.get("mimeType") == FOLDER_MIME_TYPE:
        node["children"] = None
    return node
