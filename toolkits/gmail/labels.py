"""The Gmail tools that file email: change an email's labels, archive it, create a label."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ADDS, SETS, ToolContext, ToolExecutionError, tool
from mcp_server.auth import Google
from toolkits.gmail import client
from toolkits.gmail.client import EmailId
from toolkits.gmail.scopes import LABELS, MODIFY

MAX_LABEL_CHANGES = 20
MAX_LABEL_NAME = 225  # Gmail's limit on label names


def _names(values: list[str] | None, argument: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not all(isinstance(v, str) and v.strip() for v in values):
        raise ToolExecutionError(f"{argument} must be a list of label names or ids, e.g. ['Work', 'STARRED'].")
    return [v.strip() for v in values]


async def _label_ids(context: ToolContext, names: list[str]) -> list[str]:
    """Each label name (any letter case) or id turned into its id, from users.labels.list."""
    data = await client.GmailAPI(context).request("GET", "/labels", what="the user's labels")
    known: dict[str, str] = {}
    for label in data.get("labels") or []:
        if isinstance(label, dict) and label.get("id"):
            known[str(label["id"]).lower()] = str(label["id"])
            known.setdefault(str(label.get("name", "")).lower(), str(label["id"]))
    missing = [n for n in names if n.lower() not in known]
    if missing:
        raise ToolExecutionError(
            f"No label named {', '.join(repr(m) for m in missing)}; see ListLabels for the user's labels, or "
            f"create one with CreateLabel."
        )
    return [known[n.lower()] for n in names]


async def _modify(context: ToolContext, email_id: str, add: list[str], remove: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if add:
        body["addLabelIds"] = add
    if remove:
        body["removeLabelIds"] = remove
    message = await client.GmailAPI(context).request(
        "POST", f"/messages/{email_id}/modify", what=f"the message {email_id}", json=body
    )
    return {
        "id": message.get("id", email_id),
        "thread_id": message.get("threadId"),
        "label_ids": list(message.get("labelIds") or []),
    }


@tool(requires_auth=Google(scopes=[MODIFY]), title="Change an email's labels", hints=SETS)
async def change_email_labels(
    context: ToolContext,
    email_id: EmailId,
    add_labels: Annotated[
        list[str] | None, "Label names or ids to add, e.g. ['Work'], ['STARRED'], ['IMPORTANT']."
    ] = None,
    remove_labels: Annotated[
        list[str] | None, "Label names or ids to remove, e.g. ['UNREAD'] to mark it read, ['INBOX'] to archive."
    ] = None,
) -> dict[str, Any]:
    """Add labels to and remove labels from an email: file it, star it, mark it read or unread, archive it.

    Labels are named as ListLabels shows them (user labels by name, system ones such as INBOX, UNREAD,
    STARRED, IMPORTANT by id). Returns the email's `id`, `thread_id` and its `label_ids` after the change.
    """
    email_id = client.check_id(email_id, "email_id", "ListEmails or SearchEmails")
    add = _names(add_labels, "add_labels")
    remove = _names(remove_labels, "remove_labels")
    if not add and not remove:
        raise ToolExecutionError("Give add_labels, remove_labels or both; nothing would change.")
    if len(add) + len(remove) > MAX_LABEL_CHANGES:
        raise ToolExecutionError(f"Change at most {MAX_LABEL_CHANGES} labels at once.")
    both = {n.lower() for n in add} & {n.lower() for n in remove}
    if both:
        raise ToolExecutionError(f"{', '.join(sorted(both))} is both added and removed; keep it in one list only.")
    ids = await _label_ids(context, add + remove)
    return await _modify(context, email_id, ids[: len(add)], ids[len(add) :])


@tool(requires_auth=Google(scopes=[MODIFY]), title="Archive an email", hints=SETS)
async def archive_email(
    context: ToolContext,
    email_id: Annotated[str, "The id of the email to archive, as ListEmails or SearchEmails returned it."],
) -> dict[str, Any]:
    """Archive an email: take it out of the inbox, keeping it (and its labels) in All Mail.

    Returns the email's `id`, `thread_id` and its `label_ids` after the change.
    """
    email_id = client.check_id(email_id, "email_id", "ListEmails or SearchEmails")
    return await _modify(context, email_id, [], ["INBOX"])


@tool(requires_auth=Google(scopes=[LABELS]), title="Create a Gmail label", hints=ADDS)
async def create_label(
    context: ToolContext,
    name: Annotated[str, "The new label's name, e.g. 'Receipts' or 'Projects/Apollo' (a slash nests it)."],
) -> dict[str, Any]:
    """Create a label in the user's Gmail, shown in the label list and on messages.

    Use ChangeEmailLabels to put emails under it. Returns {id, name, type}.
    """
    title = name.strip() if isinstance(name, str) else ""
    if not title:
        raise ToolExecutionError("name is empty; give the label a name, e.g. 'Receipts'.")
    if len(title) > MAX_LABEL_NAME:
        raise ToolExecutionError(f"name is {len(title)} characters long; keep it to {MAX_LABEL_NAME} at most.")
    label = await client.GmailAPI(context).request(
        "POST",
        "/labels",
        what=f"creating the label {title!r}",
        json={"name": title, "labelListVisibility": "labelShow", "messageListVisibility": "show"},
    )
    return {"id": label.get("id"), "name": label.get("name", title), "type": label.get("type")}
