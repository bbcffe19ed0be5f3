"""GoogleDrive: read-only tools over the user's Google Drive (Drive API v3).

Search files, list recent files, read a file as text (Docs/Slides as plain text, Sheets as CSV, text files as
they are) and browse a folder tree. Settings (`[toolkit_settings.googledrive]`): `api_base_url`, default
https://www.googleapis.com/drive/v3.
"""

from __future__ import annotations

from toolkits.google_drive.tools import (
    get_file_content,
    get_file_tree_structure,
    list_recent_files,
    search_files,
)

TOOLKIT_NAME = "GoogleDrive"

__all__ = ["TOOLKIT_NAME", "get_file_content", "get_file_tree_structure", "list_recent_files", "search_files"]
