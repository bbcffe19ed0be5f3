"""End to end: GoogleDrive_ListRecentFiles through the real gate and vault against a stand-in Drive API."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.e2e.conftest import stack_factory  # noqa: F401
from tests.e2e.toolkit_harness import authorize_and_call, standin

pytestmark = pytest.mark.anyio

# files.list response body, documented at https://developers.google.com/drive/api/reference/rest/v3/files/list
# (File fields: https://developers.google.com/drive/api/reference/rest/v3/files#File)
FILE_LIST = {
    "kind": "drive#fileList",
    "incompleteSearch": False,
    "files": [
        {
            "kind": "drive#file",
            "id": "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms",
            "name": "Quarterly budget",
            "mimeType": "application/vnd.google-apps.document",
            "modifiedTime": "2024-05-01T10:15:30.000Z",
            "owners": [{"kind": "drive#user", "displayName": "Alice Smith", "emailAddress": "alice@example.com"}],
            "webViewLink": "https://docs.google.com/document/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit",
        }
    ],
}


async def test_list_recent_files_end_to_end(stack_factory: Any) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    async def files(request: Request) -> JSONResponse:
        seen.append((request.headers.get("authorization", ""), dict(request.query_params)))
        return JSONResponse(FILE_LIST)

    with standin(Starlette(routes=[Route("/files", files)])) as base_url:
        result, token = await authorize_and_call(
            stack_factory,
            provider_id="google",
            toolkit="toolkits.google_drive",
            settings_name="googledrive",
            base_url=base_url,
            tool="GoogleDrive_ListRecentFiles",
            arguments={"limit": 3},
        )
    assert not result.is_error
    assert result.structured_content == {
        "files": [
            {
                "id": "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms",
                "name": "Quarterly budget",
                "mime_type": "application/vnd.google-apps.document",
                "modified_time": "2024-05-01T10:15:30+00:00",
                "owners": [{"name": "Alice Smith", "email": "alice@example.com"}],
                "web_view_link": "https://docs.google.com/document/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit",
                "size": None,
            }
        ],
        "count": 1,
        "has_more": False,
    }
    assert [auth for auth, _ in seen] == [f"Bearer {token}"]
    assert seen[0][1]["orderBy"] == "modifiedTime desc" and seen[0][1]["pageSize"] == "3"
