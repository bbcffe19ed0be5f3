"""The GoogleDrive tools that move content in and out: upload a text file, download a file's bytes."""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Annotated, Any

from mcp_server import ADDS, READS, ToolContext, ToolExecutionError, tool
from mcp_server.auth import Google
from toolkits.google_drive.client import (
    FILE_FIELDS,
    FOLDER_MIME_TYPE,
    SUPPORTS_ALL_DRIVES,
    check_file_id,
    check_name,
    get_bytes,
    get_json,
    request_json,
    shape_file,
    upload_url,
)

__all__ = ["download_file", "upload_file"]

FILE_SCOPE = "https://www.googleapis.com/auth/drive.file"
READONLY_SCOPE = "https://www.googleapis.com/auth/drive.readonly"

# Drive's multipart upload takes up to 5 MB (https://developers.google.com/drive/api/guides/manage-uploads).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A download comes back base64 in the tool result: keep it small enough for a model's context.
MAX_DOWNLOAD_BYTES = 1024 * 1024
_MIME_TYPE = re.compile(r"[a-z]+/[A-Za-z0-9][A-Za-z0-9.+-]{0,126}")
GOOGLE_DOC = "application/vnd.google-apps.document"

# files.export formats per Google Workspace type (https://developers.google.com/drive/api/guides/ref-export-formats).
_PDF = {"pdf": "application/pdf"}
EXPORT_FORMATS: dict[str, dict[str, str]] = {
    GOOGLE_DOC: {
        **_PDF,
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "odt": "application/vnd.oasis.opendocument.text",
        "rtf": "application/rtf",
        "txt": "text/plain",
        "md": "text/markdown",
        "epub": "application/epub+zip",
    },
    "application/vnd.google-apps.spreadsheet": {
        **_PDF,
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ods": "application/x-vnd.oasis.opendocument.spreadsheet",
        "csv": "text/csv",
        "tsv": "text/tab-separated-values",
    },
    "application/vnd.google-apps.presentation": {
        **_PDF,
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odp": "application/vnd.oasis.opendocument.presentation",
        "txt": "text/plain",
    },
    "application/vnd.google-apps.drawing": {
        **_PDF,
        "png": "image/png",
        "jpg": "image/jpeg",
        "svg": "image/svg+xml",
    },
}


def _multipart_related(metadata: dict[str, Any], content: bytes, mime_type: str) -> tuple[bytes, str]:
    """The body of an uploadType=multipart request: JSON metadata, then the media (RFC 2387 multipart/related)."""
    boundary = f"authmcp-{secrets.token_hex(12)}"
    head = (
        f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(metadata)}\r\n"
        f"--{boundary}\r\nContent-Type: {mime_type}\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/related; boundary={boundary}"


@tool(requires_auth=Google(scopes=[FILE_SCOPE]), title="Upload a file to Drive", hints=ADDS)
async def upload_file(
    context: ToolContext,
    name: Annotated[str, "The new file's name, with its extension, e.g. 'notes.md'."],
    content: Annotated[str, "The file's text content (UTF-8), up to 5 MB."],
    mime_type: Annotated[
        str, "The content's MIME type, e.g. 'text/plain', 'text/markdown', 'text/csv'."
    ] = "text/plain",
    parent_id: Annotated[
        str, "The folder to put it in: 'root' (My Drive, the default) or a folder id created with this app."
    ] = "root",
    as_google_doc: Annotated[bool, "Convert the text into a Google Doc instead of keeping a plain file."] = False,
) -> dict[str, Any]:
    """Create a new file in the user's Google Drive from text (a note, a CSV, a Markdown document, code...).

    With as_google_doc the text becomes an editable Google Doc. A parent_id other than 'root' must be a
    folder made with CreateFolder (this tool only sees files and folders made through it).

    Returns the new file: {id, name, mime_type, modified_time (ISO 8601), owners, web_view_link, size}.
    """
    title = check_name(name)
    parent = check_file_id(parent_id, what="parent_id")
    media_type = mime_type.strip() if isinstance(mime_type, str) else ""
    if not _MIME_TYPE.fullmatch(media_type) or media_type.startswith("application/vnd.google-apps."):
        raise ToolExecutionError(
            f"mime_type {mime_type!r} is not a file MIME type; give one such as 'text/plain' or 'text/csv' "
            f"(use as_google_doc to make a Google Doc)."
        )
    if not isinstance(content, str):
        raise ToolExecutionError("content must be text.")
    data = content.encode("utf-8")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ToolExecutionError(f"content is {len(data)} bytes; upload at most {MAX_UPLOAD_BYTES} bytes at once.")
    metadata: dict[str, Any] = {"name": title, "parents": [parent]}
    if as_google_doc:
        metadata["mimeType"] = GOOGLE_DOC
    body, content_type = _multipart_related(metadata, data, f"{media_type}; charset=UTF-8")
    created = await request_json(
        context,
        "POST",
        "",
        {"uploadType": "multipart", "fields": FILE_FIELDS, **SUPPORTS_ALL_DRIVES},
        what=f"uploading the file {title!r}",
        url=upload_url(context),
        content=body,
        content_type=content_type,
    )
    return shape_file(created)


