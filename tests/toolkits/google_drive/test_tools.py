"""Unit tests of the GoogleDrive toolkit against a stand-in of the Drive API v3 (httpx2.MockTransport).

Fixtures follow the documented formats:
- File resource and files.list response body: https://developers.google.com/drive/api/reference/rest/v3/files
  and https://developers.google.com/drive/api/reference/rest/v3/files/list
- files.export / alt=media return the raw bytes: https://developers.google.com/drive/api/reference/rest/v3/files/export
  and https://developers.google.com/drive/api/guides/manage-downloads
- Error bodies: https://developers.google.com/drive/api/guides/handle-errors
Every request is also checked against Drive v3's discovery document (tests/toolkits/google_discovery) and every
fixture against its schema there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from mcp_server import (
    ToolAuthorization,
    ToolContext,
    ToolExecutionError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRateLimitError,
)
from mcp_server.calls.catalog import load_catalog
from mcp_server.providers import ProviderRegistry
from tests.toolkits.google_discovery import assert_documented, assert_shape
from toolkits.google_drive import (
    get_file_content,
    get_file_tree_structure,
    list_recent_files,
    search_files,
)

pytestmark = pytest.mark.anyio

TOKEN = "tok-google_drive-1"
READONLY = "https://www.googleapis.com/auth/drive.readonly"
METADATA = "https://www.googleapis.com/auth/drive.metadata.readonly"
FOLDER = "application/vnd.google-apps.folder"

# A File resource as documented (https://developers.google.com/drive/api/reference/rest/v3/files#File), with the
# fields the toolkit asks for; int64 `size` is a JSON string; Google Docs have no size.
DOC = {
    "kind": "drive#file",
    "id": "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms",
    "name": "Quarterly budget",
    "mimeType": "application/vnd.google-apps.document",
    "modifiedTime": "2024-05-01T10:15:30.000Z",
    "owners": [
        {
            "kind": "drive#user",
            "displayName": "Alice Smith",
            "emailAddress": "alice@example.com",
            "me": True,
            "permissionId": "01234567890123456789",
        }
    ],
    "webViewLink": "https://docs.google.com/document/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit?usp=drivesdk",
}
PDF = {
    "kind": "drive#file",
    "id": "0B7_pdf_file_id",
    "name": "Invoice 42.pdf",
    "mimeType": "application/pdf",
    "modifiedTime": "2024-04-30T08:00:00.000Z",
    "owners": [{"kind": "drive#user", "displayName": "Bob", "emailAddress": "bob@example.com"}],
    "webViewLink": "https://drive.google.com/file/d/0B7_pdf_file_id/view?usp=drivesdk",
    "size": "245760",
}
SHEET = {
    **DOC,
    "id": "sheet123",
    "name": "Numbers",
    "mimeType": "application/vnd.google-apps.spreadsheet",
    "webViewLink": "https://docs.google.com/spreadsheets/d/sheet123/edit",
}
TEXT = {**PDF, "id": "txt123", "name": "notes.md", "mimeType": "text/markdown", "size": "27"}

# files.list response body (https://developers.google.com/drive/api/reference/rest/v3/files/list#response-body)
PAGE_1 = {"kind": "drive#fileList", "nextPageToken": "~!!~AI9FV7T-page-2", "incompleteSearch": False, "files": [DOC]}
PAGE_2 = {"kind": "drive#fileList", "incompleteSearch": False, "files": [PDF]}

# Error bodies from https://developers.google.com/drive/api/guides/handle-errors
ERROR_401 = {
    "error": {
        "errors": [
            {
                "domain": "global",
                "reason": "authError",
                "message": "Invalid Credentials",
                "locationType": "header",
                "location": "Authorization",
            }
        ],
        "code": 401,
        "message": "Invalid Credentials",
    }
}
ERROR_404 = {
    "error": {
        "errors": [
            {
                "domain": "global",
                "reason": "notFound",
                "message": "File not found: nope42",
                "locationType": "parameter",
                "location": "fileId",
            }
        ],
        "code": 404,
        "message": "File not found: nope42",
    }
}
ERROR_429 = {
    "error": {
        "errors": [{"domain": "usageLimits", "message": "Rate Limit Exceeded", "reason": "rateLimitExceeded"}],
        "code": 429,
        "message": "Rate Limit Exceeded",
    }
}


class Api:
    """Records every request and answers from `routes`: path -> response or callable(request) -> response."""

    def __init__(self, routes: dict[str, Any]):
        self.routes = routes
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.routes.get(request.url.path)
        if answer is None:
            return httpx2.Response(404, json=ERROR_404)
        return answer(request) if callable(answer) else answer


def make_context(
    api: Callable[[httpx2.Request], httpx2.Response], scopes: tuple[str, ...] = (READONLY,)
) -> ToolContext:
    return ToolContext(
        user_id="u1",
        authorization=ToolAuthorization(provider_id="google", token=TOKEN, scopes=scopes),
        http=httpx2.AsyncClient(transport=httpx2.MockTransport(api)),
        settings={"api_base_url": "https://api.test"},
    )


def query(request: httpx2.Request) -> dict[str, str]:
    return dict(request.url.params)


def assert_sent(request: httpx2.Request, path: str, params: dict[str, str]) -> None:
    assert request.method == "GET"
    assert request.url.host == "api.test"
    assert request.url.path == path
    assert query(request) == params
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.content == b""


LIST_FIELDS = (
    "nextPageToken,incompleteSearch,"
    "files(id,name,mimeType,modifiedTime,owners(displayName,emailAddress),webViewLink,size)"
)
# Every files.list names every drive (Drive v3 discovery: files.list corpora, includeItemsFromAllDrives,
# supportsAllDrives), else shared-drive files are left out.
ALL_DRIVES = {"corpora": "allDrives", "includeItemsFromAllDrives": "true", "supportsAllDrives": "true"}
META_FIELDS = "id,name,mimeType,modifiedTime,owners(displayName,emailAddress),webViewLink,size"

SHAPED_DOC = {
    "id": "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms",
    "name": "Quarterly budget",
    "mime_type": "application/vnd.google-apps.document",
    "modified_time": "2024-05-01T10:15:30+00:00",
    "owners": [{"name": "Alice Smith", "email": "alice@example.com"}],
    "web_view_link": "https://docs.google.com/document/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit?usp=drivesdk",
    "size": None,
}
SHAPED_PDF = {
    "id": "0B7_pdf_file_id",
    "name": "Invoice 42.pdf",
    "mime_type": "application/pdf",
    "modified_time": "2024-04-30T08:00:00+00:00",
    "owners": [{"name": "Bob", "email": "bob@example.com"}],
    "web_view_link": "https://drive.google.com/file/d/0B7_pdf_file_id/view?usp=drivesdk",
    "size": 245760,
}


def two_pages(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=PAGE_2 if request.url.params.get("pageToken") else PAGE_1)


# --- SearchFiles ---------------------------------------------------------------------------------------------


async def test_search_files_builds_a_full_text_query_and_follows_two_pages() -> None:
    api = Api({"/files": two_pages})
    result = await search_files(make_context(api), query="  budget 2024 ", limit=5)
    assert result == {"query": "budget 2024", "files": [SHAPED_DOC, SHAPED_PDF], "count": 2, "has_more": False}
    assert len(api.requests) == 2
    first = {
        "q": "fullText contains 'budget 2024' and trashed = false",
        "pageSize": "5",
        "fields": LIST_FIELDS,
        "spaces": "drive",
        **ALL_DRIVES,
    }
    assert_sent(api.requests[0], "/files", first)
    assert_sent(api.requests[1], "/files", {**first, "pageSize": "4", "pageToken": "~!!~AI9FV7T-page-2"})


async def test_search_files_escapes_quotes_and_backslashes() -> None:
    api = Api({"/files": httpx2.Response(200, json=PAGE_2)})
    await search_files(make_context(api), query="Valentine's Day \\ plan", limit=3)
    assert query(api.requests[0])["q"] == "fullText contains 'Valentine\\'s Day \\\\ plan' and trashed = false"


async def test_search_files_stops_at_the_limit_and_reports_more() -> None:
    api = Api({"/files": two_pages})
    result = await search_files(make_context(api), query="budget", limit=1)
    assert result["files"] == [SHAPED_DOC]
    assert result["has_more"] is True
    assert len(api.requests) == 1
    assert query(api.requests[0])["pageSize"] == "1"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"query": "   "}, "query is empty"),
        ({"query": "x", "limit": 0}, "limit must be"),
        ({"query": "x", "limit": 101}, "from 1 to 100"),
        ({"query": "x" * 501}, "keep it under 500"),
    ],
)
async def test_search_files_rejects_bad_input_without_a_request(arguments: dict[str, Any], message: str) -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError, match=message):
        await search_files(make_context(api), **arguments)
    assert api.requests == []


# --- ListRecentFiles -----------------------------------------------------------------------------------------


async def test_list_recent_files_orders_by_modified_time() -> None:
    api = Api({"/files": httpx2.Response(200, json=PAGE_2)})
    result = await list_recent_files(make_context(api, (METADATA,)), limit=10)
    assert result == {"files": [SHAPED_PDF], "count": 1, "has_more": False}
    assert_sent(
        api.requests[0],
        "/files",
        {
            "q": "trashed = false",
            "pageSize": "10",
            "fields": LIST_FIELDS,
            "spaces": "drive",
            "orderBy": "modifiedTime desc",
            **ALL_DRIVES,
        },
    )


async def test_list_recent_files_rejects_a_bad_limit_without_a_request() -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError, match="limit must be a whole number from 1 to 100"):
        await list_recent_files(make_context(api), limit=-3)
    assert api.requests == []


# --- GetFileContent ------------------------------------------------------------------------------------------


async def test_get_file_content_exports_a_google_doc_as_plain_text() -> None:
    doc_id = DOC["id"]
    api = Api(
        {
            f"/files/{doc_id}": httpx2.Response(200, json=DOC),
            f"/files/{doc_id}/export": httpx2.Response(
                200, content="\ufeffBudget\r\nTotal: 42\r\n".encode(), headers={"content-type": "text/plain"}
            ),
        }
    )
    result = await get_file_content(make_context(api), file_id=doc_id)
    assert result == {
        "file": SHAPED_DOC,
        "content": "\ufeffBudget\r\nTotal: 42\r\n",
        "content_format": "text/plain",
        "truncated": False,
        "note": None,
    }
    assert_sent(api.requests[0], f"/files/{doc_id}", {"fields": META_FIELDS, "supportsAllDrives": "true"})
    assert_sent(api.requests[1], f"/files/{doc_id}/export", {"mimeType": "text/plain"})


async def test_get_file_content_accepts_a_docs_url() -> None:
    api = Api({f"/files/{DOC['id']}": httpx2.Response(200, json={**DOC, "mimeType": FOLDER})})
    result = await get_file_content(make_context(api), file_id=DOC["webViewLink"])
    assert result["content"] is None and "GetFileTreeStructure" in result["note"]
    assert len(api.requests) == 1


async def test_get_file_content_exports_a_sheet_as_csv() -> None:
    api = Api(
        {
            "/files/sheet123": httpx2.Response(200, json=SHEET),
            "/files/sheet123/export": httpx2.Response(200, content=b"a,b\n1,2\n", headers={"content-type": "text/csv"}),
        }
    )
    result = await get_file_content(make_context(api), file_id="sheet123")
    assert result["content"] == "a,b\n1,2\n" and result["content_format"] == "text/csv"
    assert query(api.requests[1]) == {"mimeType": "text/csv"}


async def test_get_file_content_reads_a_text_file_with_alt_media() -> None:
    api = Api(
        {
            "/files/txt123": lambda r: (
                httpx2.Response(200, content=b"# Notes\n\n- caf\xc3\xa9 at 10\n")
                if r.url.params.get("alt") == "media"
                else httpx2.Response(200, json=TEXT)
            )
        }
    )
    result = await get_file_content(make_context(api), file_id="txt123")
    assert result["content"] == "# Notes\n\n- café at 10\n"
    assert result["content_format"] == "text/markdown" and result["truncated"] is False
    assert_sent(api.requests[1], "/files/txt123", {"alt": "media", "supportsAllDrives": "true"})


async def test_get_file_content_truncates_long_text_with_a_note() -> None:
    api = Api(
        {
            "/files/txt123": lambda r: (
                httpx2.Response(200, content=b"x" * 300_000)
                if r.url.params.get("alt") == "media"
                else httpx2.Response(200, json=TEXT)
            )
        }
    )
    result = await get_file_content(make_context(api), file_id="txt123")
    assert result["truncated"] is True
    assert len(result["content"]) == 50_000
    assert "truncated to the first 50000 characters" in result["note"]


async def test_get_file_content_describes_a_binary_file_without_downloading_it() -> None:
    api = Api({"/files/0B7_pdf_file_id": httpx2.Response(200, json=PDF)})
    result = await get_file_content(make_context(api), file_id="0B7_pdf_file_id")
    assert result["file"] == SHAPED_PDF
    assert result["content"] is None and result["content_format"] is None
    assert result["note"].startswith("Binary file (application/pdf, 245760 bytes)")
    assert len(api.requests) == 1


@pytest.mark.parametrize("file_id", ["", "   ", "../etc/passwd", "a b", "id'quote"])
async def test_get_file_content_rejects_a_bad_id_without_a_request(file_id: str) -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError, match="is not a Google Drive file id"):
        await get_file_content(make_context(api), file_id=file_id)
    assert api.requests == []


# --- GetFileTreeStructure ------------------------------------------------------------------------------------


def tree_api() -> Api:
    # files.get of the folder, then files.list of its children (fields id,name,mimeType).
    root = {"kind": "drive#file", "id": "0AFolderRoot", "name": "My Drive", "mimeType": FOLDER}
    children = {
        "'0AFolderRoot' in parents and trashed = false": [
            {"kind": "drive#file", "id": "fold1", "name": "Projects", "mimeType": FOLDER},
            {"kind": "drive#file", "id": DOC["id"], "name": "Quarterly budget", "mimeType": DOC["mimeType"]},
        ],
        "'fold1' in parents and trashed = false": [
            {"kind": "drive#file", "id": "fold2", "name": "Archive", "mimeType": FOLDER},
            {"kind": "drive#file", "id": "0B7_pdf_file_id", "name": "Invoice 42.pdf", "mimeType": "application/pdf"},
        ],
    }

    def files(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200,
            json={
                "kind": "drive#fileList",
                "incompleteSearch": False,
                "files": children.get(request.url.params["q"], []),
            },
        )

    return Api({"/files/root": httpx2.Response(200, json=root), "/files": files})


async def test_get_file_tree_structure_descends_to_the_depth() -> None:
    api = tree_api()
    result = await get_file_tree_structure(make_context(api, (METADATA,)), folder_id="root", depth=2)
    assert result == {
        "tree": {
            "id": "0AFolderRoot",
            "name": "My Drive",
            "mime_type": FOLDER,
            "children": [
                {
                    "id": "fold1",
                    "name": "Projects",
                    "mime_type": FOLDER,
                    "children": [
                        {"id": "fold2", "name": "Archive", "mime_type": FOLDER, "children": None},
                        {"id": "0B7_pdf_file_id", "name": "Invoice 42.pdf", "mime_type": "application/pdf"},
                    ],
                },
                {"id": DOC["id"], "name": "Quarterly budget", "mime_type": DOC["mimeType"]},
            ],
        },
        "item_count": 4,
        "truncated": False,
    }
    assert_sent(api.requests[0], "/files/root", {"fields": "id,name,mimeType", "supportsAllDrives": "true"})
    assert_sent(
        api.requests[1],
        "/files",
        {
            "q": "'0AFolderRoot' in parents and trashed = false",
            "pageSize": "100",
            "fields": "nextPageToken,incompleteSearch,files(id,name,mimeType)",
            "spaces": "drive",
            "orderBy": "folder,name",
            **ALL_DRIVES,
        },
    )
    assert query(api.requests[2])["q"] == "'fold1' in parents and trashed = false"
    assert len(api.requests) == 3


async def test_get_file_tree_structure_refuses_a_file() -> None:
    api = Api({"/files/0B7_pdf_file_id": httpx2.Response(200, json=PDF)})
    with pytest.raises(ToolExecutionError, match="is not a folder"):
        await get_file_tree_structure(make_context(api), folder_id="0B7_pdf_file_id", depth=1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"depth": 0}, "depth must be a whole number from 1 to 5"),
        ({"depth": 6}, "from 1 to 5"),
        ({"folder_id": "no/such id"}, "or 'root' for My Drive"),
    ],
)
async def test_get_file_tree_structure_rejects_bad_input_without_a_request(
    arguments: dict[str, Any], message: str
) -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError, match=message):
        await get_file_tree_structure(make_context(api), **arguments)
    assert api.requests == []


# --- Shared drives and the discovery document ---------------------------------------------------------------


def drive_like_files(request: httpx2.Request) -> httpx2.Response:
    """files.list as Drive answers it: shared-drive items only for a caller that names every drive
    (Drive v3 discovery, files.list: includeItemsFromAllDrives "Whether both My Drive and shared drive items
    should be included in results"; corpora "By default, corpora is set to `user`")."""
    params = request.url.params
    every_drive = (
        params.get("corpora") == "allDrives"
        and params.get("includeItemsFromAllDrives") == "true"
        and params.get("supportsAllDrives") == "true"
    )
    shared = {**PDF, "id": "1SharedDriveFile", "name": "Team plan.pdf", "driveId": "0AShared"}
    files = [DOC, shared] if every_drive else [DOC]
    return httpx2.Response(200, json={"kind": "drive#fileList", "incompleteSearch": False, "files": files})


async def test_search_and_recent_files_include_shared_drive_files() -> None:
    api = Api({"/files": drive_like_files})
    found = await search_files(make_context(api, (METADATA,)), query="plan")
    recent = await list_recent_files(make_context(api, (METADATA,)))
    assert [f["id"] for f in found["files"]] == [DOC["id"], "1SharedDriveFile"]
    assert [f["id"] for f in recent["files"]] == [DOC["id"], "1SharedDriveFile"]


async def test_a_shared_drive_folder_is_listed_with_its_files() -> None:
    folder = {"kind": "drive#file", "id": "0ASharedFolder", "name": "Team", "mimeType": FOLDER, "driveId": "0AShared"}
    api = Api(
        {
            "/files/0ASharedFolder": lambda r: httpx2.Response(
                200 if r.url.params.get("supportsAllDrives") == "true" else 404, json=folder
            ),
            "/files": drive_like_files,
        }
    )
    result = await get_file_tree_structure(make_context(api, (METADATA,)), folder_id="0ASharedFolder", depth=1)
    assert [c["id"] for c in result["tree"]["children"]] == [DOC["id"], "1SharedDriveFile"]


async def test_an_incomplete_search_says_more_may_exist() -> None:
    # FileList.incompleteSearch: "This can occur when searching multiple drives with the `allDrives` corpora".
    api = Api({"/files": httpx2.Response(200, json={**PAGE_2, "incompleteSearch": True})})
    result = await search_files(make_context(api), query="budget")
    assert result["has_more"] is True


async def test_reading_tools_send_documented_requests_with_accepted_scopes() -> None:
    for fixture, schema in ((DOC, "File"), (PDF, "File"), (PAGE_1, "FileList"), (PAGE_2, "FileList")):
        assert_shape(fixture, "drive", schema)
    api = Api(
        {
            "/files": two_pages,
            "/files/txt123": lambda r: (
                httpx2.Response(200, content=b"hi")
                if r.url.params.get("alt") == "media"
                else httpx2.Response(200, json=TEXT)
            ),
            f"/files/{DOC['id']}": httpx2.Response(200, json=DOC),
            f"/files/{DOC['id']}/export": httpx2.Response(200, content=b"text"),
        }
    )
    await search_files(make_context(api), query="x", limit=3)
    await list_recent_files(make_context(api), limit=3)
    await get_file_content(make_context(api), file_id="txt123")
    await get_file_content(make_context(api), file_id=DOC["id"])
    methods = ["files.list"] * 4 + ["files.get"] * 3 + ["files.export"]
    for request, method_id in zip(api.requests, methods, strict=True):
        scope = READONLY if method_id == "files.export" or request.url.params.get("alt") else METADATA
        assert_documented(request, "drive", method_id, (scope,))


# --- Upstream errors -----------------------------------------------------------------------------------------


async def test_401_becomes_upstream_auth_error() -> None:
    api = Api({"/files": httpx2.Response(401, json=ERROR_401)})
    with pytest.raises(UpstreamAuthError):
        await list_recent_files(make_context(api))


async def test_404_names_the_file() -> None:
    api = Api({})
    with pytest.raises(UpstreamError, match="the Drive file nope42 was not found") as caught:
        await get_file_content(make_context(api), file_id="nope42")
    assert caught.value.status_code == 404
    assert "File not found" not in str(caught.value)  # the body is never echoed


async def test_404_during_export_names_the_file() -> None:
    api = Api({f"/files/{DOC['id']}": httpx2.Response(200, json=DOC)})
    with pytest.raises(UpstreamError, match=f"the Drive file {DOC['id']} was not found"):
        await get_file_content(make_context(api), file_id=DOC["id"])


async def test_404_names_the_folder() -> None:
    with pytest.raises(UpstreamError, match="the Drive folder fold9 was not found"):
        await get_file_tree_structure(make_context(Api({})), folder_id="fold9")


async def test_429_is_retryable_with_the_wait() -> None:
    api = Api({"/files": httpx2.Response(429, json=ERROR_429, headers={"Retry-After": "17"})})
    with pytest.raises(UpstreamRateLimitError, match="Retry in 17 s") as caught:
        await search_files(make_context(api), query="budget")
    assert caught.value.retry_after == 17.0


async def test_403_is_a_clear_refusal() -> None:
    body = {
        "error": {
            "code": 403,
            "message": "Insufficient Permission",
            "errors": [{"domain": "global", "reason": "insufficientPermissions", "message": "Insufficient Permission"}],
        }
    }
    api = Api({"/files/txt123": httpx2.Response(403, json=body)})
    with pytest.raises(UpstreamError, match="refused access to the Drive file txt123"):
        await get_file_content(make_context(api), file_id="txt123")


# --- Catalog -------------------------------------------------------------------------------------------------


DRIVE = "https://www.googleapis.com/auth/drive"
FILE = "https://www.googleapis.com/auth/drive.file"
METADATA_RW = "https://www.googleapis.com/auth/drive.metadata"
READS = {"readOnlyHint": True, "idempotentHint": True, "openWorldHint": True}


def writes(*, destructive: bool, idempotent: bool) -> dict[str, bool]:
    return {"readOnlyHint": False, "destructiveHint": destructive, "idempotentHint": idempotent, "openWorldHint": True}


def test_catalog_loads_every_tool_with_its_scopes_and_annotations() -> None:
    catalog = load_catalog(["toolkits.google_drive"], ProviderRegistry({}))
    tools = {t.mcp_name: t for t in catalog}
    assert {name: (t.requirement.id, tuple(t.requirement.scopes), t.hints) for name, t in tools.items()} == {
        "GoogleDrive_SearchFiles": ("google", (METADATA,), READS),
        "GoogleDrive_ListRecentFiles": ("google", (METADATA,), READS),
        "GoogleDrive_GetFileContent": ("google", (READONLY,), READS),
        "GoogleDrive_GetFileTreeStructure": ("google", (METADATA,), READS),
        "GoogleDrive_DownloadFile": ("google", (READONLY,), READS),
        "GoogleDrive_ListPermissions": ("google", (METADATA,), READS),
        "GoogleDrive_CreateFolder": ("google", (FILE,), writes(destructive=False, idempotent=False)),
        "GoogleDrive_UploadFile": ("google", (FILE,), writes(destructive=False, idempotent=False)),
        "GoogleDrive_RenameFile": ("google", (METADATA_RW,), writes(destructive=False, idempotent=True)),
        "GoogleDrive_MoveFile": ("google", (METADATA_RW,), writes(destructive=False, idempotent=True)),
        "GoogleDrive_TrashFile": ("google", (METADATA_RW,), writes(destructive=True, idempotent=True)),
        "GoogleDrive_ShareFile": ("google", (DRIVE,), writes(destructive=True, idempotent=False)),
    }
    for definition in tools.values():
        schema = definition.input_schema
        assert "context" not in schema["properties"]
        assert all(p.get("description") for p in schema["properties"].values())
        assert definition.description and definition.title
    assert (
        json.dumps(tools["GoogleDrive_GetFileTreeStructure"].input_schema["properties"]["folder_id"]["default"])
        == '"root"'
    )
