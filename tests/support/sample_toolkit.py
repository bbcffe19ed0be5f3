"""A toolkit for the gate's tests: each tool shows what the gate handed it."""

from __future__ import annotations

from typing import Annotated, Any

from mcp_server import ToolContext, ToolExecutionError, UpstreamAuthError, tool
from mcp_server.auth import OAuth2

TOOLKIT_NAME = "Sample"

REJECTED_TOKENS: set[str] = set()  # tokens that `UseToken` treats as refused by the "provider" (401)


@tool(requires_auth=OAuth2(id="demo", scopes=["profile"]))
async def show_token(context: ToolContext, note: Annotated[str, "Echoed back"] = "") -> dict[str, Any]:
    """Show which user and token the gate gave this call."""
    assert context.authorization is not None
    return {
        "user_id": context.user_id,
        "token": context.get_auth_token_or_empty(),
        "scopes": list(context.authorization.scopes),
        "user_info": dict(context.authorization.user_info),
        "note": note,
    }


@tool(requires_auth=OAuth2(id="demo", scopes=["profile", "email"]))
def needs_more_scopes(context: ToolContext) -> str:
    """A sync tool that needs a scope beyond `profile`."""
    return context.get_auth_token_or_empty()


@tool(requires_auth=OAuth2(id="demo", scopes=["profile"]))
async def use_token(context: ToolContext) -> str:
    """Fail with 401 while the token is in REJECTED_TOKENS, like a provider API would."""
    token = context.get_auth_token_or_empty()
    if token in REJECTED_TOKENS:
        raise UpstreamAuthError()
    return token


@tool(requires_secrets=["SAMPLE_KEY"], title="Read the secret", read_only=True, open_world=False)
def read_secret(context: ToolContext) -> int:
    """Return the length of the secret (never the secret)."""
    return len(context.get_secret("SAMPLE_KEY"))


@tool
def undeclared_secret(context: ToolContext) -> str:
    """Ask for a secret the tool did not declare."""
    return context.get_secret("OTHER")


@tool
async def fails(kind: str) -> str:
    """Fail in the way asked: "expected" or "crash"."""
    if kind == "expected":
        raise ToolExecutionError("The thing you asked for does not exist.")
    raise RuntimeError("internal detail /etc/secret-path")


@tool(requires_auth=OAuth2(id="google", scopes=["https://www.googleapis.com/auth/gmail.readonly"]))
def google_profile(context: ToolContext) -> str:
    """Needs Google, which the gate's tests never configure."""
    return context.user_id


@tool
async def environment(context: ToolContext) -> dict[str, Any]:
    """Show the toolkit settings and whether the shared HTTP client came along."""
    return {"api_base_url": context.get_setting("api_base_url", "default"), "has_http": context.http is not None}


DELETED: list[str] = []  # what delete_note really did, for the approval tests


@tool(destructive=True, title="Delete a note")
def delete_note(note: Annotated[str, "The note's name"], reason: str = "") -> str:
    """Delete a note for good (a destructive tool: approval policies ask before it runs)."""
    DELETED.append(note)
    return f"deleted {note}"


@tool(read_only=True)
def count_notes() -> int:
    """Count the notes (read-only: never asked for approval)."""
    return 3
