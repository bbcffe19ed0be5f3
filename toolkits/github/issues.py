"""GitHub tools about issues: list, read, open, edit or close, and comment."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from mcp_server import ADDS, OVERWRITES, READS, ToolContext, ToolExecutionError, tool
from toolkits.github import shapes
from toolkits.github.checks import (
    check_choice,
    check_labels,
    check_number,
    check_optional_text,
    check_text,
    check_usernames,
)
from toolkits.github.client import Repository
from toolkits.github.repositories import Owner, Repo
from toolkits.github.scopes import PRIVATE_REPOS, PUBLIC_READ

__all__ = [
    "LIST_BODY_CHARS",
    "MAX_BODY_CHARS",
    "MAX_TITLE_CHARS",
    "comment_on_issue",
    "create_issue",
    "get_issue",
    "list_issue_comments",
    "list_issues",
    "send_edit",
    "update_issue",
]

LIST_BODY_CHARS = 500
MAX_BODY_CHARS = 65536  # GitHub's limit for issue, pull request and comment bodies
MAX_TITLE_CHARS = 256
IssueNumber = Annotated[int, "The issue's number (shown as #1347 on GitHub)."]


#: Parameters several of these tools take alike.
NewTitle = Annotated[str | None, "A new title; omit to keep it."]
IssueOrPullNumber = Annotated[int, "The issue's or pull request's number (shown as #1347 on GitHub)."]
CommentBody = Annotated[str, "The comment in Markdown."]


@tool(requires_auth=PUBLIC_READ, title="List issues", hints=READS)
async def list_issues(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    state: Annotated[Literal["open", "closed", "all"], "Issue state: 'open' (default), 'closed' or 'all'."] = "open",
    labels: Annotated[
        list[str] | None, "Only issues carrying ALL these labels, e.g. ['bug', 'ui']; omit for any labels."
    ] = None,
    limit: Annotated[int, "How many issues to return, 1-100 (default 30)."] = 30,
) -> dict[str, Any]:
    """List a repository's issues, most recently created first, without pull requests (GitHub's issues API
    returns both; use GitHub_ListPullRequests for those).

    Returns `issues` (number, title, state, author, labels, assignees, comment count, ISO 8601 times,
    html_url and the start of the Markdown body), `count` and `more_available`. Pass an issue's `number` to
    GitHub_GetIssue for its full body or to GitHub_CommentOnIssue.
    """
    repository = Repository(context, owner, repo)
    check_choice(state, "state", ("open", "closed", "all"))
    wanted = check_labels(labels)
    params: dict[str, Any] = {"state": state}
    if wanted:
        params["labels"] = ",".join(wanted)
    return await repository.listing(
        "issues",
        params,
        what=repository.of("the issues"),
        limit=limit,
        maximum=100,
        key="issues",
        shape=lambda item: shapes.issue(item, body_chars=LIST_BODY_CHARS),
        keep=lambda item: isinstance(item, dict) and "pull_request" not in item,
    )


@tool(requires_auth=PUBLIC_READ, title="Get an issue", hints=READS)
async def get_issue(context: ToolContext, owner: Owner, repo: Repo, issue_number: IssueNumber) -> dict[str, Any]:
    """Get one issue with its full Markdown body, labels, assignees, milestone, state and ISO 8601 times.

    `is_pull_request` is true when the number belongs to a pull request (use GitHub_GetPullRequest for its
    changes). Its comments: GitHub_ListIssueComments.
    """
    repository = Repository(context, owner, repo)
    number = check_number(issue_number, "issue_number")
    data = await repository.get(f"issues/{number}", what=repository.of(f"the issue #{number}"))
    return shapes.issue(data)


@tool(requires_auth=PRIVATE_REPOS, title="Open an issue", hints=ADDS)
async def create_issue(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    title: Annotated[str, "The issue's title (at most 256 characters)."],
    body: Annotated[str | None, "The issue's description in Markdown; omit for none."] = None,
    labels: Annotated[list[str] | None, "Label names to set, e.g. ['bug']; needs push access to the repo."] = None,
    assignees: Annotated[list[str] | None, "GitHub usernames to assign, e.g. ['octocat']; needs push access."] = None,
) -> dict[str, Any]:
    """Open a new issue in a repository as the signed-in user.

    Returns the created issue: its `number` (for GitHub_CommentOnIssue or GitHub_GetIssue), html_url, title,
    labels, assignees and ISO 8601 creation time. Labels and assignees are silently dropped by GitHub when the
    user lacks push access to the repository. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    check_text(title, "title", maximum=MAX_TITLE_CHARS, example="Crash when saving a file")
    check_optional_text(body, "body", maximum=MAX_BODY_CHARS)
    payload: dict[str, Any] = {"title": title.strip()}
    if body:
        payload["body"] = body
    label_names = check_labels(labels)
    if label_names:
        payload["labels"] = label_names
    users = check_usernames(assignees, "assignees")
    if users:
        payload["assignees"] = users
    data = await repository.send("POST", "issues", payload, what=f"creating an issue in {repository.full_name}")
    return shapes.issue(data)


