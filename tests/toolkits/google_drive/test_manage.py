"""Unit tests of the GoogleDrive tools that change or transfer files: CreateFolder, UploadFile, RenameFile,
MoveFile, TrashFile, ShareFile, ListPermissions, DownloadFile.

Stand-in answers follow Drive v3's discovery document (tests/toolkits/google_discovery: File, Permission,
PermissionList; files.create/update, permissions.create/list) and the reference pages
https://developers.google.com/drive/api/reference/rest/v3/files and .../v3/permissions. Every request is checked
against the discovery document with the tool's scope.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx2
import pytest

from mcp_server import ToolExecutionError, UpstreamError
from tests.toolkits.google_discovery import assert_documented, assert_shape
from tests.toolkits.google_drive.test_tools import (
    DOC,
    FOLDER,
    META_FIELDS,
    PDF,
    READONLY,
    SHAPED_DOC,
    SHAPED_PDF,
    TOKEN,
    Api,
    make_context,
    query,
)
from toolkits.google_drive import (
    create_folder,
    download_file,
    list_permissions,
    move_file,
    rename_file,
    share_file,
    trash_file,
    upload_file,
)

pytestmark = pytest.mark.anyio

DRIVE = "https://www.googleapis.com/auth/drive"
FILE = "https://www.googleapis.com/auth/drive.file"
METADATA = "https://www.googleapis.com/auth/drive.metadata"
METADATA_READONLY = "https://www.googleapis.com/auth/drive.metadata.readonly"
ALL = {"supportsAllDrives": "true"}

NEW_FOLDER = {
    "kind": "drive#file",
    "id": "1NewFolderId",
    "name": "Invoices 2026",
    "mimeType": FOLDER,
    "modifiedTime": "2026-11-29T23:00:00.000Z",
    "owners": [{"kind": "drive#user", "displayName": "Alice Smith", "emailAddress": "alice@example.com"}],
    "webViewLink": "https://drive.google.com/drive/folders/1NewFolderId",
}
# Permission resource (discovery schema Permission: id, type, role, emailAddress, domain, displayName, ...).
PERMISSION_BOB = {
    "kind": "drive#permission",
    "id": "01234567890123456789",
    "type": "user",
    "role": "writer",
    "emailAddress": "bob@example.com",
    "displayName": "Bob",
}
PERMISSION_LIST = {
    "kind": "drive#permissionList",
    "permissions": [
        {
            "kind": "drive#permission",
            "id": "98765432109876543210",
            "type": "user",
            "role": "owner",
            "emailAddress": "alice@example.com",
            "displayName": "Alice Smith",
            "deleted": False,
        },
        PERMISSION_BOB,
        {
            "kind": "drive#permission",
            "id": "anyoneWithLink",
            "type": "anyone",
            "role": "reader",
            "expirationTime": "2026-12-31T23:59:59.000Z",
        },
    ],
}


def test_fixtures_follow_the_discovery_schemas() -> None:
    for fixture, schema in ((NEW_FOLDER, "File"), (PERMISSION_BOB, "Permission"), (PERMISSION_LIST, "PermissionList")):
        assert_shape(fixture, "drive", schema)


async def test_create_folder_posts_the_folder_metadata() -> None:
    api = Api({"/files": httpx2.Response(200, json=NEW_FOLDER)})
    result = await create_folder(make_context(api, (FILE,)), name=" Invoices 2026 ", parent_id="root")
    request = api.requests[0]
    assert_documented(request, "drive", "files.create", (FILE,))
    assert (request.method, request.url.path, query(request)) == ("POST", "/files", {"fields": META_FIELDS, **ALL})
    assert json.loads(request.content) == {"name": "Invoices 2026", "mimeType": FOLDER, "parents": ["root"]}
    assert result["id"] == "1NewFolderId" and result["modified_time"] == "2026-11-29T23:00:00+00:00"


async def test_rename_file_patches_the_name() -> None:
    api = Api({f"/files/{DOC['id']}": httpx2.Response(200, json={**DOC, "name": "Budget 2026"})})
    result = await rename_file(make_context(api, (METADATA,)), file_id=DOC["webViewLink"], new_name="Budget 2026")
    request = api.requests[0]
    assert_documented(request, "drive", "files.update", (METADATA,))
    assert (request.method, query(request), json.loads(request.content)) == (
        "PATCH",
        {"fields": META_FIELDS, **ALL},
        {"name": "Budget 2026"},
    )
    assert result == {**SHAPED_DOC, "name": "Budget 2026"}


async def test_move_file_swaps_the_parents() -> None:
    def file(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET":
            return httpx2.Response(200, json={"id": "0B7_pdf_file_id", "parents": ["0AOldA", "0AOldB"]})
        return httpx2.Response(200, json={**PDF, "parents": ["1NewFolderId"]})

    api = Api({"/files/0B7_pdf_file_id": file})
    result = await move_file(make_context(api, (METADATA,)), file_id="0B7_pdf_file_id", folder_id="1NewFolderId")
    get, patch = api.requests
    assert_documented(get, "drive", "files.get", (METADATA,))
    assert_documented(patch, "drive", "files.update", (METADATA,))
    assert query(get) == {"fields": "id,parents", **ALL}
    assert query(patch) == {
        "addParents": "1NewFolderId",
        "removeParents": "0AOldA,0AOldB",
        "fields": f"{META_FIELDS},parents",
        **ALL,
    }
    assert json.loads(patch.content) == {}
    assert result == {**SHAPED_PDF, "parent_ids": ["1NewFolderId"]}


async def test_trash_file_sets_trashed() -> None:
    api = Api(
        {
            "/files/0B7_pdf_file_id": httpx2.Response(
                200, json={"id": "0B7_pdf_file_id", "name": "Invoice 42.pdf", "trashed": True}
            )
        }
    )
    result = await trash_file(make_context(api, (METADATA,)), file_id="0B7_pdf_file_id")
    assert_documented(api.requests[0], "drive", "files.update", (METADATA,))
    assert json.loads(api.requests[0].content) == {"trashed": True}
    assert query(api.requests[0]) == {"fields": "id,name,trashed", **ALL}
    assert result == {"id": "0B7_pdf_file_id", "name": "Invoice 42.pdf", "trashed": True}


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        (create_folder, {"name": "  "}, "name is empty"),
        (create_folder, {"name": "x" * 256}, "keep it to 255"),
        (create_folder, {"name": "ok", "parent_id": "../x"}, "or 'root' for My Drive"),
        (rename_file, {"file_id": "abc", "new_name": ""}, "new_name is empty"),
        (move_file, {"file_id": "abc", "folder_id": "abc"}, "folder_id is the file itself"),
        (trash_file, {"file_id": "a b"}, "is not a Google Drive file id"),
        (share_file, {"file_id": "abc", "emails": []}, "emails is empty"),
        (share_file, {"file_id": "abc", "emails": ["bob"]}, "is not an email address"),
        (share_file, {"file_id": "abc", "emails": ["b@example.com"], "role": "owner"}, "not one of reader, commenter"),
        (share_file, {"file_id": "abc", "emails": [f"u{i}@example.com" for i in range(11)]}, "at most 10"),
        (
            share_file,
            {"file_id": "abc", "emails": ["b@example.com"], "notify": False, "message": "hi"},
            "set notify to true",
        ),
        (upload_file, {"name": "a.txt", "content": "x", "mime_type": "plain"}, "is not a file MIME type"),
        (upload_file, {"name": "a.txt", "content": "x" * (5 * 1024 * 1024 + 1)}, "upload at most"),
        (download_file, {"file_id": ""}, "is not a Google Drive file id"),
    ],
)
async def test_bad_input_is_refused_before_any_request(tool: Any, arguments: dict[str, Any], message: str) -> None:
    api = Api({})
    with pytest.raises(ToolExecutionError, match=message):
        await tool(make_context(api, (DRIVE,)), **arguments)
    assert api.requests == []


async def test_share_file_creates_one_permission_per_address() -> None:
    api = Api(
        {
            "/files/abc/permissions": lambda r: httpx2.Response(
                200, json={**PERMISSION_BOB, "emailAddress": json.loads(r.content)["emailAddress"]}
            )
        }
    )
    result = await share_file(
        make_context(api, (DRIVE,)),
        file_id="abc",
        emails=["bob@example.com", "cy@example.com"],
        role="writer",
        message="Have a look",
    )
    assert len(api.requests) == 2
    for request, address in zip(api.requests, ["bob@example.com", "cy@example.com"], strict=True):
        assert_documented(request, "drive", "permissions.create", (DRIVE,))
        assert request.method == "POST"
        assert query(request) == {
            "fields": "id,type,role,emailAddress,domain,displayName,deleted,expirationTime",
            "sendNotificationEmail": "true",
            "emailMessage": "Have a look",
            **ALL,
        }
        assert json.loads(request.content) == {"type": "user", "role": "writer", "emailAddress": address}
    assert result["file_id"] == "abc"
    assert [p["email"] for p in result["permissions"]] == ["bob@example.com", "cy@example.com"]


async def test_list_permissions_shapes_each_grant() -> None:
    api = Api({"/files/abc/permissions": httpx2.Response(200, json=PERMISSION_LIST)})
    result = await list_permissions(make_context(api, (METADATA_READONLY,)), file_id="abc")
    assert_documented(api.requests[0], "drive", "permissions.list", (METADATA_READONLY,))
    assert query(api.requests[0]) == {
        "pageSize": "100",
        "fields": "nextPageToken,permissions(id,type,role,emailAddress,domain,displayName,deleted,expirationTime)",
        **ALL,
    }
    assert result["count"] == 3 and result["has_more"] is False
    assert result["permissions"][2] == {
        "id": "anyoneWithLink",
        "type": "anyone",
        "role": "reader",
        "email": None,
        "domain": None,
        "name": None,
        "expiration_time": "2026-12-31T23:59:59+00:00",
    }


async def test_upload_file_sends_a_multipart_related_body_to_the_upload_path() -> None:
    api = Api({"/upload/files": httpx2.Response(200, json={**DOC, "name": "notes.md"})})
    result = await upload_file(
        make_context(api, (FILE,)),
        name="notes.md",
        content="# Notes\ncafé",
        mime_type="text/markdown",
        parent_id="1NewFolderId",
        as_google_doc=True,
    )
    request = api.requests[0]
    assert_documented(request, "drive", "files.create", (FILE,))
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert query(request) == {"uploadType": "multipart", "fields": META_FIELDS, **ALL}
    boundary = re.fullmatch(r"multipart/related; boundary=(\S+)", request.headers["content-type"]).group(1)
    parts = request.content.split(f"--{boundary}".encode())
    assert parts[0] == b"" and parts[-1] == b"--\r\n"
    meta_head, meta_body = parts[1].split(b"\r\n\r\n", 1)
    assert b"Content-Type: application/json; charset=UTF-8" in meta_head
    assert json.loads(meta_body) == {
        "name": "notes.md",
        "parents": ["1NewFolderId"],
        "mimeType": "application/vnd.google-apps.document",
    }
    media_head, media_body = parts[2].split(b"\r\n\r\n", 1)
    assert b"Content-Type: text/markdown; charset=UTF-8" in media_head
    assert media_body == "# Notes\ncafé\r\n".encode()
    assert result["name"] == "notes.md"


async def test_download_file_returns_bytes_as_base64() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
    meta = {**PDF, "id": "img1", "name": "logo.png", "mimeType": "image/png", "size": str(len(png))}
    api = Api(
        {
            "/files/img1": lambda r: (
                httpx2.Response(200, content=png)
                if r.url.params.get("alt") == "media"
                else httpx2.Response(200, json=meta)
            )
        }
    )
    result = await download_file(make_context(api, (READONLY,)), file_id="img1")
    assert_documented(api.requests[0], "drive", "files.get", (READONLY,))
    assert_documented(api.requests[1], "drive", "files.get", (READONLY,))
    assert query(api.requests[1]) == {"alt": "media", **ALL}
    assert base64.b64decode(result["content_base64"]) == png
    assert (result["content_mime_type"], result["size"], result["file"]["name"]) == ("image/png", len(png), "logo.png")


async def test_download_file_exports_a_google_doc_in_the_asked_format() -> None:
    api = Api(
        {
            f"/files/{DOC['id']}": httpx2.Response(200, json=DOC),
            f"/files/{DOC['id']}/export": httpx2.Response(200, content=b"PK\x03\x04docx"),
        }
    )
    result = await download_file(make_context(api, (READONLY,)), file_id=DOC["id"], export_format="DOCX")
    assert_documented(api.requests[1], "drive", "files.export", (READONLY,))
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert query(api.requests[1]) == {"mimeType": docx}
    assert result["content_mime_type"] == docx and base64.b64decode(result["content_base64"]) == b"PK\x03\x04docx"


@pytest.mark.parametrize(
    ("meta", "arguments", "message"),
    [
        (DOC, {"export_format": "xlsx"}, "give one of pdf, docx"),
        (PDF, {"export_format": "pdf"}, "only applies to Google Docs"),
        ({**PDF, "size": str(2 * 1024 * 1024)}, {}, "over the 1048576 bytes"),
        ({**DOC, "mimeType": FOLDER}, {}, "is a folder"),
        ({**DOC, "mimeType": "application/vnd.google-apps.form"}, {}, "which Drive cannot download"),
    ],
)
async def test_download_file_refuses_what_it_cannot_return_after_reading_the_metadata(
    meta: dict[str, Any], arguments: dict[str, Any], message: str
) -> None:
    api = Api({"/files/f1": httpx2.Response(200, json=meta)})
    with pytest.raises(ToolExecutionError, match=message):
        await download_file(make_context(api, (READONLY,)), file_id="f1", **arguments)
    assert len(api.requests) == 1


async def test_download_file_refuses_an_export_over_the_limit() -> None:
    api = Api(
        {
            f"/files/{DOC['id']}": httpx2.Response(200, json=DOC),
            f"/files/{DOC['id']}/export": httpx2.Response(200, content=b"x" * (1024 * 1024 + 1)),
        }
    )
    with pytest.raises(ToolExecutionError, match="is over the 1048576 bytes"):
        await download_file(make_context(api, (READONLY,)), file_id=DOC["id"])


async def test_upstream_errors_name_the_file() -> None:
    with pytest.raises(UpstreamError, match="the Drive file nope42 was not found"):
        await rename_file(make_context(Api({}), (METADATA,)), file_id="nope42", new_name="x")
    api = Api({"/files/abc/permissions": httpx2.Response(403, json={"error": {"code": 403, "message": "no"}})})
    with pytest.raises(UpstreamError, match="refused access to sharing the Drive file abc"):
        await share_file(make_context(api, (DRIVE,)), file_id="abc", emails=["bob@example.com"])
