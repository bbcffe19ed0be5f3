"""The Slack tools about people: list the workspace's members, look one up, and who the user is."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import READS, ToolContext, email_address, tool
from mcp_server.auth import Slack
from toolkits.slack.client import MAX_PAGES, PAGE_SIZE, SlackAPI
from toolkits.slack.inputs import lookup_email, one_of
from toolkits.slack.inputs import user_id as checked_user_id
from toolkits.slack.shaping import shape_user


@tool(requires_auth=Slack(scopes=["users:read"]), title="List Slack users", hints=READS)
async def list_users(context: ToolContext) -> dict[str, Any]:
    """List the people (and bots) in the user's Slack workspace, leaving out deactivated accounts.

    Returns each member's id (for Slack_GetUserInfo or mentions as <@id>), name, real_name, display_name,
    timezone and whether it is a bot or an admin. `truncated` is true when the workspace had more members than
    were fetched.
    """
    raw, truncated = await SlackAPI(context).paginate(
        "users.list", "members", what="the list of users", max_items=PAGE_SIZE * MAX_PAGES
    )
    users = [shape_user(u) for u in raw if not u.get("deleted")]
    return {"users": users, "count": len(users), "truncated": truncated}


@tool(requires_auth=Slack(scopes=["users:read", "users:read.email"]), title="Look up a Slack user", hints=READS)
async def get_user_info(
    context: ToolContext,
    user_id: Annotated[str | None, "The Slack user id, e.g. 'U012AB3CD' (as seen in messages)."] = None,
    email: Annotated[str | None, "The person's email address, instead of user_id."] = None,
) -> dict[str, Any]:
    """Look up one Slack user by id or by email address.

    Give exactly one of user_id or email. Returns the user's id, name, real_name, display_name, email, title,
    timezone and whether the account is a bot, an admin or deactivated.
    """
    target, value = one_of(user_id=user_id, email=email)
    if target == "user_id":
        uid = checked_user_id(value)
        body = await SlackAPI(context).call("users.info", what=f"the user {uid}", params={"user": uid})
        return shape_user(dict(body.get("user") or {}))
    return shape_user(await lookup_email(context, email_address(value, name="email")))


@tool(requires_auth=Slack(scopes=["users:read"]), title="Who am I on Slack", hints=READS)
async def who_am_i(context: ToolContext) -> dict[str, Any]:
    """Tell who the authorized Slack user is: their user id, names, and the workspace (team) they act in.

    Use it before acting "as me" in Slack. Returns user_id, name, real_name, display_name, email (when Slack
    shares it), timezone, team, team_id and the workspace url.
    """
    identity = await SlackAPI(context).call("auth.test", what="the user's identity", post=True)
    uid = str(identity.get("user_id") or "")
    body = await SlackAPI(context).call("users.info", what=f"the user {uid}", params={"user": uid})
    user = shape_user(dict(body.get("user") or {}))
    user.pop("id", None)
    return {
        "user_id": uid,
        **user,
        "team": identity.get("team"),
        "team_id": identity.get("team_id"),
        "url": identity.get("url"),
    }