def edit_payload(title: str | None, body: str | None, state: str | None, *, example: str) -> dict[str, Any]:
    """What an edit of an issue or of a pull request sets of the fields they share, checked: title, body, state.
    `example` is a title to show when the one given is not right."""
    payload: dict[str, Any] = {}
    if title is not None:
        payload["title"] = check_text(title, "title", maximum=MAX_TITLE_CHARS, example=example).strip()
    if body is not None:
        payload["body"] = check_optional_text(body, "body", maximum=MAX_BODY_CHARS)
    if state is not None:
        payload["state"] = check_choice(state, "state", ("open", "closed"))
    return payload


async def send_edit(
    repository: Repository, collection: str, number: int, payload: dict[str, Any], *, thing: str, fields: str
) -> dict[str, Any]:
    """PATCH `payload` to issue or pull request `number` (`collection` is `issues` or `pulls`) and return it as
    it is now, or refuse an edit that changes nothing, naming the `fields` the tool can change. `thing` names it
    in errors: "the issue", "the pull request"."""
    if not payload:
        raise ToolExecutionError(f"Nothing to change: give at least one of {fields}.")
    what = repository.of(f"{thing} #{number}")
    return await repository.send("PATCH", f"{collection}/{number}", payload, what=what)


@tool(requires_auth=PRIVATE_REPOS, title="Edit, close or reopen an issue", hints=OVERWRITES)
async def update_issue(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    issue_number: IssueNumber,
    title: NewTitle = None,
    body: Annotated[str | None, "A new Markdown body, replacing the old one; omit to keep it."] = None,
    state: Annotated[Literal["open", "closed"] | None, "'closed' to close the issue, 'open' to reopen it."] = None,
    state_reason: Annotated[
        Literal["completed", "not_planned", "reopened"] | None,
        "Why it changes state: 'completed' or 'not_planned' when closing, 'reopened' when reopening.",
    ] = None,
    labels: Annotated[list[str] | None, "The issue's labels from now on (replaces them); [] removes all."] = None,
    assignees: Annotated[
        list[str] | None, "The issue's assignees from now on (replaces them), e.g. ['octocat']; [] removes all."
    ] = None,
) -> dict[str, Any]:
    """Change an issue (or a pull request's title, body, labels and assignees): edit its title or body,
    close or reopen it, or set its labels and assignees. Only the fields given change.

    Returns the issue as it is now. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    number = check_number(issue_number, "issue_number")
    payload = edit_payload(title, body, state, example="Crash when saving")
    if state_reason is not None:
        reason = check_choice(state_reason, "state_reason", ("completed", "not_planned", "reopened"))
        if (reason == "reopened") != (state == "open"):
            raise ToolExecutionError(
                f"state_reason {reason!r} goes with state {'open' if reason == 'reopened' else 'closed'!r}: "
                f"use 'completed' or 'not_planned' with state 'closed', 'reopened' with state 'open'."
            )
        payload["state_reason"] = reason
    if labels is not None:
        payload["labels"] = check_labels(labels)
    if assignees is not None:
        payload["assignees"] = check_usernames(assignees, "assignees")
    fields = "title, body, state, labels or assignees"
    return shapes.issue(await send_edit(repository, "issues", number, payload, thing="the issue", fields=fields))


@tool(requires_auth=PRIVATE_REPOS, title="Comment on an issue or pull request", hints=ADDS)
async def comment_on_issue(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    issue_number: IssueOrPullNumber,
    body: CommentBody,
) -> dict[str, Any]:
    """Add a comment to an issue or pull request as the signed-in user.

    Returns the comment's `id`, html_url, author and ISO 8601 creation time. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    number = check_number(issue_number, "issue_number")
    check_text(body, "body", maximum=MAX_BODY_CHARS, example="Thanks, I can reproduce this.")
    what = f"the issue #{number} of {repository.full_name}"
    data = await repository.send("POST", f"issues/{number}/comments", {"body": body}, what=what)
    return {"issue_number": number, **shapes.comment(data)}


@tool(requires_auth=PUBLIC_READ, title="List an issue's comments", hints=READS)
async def list_issue_comments(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    issue_number: IssueOrPullNumber,
    limit: Annotated[int, "How many comments to return, oldest first, 1-300 (default 50)."] = 50,
) -> dict[str, Any]:
    """List the comments on an issue or pull request (the conversation, not the review comments on its
    diff: those are GitHub_ListReviewComments), oldest first.

    Returns `comments` (id, author, ISO 8601 times, html_url, Markdown body), `count` and `more_available`.
    """
    repository = Repository(context, owner, repo)
    number = check_number(issue_number, "issue_number")
    shape = partial(shapes.comment, body_chars=MAX_BODY_CHARS)
    return await repository.thread_listing(
        "issues", number, "comments", "the comments of issue", limit=limit, maximum=300, shape=shape
    )
