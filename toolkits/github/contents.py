"""GitHub tools about files: read a file or folder, create or update a file with a commit.

Reference: https://docs.github.com/en/rest/repos/contents?apiVersion=2022-11-28 (`#/components/schemas/
content-directory`, `content-file`, `content-symlink`, `content-submodule`, `file-commit`). Files of 1-100 MB
come back without their content (`encoding: "none"`); larger ones are refused by the API.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from mcp_server import ACTS, READS, ToolContext, ToolExecutionError, pick, tool
from toolkits.github.checks import check_branch, check_path, check_sha, check_text, quote_path
from toolkits.github.client import GitHubAPI, Repository
from toolkits.github.repositories import Owner, Repo
from toolkits.github.scopes import PRIVATE_REPOS, PUBLIC_READ

__all__ = ["create_or_update_file", "get_file_contents"]

MAX_TEXT_CHARS = 100_000  # of a file's text returned to the model
MAX_WRITE_BYTES = 1_000_000  # of a file written through this tool (the API allows more; a model rarely should)
MAX_ENTRIES = 1000  # GitHub lists at most 1,000 entries of a folder


def _file_text(data: dict[str, Any]) -> dict[str, Any]:
    """A file's decoded text, or why there is none (too large for this endpoint, or not text)."""
    if data.get("encoding") != "base64" or not isinstance(data.get("content"), str):
        return {"text": None, "note": "GitHub does not return the content of files over 1 MB through this API."}
    try:
        raw = base64.b64decode(data["content"], validate=False)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return {"text": None, "note": "The file is not UTF-8 text (binary content is not returned)."}
    truncated = len(text) > MAX_TEXT_CHARS
    return {"text": text[:MAX_TEXT_CHARS], "truncated": truncated}


@tool(requires_auth=PUBLIC_READ, title="Read a file or folder in a repository", hints=READS)
async def get_file_contents(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    path: Annotated[str, "The file or folder, from the repository root, e.g. 'src/app.py'; '' for the root."],
    ref: Annotated[
        str | None, "A branch, tag or commit SHA to read from, e.g. 'main'; omit for the default branch."
    ] = None,
) -> dict[str, Any]:
    """Read a file's text, or list a folder, in a GitHub repository.

    For a file: `type` "file", `path`, `sha` (pass it to GitHub_CreateOrUpdateFile to change the file), `size`,
    html_url and `text` (UTF-8; at most 100,000 characters, `truncated` says when cut; none for binary files or
    files over 1 MB). For a folder: `type` "dir" and `entries` (name, path, type: file, dir, symlink or
    submodule, size, sha).
    """
    repository = Repository(context, owner, repo)
    file_path = check_path(path, allow_root=True)
    params: dict[str, Any] = {}
    if ref is not None:
        if not isinstance(ref, str) or not ref.strip():
            raise ToolExecutionError("ref is empty: give a branch, tag or commit SHA, e.g. 'main', or omit it.")
        params["ref"] = check_branch(ref, "ref")
    what = repository.hint(f"the path {file_path or '/'!r} in {repository.full_name}" + (f" at {ref}" if ref else ""))
    # an object for a file, an array for a folder
    data = await repository.get_any(f"contents/{quote_path(file_path)}", params, what=what)
    if isinstance(data, list):
        entries = [
            {
                **pick(e, "name", "path", "type", "size", "sha"),
            }
            for e in data[:MAX_ENTRIES]
            if isinstance(e, dict)
        ]
        return {"type": "dir", "path": file_path, "entries": entries, "count": len(entries)}
    if not isinstance(data, dict):
        raise ToolExecutionError(f"GitHub answered {what} with an unexpected response.")
    result: dict[str, Any] = {
        **pick(data, "type", "path", "name", "sha", "size", "html_url"),
    }
    if data.get("type") == "file":
        result.update(_file_text(data))
    elif data.get("type") == "symlink":
        result["target"] = data.get("target")
    elif data.get("type") == "submodule":
        result["submodule_git_url"] = data.get("submodule_git_url")
    return result


@tool(requires_auth=PRIVATE_REPOS, title="Create or update a file (commit)", hints=ACTS)
async def create_or_update_file(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    path: Annotated[str, "The file, from the repository root, e.g. 'docs/usage.md'."],
    content: Annotated[str, "The file's whole new text (UTF-8); it replaces the old content."],
    message: Annotated[str, "The commit message, e.g. 'Document the --verbose flag'."],
    branch: Annotated[str | None, "The branch to commit to, e.g. 'docs/usage'; omit for the default branch."] = None,
    sha: Annotated[
        str | None,
        "To update an existing file: its current blob `sha` from GitHub_GetFileContents; omit to create a file.",
    ] = None,
) -> dict[str, Any]:
    """Commit a file to a repository: create it, or replace an existing file's content (give its current `sha`).

    Returns `created` (true for a new file), the file's `path` and new `sha`, and the commit's `commit_sha`,
    `commit_message` and html_url. Files under .github/workflows/ also need the `workflow` scope, which this
    tool does not ask for. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    file_path = check_path(path)
    if not isinstance(content, str):
        raise ToolExecutionError("content must be the file's text.")
    encoded = content.encode("utf-8")
    if len(encoded) > MAX_WRITE_BYTES:
        raise ToolExecutionError(
            f"content is {len(encoded)} bytes long; this tool writes files of at most {MAX_WRITE_BYTES} bytes."
        )
    check_text(message, "message", maximum=MAX_WRITE_BYTES, example="Document the --verbose flag")
    payload: dict[str, Any] = {"message": message, "content": base64.b64encode(encoded).decode("ascii")}
    if branch is not None:
        payload["branch"] = check_branch(branch)
    if sha is not None:
        payload["sha"] = check_sha(sha, "sha")
    where = f"{file_path!r} in {repository.full_name}" + (f" on {payload['branch']}" if branch else "")
    stale = f"GitHub refused to write {where} (HTTP {{status}}): " + (
        "its sha is no longer the file's current one; read it again with GitHub_GetFileContents."
        if sha is not None
        else "the file already exists; pass its current sha from GitHub_GetFileContents to replace it."
    )
    response = await GitHubAPI(context).send(
        "PUT",
        repository.path(f"contents/{quote_path(file_path)}"),
        json=payload,
        what=repository.hint(
            f"the repository {repository.full_name}" + (f" or its branch {branch!r}" if branch else "")
        ),
        refusals={409: stale.format(status=409), 422: stale.format(status=422)},
    )
    answer = response.json()
    data = answer if isinstance(answer, dict) else {}
    file = data.get("content") or {}
    commit = data.get("commit") or {}
    return {
        "created": response.status_code == 201,
        **pick(file, "path", "sha", "html_url"),
        "commit_sha": commit.get("sha"),
        "commit_message": commit.get("message"),
        "commit_html_url": commit.get("html_url"),
    }
