"""The GoogleDrive tools that organize files: create a folder, rename, move, and move to the trash."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ADDS, OVERWRITES, SETS, ToolContext, ToolExecutionError, tool
from mcp_server.auth import Google
from toolkits.google_drive.client import (
    FILE_FIELDS,
    FOLDER_MIME_TYPE,
    SUPPORTS_ALL_DRIVES,
    check_file_id,
    check_name,
    get_json,
    request_json,
    shape_file,
    update_file,
)

__all__ = ["create_folder", "move_file", "rename_file", "trash_file"]

# files.create: drive.file is the narrowest scope the discovery document lists (files the app creates).
FILE_SCOPE = "https://www.googleapis.com/auth/drive.file"
# files.update of metadata only (name, parents, trashed): drive.metadata, narrower than drive.
METADATA_SCOPE = "https://www.googleapis.com/auth/drive.metadata"


@tool(requires_auth=Google(scopes=[FILE_SCOPE]), title="Create a Drive folder", hints=ADDS)
async def create_folder(
    context: ToolContext,
    name: Annotated[str, "The new folder's name, e.g. 'Invoices 2026'."],
    parent_id: Annotated[
        str, "The folder to create it in: 'root' (My Drive, the default) or a folder id created with this app."
    ] = "root",
) -> dict[str, Any]:
    """Create a folder in the user's Google Drive.

    Use it to organize files; pass the returned `id` as parent_id to UploadFile or CreateFolder, or as
    folder_id to MoveFile. This tool only sees folders made through it (Drive's per-file access), so a
    parent_id other than 'root' must be a folder it created.

    Returns the folder: {id, name, mime_type, modified_time (ISO 8601), owners, web_view_link, size}.
    """
    title = check_name(name)
    parent = check_file_id(parent_id, what="parent_id")
    created = await request_json(
        context,
        "POST",
        "/files",
        {"fields": FILE_FIELDS, **SUPPORTS_ALL_DRIVES},
        what=f"creating the folder {title!r}",
        json={"name": title, "mimeType": FOLDER_MIME_TYPE, "parents": [parent]},
    )
    return shape_file(created)


@tool(requires_auth=Google(scopes=[METADATA_SCOPE]), title="Rename a Drive file", hints=SETS)
async def rename_file(
    context: ToolContext,
    file_id: Annotated[str, "The id (or Drive/Docs URL) of the file or folder to rename."],
    new_name: Annotated[str, "The new name, e.g. 'Budget 2026 (final)'."],
) -> dict[str, Any]:
    """Rename a file or folder in the user's Google Drive (content and sharing stay as they are).

    Returns the renamed file: {id, name, mime_type, modified_time, owners, web_view_link, size}.
    """
    fid = check_file_id(file_id)
    title = check_name(new_name, what="new_name")
    return shape_file(await update_file(context, fid, {"name": title}))


@tool(requires_auth=Google(scopes=[METADATA_SCOPE]), title="Move a Drive file", hints=SETS)
async def move_file(
    context: ToolContext,
    file_id: Annotated[str, "The id (or Drive/Docs URL) of the file or folder to move."],
    folder_id: Annotated[str, "The folder to move it into: a folder id, or 'root' for My Drive."],
) -> dict[str, Any]:
    """Move a file or folder into another folder of the user's Google Drive (out of every folder it was in).

    Find the destination with SearchFiles or GetFileTreeStructure. Returns the moved file: {id, name,
    mime_type, modified_time, owners, web_view_link, size} and `parent_ids` (the folders it is now in).
    """
    fid = check_file_id(file_id)
    target = check_file_id(folder_id, what="folder_id")
    if target == fid:
        raise ToolExecutionError("folder_id is the file itself; give the id of the folder to move it into.")
    what = f"the Drive file {fid}"
    current = await get_json(context, f"/files/{fid}", {"fields": "id,parents", **SUPPORTS_ALL_DRIVES}, what=what)
    old = [p for p in current.get("parents") or [] if isinstance(p, str) and p != target]
    params: dict[str, Any] = {"addParents": target}
    if old:
        params["removeParents"] = ",".join(old)
    moved = await update_file(context, fid, {}, fields=f"{FILE_FIELDS},parents", params=params)
    return {**shape_file(moved), "parent_ids": list(moved.get("parents") or [])}


@tool(requires_auth=Google(scopes=[METADATA_SCOPE]), title="Move a Drive file to the trash", hints=OVERWRITES)
async def trash_file(
    context: ToolContext,
    file_id: Annotated[str, "The id (or Drive/Docs URL) of the file or folder to move to the trash."],
) -> dict[str, Any]:
    """Move a file or folder of the user's Google Drive to the trash (a folder takes its contents with it).

    Drive deletes trashed items for good after 30 days; until then they can be restored from the trash.
    Returns {id, name, trashed}.
    """
    fid = check_file_id(file_id)
    trashed = await update_file(context, fid, {"trashed": True}, fields="id,name,trashed")
    return {"id": trashed.get("id", fid), "name": trashed.get("name"), "trashed": trashed.get("trashed") is True}
