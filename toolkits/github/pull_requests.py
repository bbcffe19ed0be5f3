"""GitHub tools about pull requests: list, read with the changed files, open, edit, request reviewers, merge."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from mcp_server import ACTS, ADDS, OVERWRITES, READS, SETS, ToolContext, ToolExecutionError, pick, tool
from toolkits.github import shapes
from toolkits.github.checks import (
    check_branch,
    check_choice,
    check_number,
    check_optional_text,
    check_owner,
    check_sha,
    check_text,
    check_usernames,
)
from toolkits.github.client import Repository, login
from toolkits.github.issues import LIST_BODY_CHARS, MAX_BODY_CHARS, MAX_TITLE_CHARS, NewTitle, edit_payload, send_edit
from toolkits.github.repositories import Owner, Repo, default_branch
from toolkits.github.scopes import PRIVATE_REPOS, PUBLIC_READ

__all__ = [
    "create_pull_request",
    "get_pull_request",
    "list_pull_requests",
    "merge_pull_request",
    "request_reviewers",
    "send_to_pull_request",
    "update_pull_request",
]

MAX_PR_FILES = 300
# Team slugs: the team name lowercased, with anything but letters, digits, '_' and '-' turned into '-'.
_TEAM_SLUG = re.compile(r"[a-z0-9_][a-z0-9_-]{0,254}")
PullNumber = Annotated[int, "The pull request's number (shown as #1347 on GitHub)."]


async def send_to_pull_request(
    repository: Repository, number: int, tail: str, payload: dict[str, Any], *, refused: str, because: str
) -> dict[str, Any]:
    """POST `payload` to `tail` of pull request `number` (`reviews`, `comments`, `requested_reviewers`).

    GitHub answers 422 when it refuses what was sent; the message then reads "GitHub refused `refused` pull
    request #3 of owner/repo (HTTP 422): `because`", e.g. refused "the review of".
    """
    pull = f"pull request #{number} of {repository.full_name}"
    return await repository.send(
        "POST",
        f"pulls/{number}/{tail}",
        payload,
        what=repository.of(f"the pull request #{number}"),
        refusals={422: f"GitHub refused {refused} {pull} (HTTP 422): {because}"},
    )


@tool(requires_auth=PUBLIC_READ, title="List pull requests", hints=READS)
async def list_pull_requests(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    state: Annotated[
        Literal["open", "closed", "all"], "Pull request state: 'open' (default), 'closed' or 'all'."
    ] = "open",
    limit: Annotated[int, "How many pull requests to return, 1-100 (default 30)."] = 30,
) -> dict[str, Any]:
    """List a repository's pull requests, most recently created first.

    Returns `pull_requests` (number, title, state, draft, author, head and base branches, labels, requested
    reviewers, ISO 8601 times, html_url and the start of the body), `count` and `more_available`. Pass a
    `number` to GitHub_GetPullRequest for its changed files.
    """
    repository = Repository(context, owner, repo)
    check_choice(state, "state", ("open", "closed", "all"))
    return await repository.listing(
        "pulls",
        {"state": state},
        what=repository.of("the pull requests"),
        limit=limit,
        maximum=100,
        key="pull_requests",
        shape=lambda item: shapes.pull_request(item, body_chars=LIST_BODY_CHARS),
    )


@tool(requires_auth=PUBLIC_READ, title="Get a pull request with its changed files", hints=READS)
async def get_pull_request(context: ToolContext, owner: Owner, repo: Repo, pull_number: PullNumber) -> dict[str, Any]:
    """Get one pull request with its full body, merge state and the files it changes.

    Returns the pull request (number, title, state, draft, merged, mergeable, author, head/base branches,
    commits, additions, deletions, ISO 8601 times, html_url, body) and `files`: each changed file's filename,
    status (added, modified, removed, renamed, ...), additions and deletions (at most 300 files;
    `files_truncated` says when there were more).
    """
    repository = Repository(context, owner, repo)
    number = check_number(pull_number, "pull_number")
    data = await repository.get(f"pulls/{number}", what=repository.of(f"the pull request #{number}"))
    what = f"the files of pull request #{number} of {repository.full_name}"
    files, more = await repository.paginated(f"pulls/{number}/files", None, what=what, limit=MAX_PR_FILES)
    result = shapes.pull_request_details(data)
    result["files"] = [
        {
            **pick(item, "filename", "status", "additions", "deletions"),
            **({"previous_filename": item["previous_filename"]} if item.get("previous_filename") else {}),
        }
        for item in files
    ]
    result["files_truncated"] = more
    return result


def _head(value: Any) -> str:
    """`branch` or, for a branch in a fork, `user:branch`."""
    if isinstance(value, str) and ":" in value:
        user, _, branch = value.partition(":")
        return f"{check_owner(user)}:{check_branch(branch, 'head')}"
    return check_branch(value, "head")


@tool(requires_auth=PRIVATE_REPOS, title="Open a pull request", hints=ADDS)
async def create_pull_request(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    title: Annotated[str, "The pull request's title (at most 256 characters)."],
    head: Annotated[str, "The branch with the changes, e.g. 'fix/login-crash'; for a fork, 'username:branch'."],
    base: Annotated[
        str | None, "The branch to merge into, e.g. 'main'; omit for the repository's default branch."
    ] = None,
    body: Annotated[str | None, "The description in Markdown; omit for none."] = None,
    draft: Annotated[bool, "Open it as a draft (not ready for review). Default false."] = False,
) -> dict[str, Any]:
    """Open a pull request proposing to merge `head` into `base` (default: the repository's default branch).

    Returns the pull request: its `number` (for GitHub_RequestReviewers, GitHub_MergePullRequest and the
    others), html_url, head and base branches and ISO 8601 creation time. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    check_text(title, "title", maximum=MAX_TITLE_CHARS, example="Fix the crash on login")
    head_ref = _head(head)
    base_ref = check_branch(base, "base") if base is not None else None
    check_optional_text(body, "body", maximum=MAX_BODY_CHARS)
    if not isinstance(draft, bool):
        raise ToolExecutionError(f"draft {draft!r} is not valid: use true or false.")
    if base_ref is None:
        base_ref = await default_branch(repository)
    payload: dict[str, Any] = {"title": title.strip(), "head": head_ref, "base": base_ref, "draft": draft}
    if body:
        payload["body"] = body
    data = await repository.send(
        "POST",
        "pulls",
        payload,
        what=f"opening a pull request from {head_ref} into {base_ref} in {repository.full_name}",
        refusals={
            422: f"GitHub refused the pull request from {head_ref!r} into {base_ref!r} (HTTP 422): the head "
            f"branch may not exist, have no commits beyond the base, or already have an open pull "
            f"request; check with GitHub_ListBranches and GitHub_ListPullRequests."
        },
    )
    return shapes.pull_request(data)


@tool(requires_auth=PRIVATE_REPOS, title="Edit or close a pull request", hints=OVERWRITES)
async def update_pull_request(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    pull_number: PullNumber,
    title: NewTitle = None,
    body: Annotated[str | None, "A new Markdown description, replacing the old one; omit to keep it."] = None,
    state: Annotated[Literal["open", "closed"] | None, "'closed' to close without merging, 'open' to reopen."] = None,
    base: Annotated[str | None, "A new branch to merge into, e.g. 'main'; omit to keep it."] = None,
) -> dict[str, Any]:
    """Change a pull request's title, description or base branch, or close or reopen it (without merging:
    GitHub_MergePullRequest merges). Only the fields given change.

    Returns the pull request as it is now. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    number = check_number(pull_number, "pull_number")
    payload = edit_payload(title, body, state, example="Fix the crash")
    if base is not None:
        payload["base"] = check_branch(base, "base")
    fields = "title, body, state or base"
    data = await send_edit(repository, "pulls", number, payload, thing="the pull request", fields=fields)
    return shapes.pull_request(data)


@tool(requires_auth=PRIVATE_REPOS, title="Merge a pull request", hints=ACTS)
async def merge_pull_request(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    pull_number: PullNumber,
    merge_method: Annotated[
        Literal["merge", "squash", "rebase"],
        "'merge' (default: a merge commit), 'squash' (one commit) or 'rebase'; the repository must allow it.",
    ] = "merge",
    commit_title: Annotated[str | None, "Title of the merge or squash commit; omit for GitHub's default."] = None,
    commit_message: Annotated[str | None, "Extra detail for the commit message; omit for GitHub's default."] = None,
    expected_head_sha: Annotated[
        str | None, "Merge only if the pull request's head is still this commit SHA (from GitHub_GetPullRequest)."
    ] = None,
) -> dict[str, Any]:
    """Merge a pull request into its base branch. This cannot be undone from here.

    Returns `merged`, the merge commit `sha` and GitHub's `message`. GitHub refuses when the pull request is
    not mergeable (conflicts, required reviews or checks missing, a draft) or when its head moved past
    `expected_head_sha`. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    number = check_number(pull_number, "pull_number")
    payload: dict[str, Any] = {
        "merge_method": check_choice(merge_method, "merge_method", ("merge", "squash", "rebase"))
    }
    if commit_title is not None:
        payload["commit_title"] = check_text(commit_title, "commit_title", maximum=MAX_TITLE_CHARS, example="Fix")
    if commit_message is not None:
        payload["commit_message"] = check_optional_text(commit_message, "commit_message", maximum=MAX_BODY_CHARS)
    if expected_head_sha is not None:
        payload["sha"] = check_sha(expected_head_sha, "expected_head_sha")
    thing = f"the pull request #{number} of {repository.full_name}"
    data = await repository.send(
        "PUT",
        f"pulls/{number}/merge",
        payload,
        what=repository.of(f"the pull request #{number}"),
        refusals={
            405: f"GitHub says {thing} cannot be merged now (HTTP 405): it may have conflicts, miss required "
            f"reviews or checks, be a draft, or the repository may not allow {merge_method!r} merges.",
            409: f"GitHub did not merge {thing} (HTTP 409): its head is no longer {expected_head_sha!r}; read it "
            f"again with GitHub_GetPullRequest.",
            422: f"GitHub refused to merge {thing} (HTTP 422): check merge_method and the commit title.",
        },
    )
    return {"number": number, "merged": data.get("merged"), "sha": data.get("sha"), "message": data.get("message")}


def _team_slugs(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list):
        raise ToolExecutionError("team_reviewers must be a list of team slugs, e.g. ['justice-league'].")
    for slug in value:
        if not isinstance(slug, str) or not _TEAM_SLUG.fullmatch(slug):
            raise ToolExecutionError(
                f"team_reviewers holds {slug!r}, which is not a team slug: give the team's slug without the "
                f"organization, lowercase with '-' for spaces, e.g. 'justice-league'."
            )
    return list(value)


@tool(requires_auth=PRIVATE_REPOS, title="Request reviewers for a pull request", hints=SETS)
async def request_reviewers(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    pull_number: PullNumber,
    reviewers: Annotated[list[str] | None, "GitHub usernames to ask for a review, e.g. ['octocat']."] = None,
    team_reviewers: Annotated[
        list[str] | None, "Team slugs of the repository's organization to ask, e.g. ['justice-league']."
    ] = None,
) -> dict[str, Any]:
    """Ask people or teams to review a pull request (they are notified).

    Returns the pull request's `number`, html_url and everyone now requested (`requested_reviewers`,
    `requested_teams`). Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    number = check_number(pull_number, "pull_number")
    users = check_usernames(reviewers, "reviewers")
    teams = _team_slugs(team_reviewers)
    if not users and not teams:
        raise ToolExecutionError("Give at least one reviewer (a GitHub username) or team_reviewer (a team slug).")
    payload: dict[str, Any] = {}
    if users:
        payload["reviewers"] = users
    if teams:
        payload["team_reviewers"] = teams
    data = await send_to_pull_request(
        repository,
        number,
        "requested_reviewers",
        payload,
        refused="a reviewer for",
        because="each must be a collaborator on the repository, and the author cannot review their own.",
    )
    return {
        **pick(data, "number", "html_url"),
        "requested_reviewers": [login(user) for user in data.get("requested_reviewers") or []],
        "requested_teams": [team.get("slug") for team in data.get("requested_teams") or [] if isinstance(team, dict)],
    }
