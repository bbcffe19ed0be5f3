"""GoogleDrive: the user's Google Drive (Drive API v3), My Drive and shared drives alike.

Search files, list recent files, read a file as text (Docs/Slides as plain text, Sheets as CSV, text files as
they are), browse a folder tree, download; create folders, upload text files, rename, move, trash; share and
list who has access. Settings (`[toolkit_settings.googledrive]`): `api_base_url`, default
https://www.googleapis.com/drive/v3 (uploads go to the same host under `/upload`).
"""

from __future__ import annotations

from toolkits.google_drive.organize import create_folder, move_file, rename_file, trash_file
from toolkits.google_drive.sharing import list_permissions, share_file
from toolkits.google_drive.tools import (
    get_file_content,
    get_file_tree_structure,
    list_recent_files,
    search_files,
)
from toolkits.google_drive.transfer import download_file, upload_file

TOOLKIT_NAME = "GoogleDrive"

__all__ = [
    "TOOLKIT_NAME",
    "create_folder",
    "download_file",
    "get_file_content",
    "get_file_tree_structure",
    "list_permissions",
    "list_recent_files",
    "move_file",
    "rename_file",
    "search_files",
    "share_file",
    "trash_file",
    "upload_file",
]
