"""OneDrive through Microsoft Graph: search and list the user's files, and read a text file's content."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import READS, ToolContext, ToolExecutionError, html_to_text, tool, whole_number
from mcp_server.auth import Microsoft
from toolkits.microsoft import client

FILES_READ = "Files.Read"

MAX_FILES = 100
# A file larger than this is not downloaded: a model reads only the first few thousand characters anyway.
MAX_DOWNLOAD_BYTES = 1_000_000
_ITEM_FIELDS = "id,name,size,webUrl,lastModifiedDateTime,file,folder,parentReference"
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-yaml",
    "application/yaml",
    "application/csv",
    "application/x-sh",
    "application/sql",
)
_TEXT_EXTENSIONS = (
    ".txt",
    ".md",
    ".csv",
    ".tsv",
    ".json",
    ".xml",
    ".yaml",
    ".yml",
    ".log",
    ".html",
    ".htm",
    ".py",
    ".js",
    ".ts",
    ".java",
    ".c",
    ".h",
    ".cpp",
    ".go",
    ".rs",
    ".rb",
    ".sh",
    ".sql",
    ".ini",
    ".toml",
    ".cfg",
)


def _shape(item: dict[str, Any]) -> dict[str, Any]:
    folder, file = item.get("folder"), item.get("file")
    parent = item.get("parentReference") or {}
    return {
        "id": item.get("id"),
        "name": item.get("name") or "",
        "type": "folder" if isinstance(folder, dict) else "file",
        "mime_type": file.get("mimeType") if isinstance(file, dict) else None,
        "size": item.get("size"),
        "child_count": folder.get("childCount") if isinstance(folder, dict) else None,
        "modified": client.iso_time(item.get("lastModifiedDateTime")),
        "path": parent.get("path") if isinstance(parent, dict) else None,
        "web_url": item.get("webUrl"),
    }


@tool(requires_auth=Microsoft(scopes=[FILES_READ]), title="Search OneDrive files", hints=READS)
async def search_files(
    context: ToolContext,
    query: Annotated[str, "Words to find in file names, content and metadata, e.g. 'budget 2030'."],
    max_results: Annotated[int, "How many files to return at most, 1 to 100."] = 20,
) -> dict[str, Any]:
    """Search the user's OneDrive for files and folders by name, content and metadata.

    Returns `files`, each with `id` (for GetFileContent, or ListFiles for a folder), name, type (file or
    folder), mime_type, size (bytes), child_count, modified (ISO 8601 with time zone), path (of its folder) and
    web_url; and `truncated` when more matches were left out.
    """
    text = client.check_text(query, "query", maximum=200)
    max_results = whole_number(max_results, name="max_results", maximum=MAX_FILES)
    quoted = text.replace("'", "''")  # OData string literal: a quote is written twice
    return await client.GraphAPI(context).listing(
        f"/me/drive/root/search(q='{quoted}')",
        what="the OneDrive search",
        limit=max_results,
        params={"$select": _ITEM_FIELDS},
        key="files",
        shape=_shape,
    )


@tool(requires_auth=Microsoft(scopes=[FILES_READ]), title="List OneDrive files", hints=READS)
async def list_files(
    context: ToolContext,
    folder_id: Annotated[
        str | None, "The id of a folder, as SearchFiles or ListFiles returned it; default the root."
    ] = None,
    max_results: Annotated[int, "How many files to return at most, 1 to 100."] = 50,
) -> dict[str, Any]:
    """List the files and folders in a folder of the user's OneDrive (the top folder by default).

    Returns `files`, each with `id` (for GetFileContent, or ListFiles for a folder), name, type (file or
    folder), mime_type, size (bytes), child_count, modified (ISO 8601 with time zone), path (of its folder) and
    web_url; and `truncated` when more were left out.
    """
    max_results = whole_number(max_results, name="max_results", maximum=MAX_FILES)
    if folder_id is None or not folder_id.strip():
        path, what = "/me/drive/root/children", "the user's OneDrive"
    else:
        folder_id = client.check_id(folder_id, "folder_id", "SearchFiles or ListFiles")
        path, what = f"/me/drive/items/{folder_id}/children", f"the OneDrive folder {folder_id}"
    return await client.GraphAPI(context).listing(
        path,
        what=what,
        limit=max_results,
        params={"$select": _ITEM_FIELDS},
        key="files",
        shape=_shape,
    )


def _is_text(name: str, mime_type: str) -> bool:
    return mime_type.lower().startswith(_TEXT_TYPES) or name.lower().endswith(_TEXT_EXTENSIONS)


@tool(requires_auth=Microsoft(scopes=[FILES_READ]), title="Read a OneDrive file", hints=READS)
async def get_file_content(
    context: ToolContext,
    file_id: Annotated[str, "The id of the file, as SearchFiles or ListFiles returned it."],
) -> dict[str, Any]:
    """Read the content of a text file in the user's OneDrive (plain text, Markdown, CSV, JSON, code...; HTML
    is turned into plain text).

    Office documents, PDFs and images are not read: open them with their web_url. Returns `id`, name,
    mime_type, size, web_url and `content` (cut after a few thousand characters; `content_truncated` says so).
    """
    file_id = client.check_id(file_id, "file_id", "SearchFiles or ListFiles")
    item = await client.GraphAPI(context).request(
        "GET",
        f"/me/drive/items/{file_id}",
        what=f"the OneDrive file {file_id}",
        params={"$select": _ITEM_FIELDS},
    )
    shaped = _shape(item)
    if shaped["type"] == "folder":
        raise ToolExecutionError(f"{shaped['name']!r} is a folder; list what is in it with ListFiles.")
    mime_type = str(shaped["mime_type"] or "")
    if not _is_text(shaped["name"], mime_type):
        raise ToolExecutionError(
            f"{shaped['name']!r} ({mime_type or 'unknown type'}) is not a text file, so it cannot be read here; "
            f"the user can open it at {shaped['web_url']}."
        )
    if isinstance(shaped["size"], int) and shaped["size"] > MAX_DOWNLOAD_BYTES:
        raise ToolExecutionError(
            f"{shaped['name']!r} is {shaped['size']} bytes, more than the {MAX_DOWNLOAD_BYTES} read here; the user "
            f"can open it at {shaped['web_url']}."
        )
    # /content answers 302 to a pre-authenticated download URL on another host.
    response = await client.GraphAPI(context).send(
        "GET",
        f"/me/drive/items/{file_id}/content",
        what=f"the content of the OneDrive file {file_id}",
        follow_redirects=True,
    )
    text = response.text
    if "html" in mime_type.lower() or shaped["name"].lower().endswith((".html", ".htm")):
        text = html_to_text(text)
    content, truncated = client.truncate(text.replace("\r\n", "\n"))
    return {
        "id": shaped["id"],
        "name": shaped["name"],
        "mime_type": mime_type or None,
        "size": shaped["size"],
        "web_url": shaped["web_url"],
        "content": content,
        "content_truncated": truncated,
    }
