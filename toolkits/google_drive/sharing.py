"""The GoogleDrive sharing tools: share a file with people, list who has access."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ACTS, READS, ToolContext, ToolExecutionError, email_addresses, iso_datetime, pick, tool
from mcp_server.auth import Google
from toolkits.google_drive.client import SUPPORTS_ALL_DRIVES, check_file_id, request_json

__all__ = ["list_permissions", "share_file"]

# permissions.create: the discovery document lists drive and drive.file; drive.file would only reach files
# this app created, so sharing any of the user's files needs drive.
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
METADATA_READONLY_SCOPE = "https://www.googleapis.com/auth/drive.metadata.readonly"

ROLES = ("reader", "commenter", "writer")
MAX_RECIPIENTS = 10
MAX_MESSAGE_LENGTH = 2000
PERMISSION_FIELDS = "id,type,role,emailAddress,domain,displayName,deleted,expirationTime"
# permissions.list: pageSize 1..100; a file rarely has more, and the pages are bounded anyway.
PAGE_SIZE = 100
MAX_PAGES = 5


def _shape_permission(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        **pick(raw, "id", "type", "role"),
        "email": raw.get("emailAddress"),
        "domain": raw.get("domain"),
        "name": raw.get("displayName"),
        "expiration_time": iso_datetime(raw.get("expirationTime")),
    }


@tool(requires_auth=Google(scopes=[DRIVE_SCOPE]), title="Share a Drive file", hints=ACTS)
async def share_file(
    context: ToolContext,
    file_id: Annotated[str, "The id (or Drive/Docs URL) of the file or folder to share."],
    emails: Annotated[list[str], "The people (or Google Groups) to share with, 1 to 10 email addresses."],
    role: Annotated[str, "What they may do: 'reader', 'commenter' or 'writer'."] = "reader",
    notify: Annotated[bool, "Email them a notification with a link to the file."] = True,
    message: Annotated[str | None, "A plain-text note for the notification email (only with notify)."] = None,
) -> dict[str, Any]:
    """Share a file or folder of the user's Google Drive with people by email address.

    This gives other people access to the user's data: confirm with the user first. Sharing a folder shares
    everything in it. Returns {"file_id", "permissions": [{id, type, role, email, domain, name,
    expiration_time}]}, one per address; ListPermissions shows every grant.
    """
    fid = check_file_id(file_id)
    addresses = email_addresses(emails, name="email")
    if not addresses:
        raise ToolExecutionError("emails is empty; give at least one email address to share with.")
    if len(addresses) > MAX_RECIPIENTS:
        raise ToolExecutionError(
            f"emails lists {len(addresses)} addresses; share with at most {MAX_RECIPIENTS} at once."
        )
    if role not in ROLES:
        raise ToolExecutionError(f"role {role!r} is not one of {', '.join(ROLES)}.")
    note = (message or "").strip()
    if note and not notify:
        raise ToolExecutionError("message is only sent with the notification email; set notify to true or drop it.")
    if len(note) > MAX_MESSAGE_LENGTH:
        raise ToolExecutionError(f"message is {len(note)} characters long; keep it to {MAX_MESSAGE_LENGTH} at most.")
    params: dict[str, Any] = {
        "fields": PERMISSION_FIELDS,
        "sendNotificationEmail": "true" if notify else "false",
        **SUPPORTS_ALL_DRIVES,
    }
    if note:
        params["emailMessage"] = note
    granted = []
    for address in addresses:
        created = await request_json(
            context,
            "POST",
            f"/files/{fid}/permissions",
            params,
            what=f"sharing the Drive file {fid}",
            json={"type": "user", "role": role, "emailAddress": address},
        )
        granted.append(_shape_permission(created))
    return {"file_id": fid, "permissions": granted}


@tool(requires_auth=Google(scopes=[METADATA_READONLY_SCOPE]), title="List who can access a Drive file", hints=READS)
async def list_permissions(
    context: ToolContext,
    file_id: Annotated[str, "The id (or Drive/Docs URL) of the file or folder."],
) -> dict[str, Any]:
    """List who has access to a file or folder of the user's Google Drive, and with which role.

    Returns {"file_id", "permissions": [{id, type (user/group/domain/anyone), role (owner/organizer/
    fileOrganizer/writer/commenter/reader), email, domain, name, expiration_time}], "count", "has_more"}.
    """
    fid = check_file_id(file_id)
    permissions: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {
            "pageSize": PAGE_SIZE,
            "fields": f"nextPageToken,permissions({PERMISSION_FIELDS})",
            **SUPPORTS_ALL_DRIVES,
        }
        if token:
            params["pageToken"] = token
        page = await request_json(context, "GET", f"/files/{fid}/permissions", params, what=f"the Drive file {fid}")
        permissions.extend(
            _shape_permission(p) for p in page.get("permissions") or [] if isinstance(p, dict) and not p.get("deleted")
        )
        token = page.get("nextPageToken") or None
        if token is None:
            break
    return {"file_id": fid, "permissions": permissions, "count": len(permissions), "has_more": token is not None}