@tool(requires_auth=Google(scopes=[READONLY_SCOPE]), title="Download a Drive file", hints=READS)
async def download_file(
    context: ToolContext,
    file_id: Annotated[str, "The id (or Drive/Docs URL) of the file to download."],
    export_format: Annotated[
        str | None,
        "For Google Docs/Sheets/Slides/Drawings only: the format to export to, e.g. 'pdf', 'docx', 'xlsx', "
        "'csv', 'pptx', 'png'; default 'pdf'.",
    ] = None,
) -> dict[str, Any]:
    """Download a file of the user's Google Drive as bytes (base64), up to 1 MiB.

    Google Workspace files are exported (PDF by default, or export_format). To read a document as text use
    GetFileContent instead. Returns {"file": {id, name, mime_type, modified_time, owners, web_view_link, size},
    "content_mime_type", "size" (bytes), "content_base64"}.
    """
    fid = check_file_id(file_id)
    what = f"the Drive file {fid}"
    meta = await get_json(context, f"/files/{fid}", {"fields": FILE_FIELDS, **SUPPORTS_ALL_DRIVES}, what=what)
    file = shape_file(meta)
    source_type = str(meta.get("mimeType") or "")
    if source_type == FOLDER_MIME_TYPE:
        raise ToolExecutionError(f"{fid} is a folder; use GetFileTreeStructure to see its files, then download one.")
    formats = EXPORT_FORMATS.get(source_type)
    if formats is not None:
        chosen = (export_format or "pdf").strip().lower().lstrip(".")
        if chosen not in formats:
            raise ToolExecutionError(
                f"export_format {export_format!r} does not fit this file ({source_type}); give one of "
                f"{', '.join(formats)}."
            )
        content_type = formats[chosen]
        path, params = f"/files/{fid}/export", {"mimeType": content_type}
    elif source_type.startswith("application/vnd.google-apps."):
        raise ToolExecutionError(f"{fid} is a {source_type} item, which Drive cannot download; open web_view_link.")
    elif export_format is not None:
        raise ToolExecutionError("export_format only applies to Google Docs, Sheets, Slides and Drawings; drop it.")
    else:
        if file["size"] is not None and file["size"] > MAX_DOWNLOAD_BYTES:
            raise ToolExecutionError(
                f"{fid} is {file['size']} bytes, over the {MAX_DOWNLOAD_BYTES} bytes this tool returns; "
                f"open web_view_link instead."
            )
        content_type = source_type or "application/octet-stream"
        path, params = f"/files/{fid}", {"alt": "media", **SUPPORTS_ALL_DRIVES}
    data, cut = await get_bytes(context, path, params, what=what, max_bytes=MAX_DOWNLOAD_BYTES)
    if cut:
        raise ToolExecutionError(
            f"{fid} is over the {MAX_DOWNLOAD_BYTES} bytes this tool returns; open web_view_link instead."
        )
    return {
        "file": file,
        "content_mime_type": content_type,
        "size": len(data),
        "content_base64": base64.b64encode(data).decode("ascii"),
    }
