"""GitHub tools about pull request reviews: read and submit reviews, read and write comments on the diff."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from mcp_server import ADDS, READS, ToolContext, ToolExecutionError, tool
from toolkits.github import shapes
from toolkits.github.checks import (
    check_choice,
    check_number,
    check_optional_text,
    check_path,
    check_sha,
    check_text,
)
from toolkits.github.client import Repository
from toolkits.github.issues import MAX_BODY_CHARS, CommentBody
from toolkits.github.pull_requests import PullNumber, send_to_pull_request
from toolkits.github.repositories import Owner, Repo
from toolkits.github.scopes import PRIVATE_REPOS, PUBLIC_READ

__all__ = ["create_review", "create_review_comment", "list_review_comments", "list_reviews"]

MAX_INLINE_COMMENTS = 50
SIDES = ("RIGHT", "LEFT")


@tool(requires_auth=PUBLIC_READ, title="List a pull request's reviews", hints=READS)
async def list_reviews(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    pull_number: PullNumber,
    limit: Annotated[int, "How many reviews to return, oldest first, 1-100 (default 30)."] = 30,
) -> dict[str, Any]:
    """List the reviews submitted on a pull request, oldest first.

    Returns `reviews` (id, author, state: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING, the
    commit reviewed, ISO 8601 submission time, html_url, body), `count` and `more_available`.
    """
    repository = Repository(context, owner, repo)
    number = check_number(pull_number, "pull_number")
    return await repository.thread_listing(
        "pulls", number, "reviews", "the reviews of pull request", limit=limit, maximum=100, shape=shapes.review
    )


def _line(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolExecutionError(
            f"{name} {value!r} is not valid: give the line number in the file (1 or more) as shown in the diff."
        )
    return value


def _inline_comments(comments: Any) -> list[dict[str, Any]]:
    if comments is None:
        return []
    if not isinstance(comments, list) or len(comments) > MAX_INLINE_COMMENTS:
        raise ToolExecutionError(
            f"comments must be a list of at most {MAX_INLINE_COMMENTS} objects such as "
            "{'path': 'src/app.py', 'line': 12, 'body': 'Typo here'}."
        )
    result = []
    for index, item in enumerate(comments):
        if not isinstance(item, dict):
            raise ToolExecutionError(
                f"comments[{index}] must be an object such as {{'path': 'src/app.py', 'line': 12, 'body': 'Typo'}}."
            )
        unknown = set(item) - {"path", "line", "side", "body"}
        if unknown:
            raise ToolExecutionError(
                f"comments[{index}] has {', '.join(sorted(unknown))}; use only path, line, side and body."
            )
        entry = {
            "path": check_path(item.get("path"), f"comments[{index}].path"),
            "line": _line(item.get("line"), f"comments[{index}].line"),
            "side": check_choice(item.get("side", "RIGHT"), f"comments[{index}].side", SIDES),
            "body": check_text(item.get("body"), f"comments[{index}].body", maximum=MAX_BODY_CHARS, example="Typo"),
        }
        result.append(entry)
    return result


@tool(requires_auth=PRIVATE_REPOS, title="Review a pull request", hints=ADDS)
async def create_review(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    pull_number: PullNumber,
    event: Annotated[
        Literal["APPROVE", "REQUEST_CHANGES", "COMMENT"],
        "The verdict: 'APPROVE', 'REQUEST_CHANGES' or 'COMMENT' (feedback without a verdict).",
    ],
    body: Annotated[str | None, "The review's summary in Markdown; required for REQUEST_CHANGES and COMMENT."] = None,
    comments: Annotated[
        list[dict[str, Any]] | None,
        "Comments on lines of the diff, each {'path': 'src/app.py', 'line': 12, 'body': 'Typo here'} with an "
        "optional 'side' ('RIGHT', the new code, default; 'LEFT', the old code); at most 50.",
    ] = None,
) -> dict[str, Any]:
    """Submit a review of a pull request as the signed-in user: approve it, request changes, or comment,
    optionally with comments on lines of its diff.

    Returns the review's `id`, `state`, the commit reviewed, ISO 8601 submission time and html_url. GitHub
    does not let the author approve or request changes on their own pull request. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    number = check_number(pull_number, "pull_number")
    verdict = check_choice(event, "event", ("APPROVE", "REQUEST_CHANGES", "COMMENT"))
    payload: dict[str, Any] = {"event": verdict}
    summary = check_optional_text(body, "body", maximum=MAX_BODY_CHARS)
    if summary and summary.strip():
        payload["body"] = summary
    elif verdict != "APPROVE":
        raise ToolExecutionError(f"body is empty: a {verdict} review needs a summary, e.g. 'Please add a test.'.")
    inline = _inline_comments(comments)
    if inline:
        payload["comments"] = inline
    data = await send_to_pull_request(
        repository,
        number,
        "reviews",
        payload,
        refused="the review of",
        because="the author cannot approve or request changes on their own pull request, and each comment's "
        "line must be part of the diff.",
    )
    return shapes.review(data)


@tool(requires_auth=PUBLIC_READ, title="List review comments on a pull request's diff", hints=READS)
async def list_review_comments(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    pull_number: PullNumber,
    limit: Annotated[int, "How many comments to return, oldest first, 1-300 (default 100)."] = 100,
) -> dict[str, Any]:
    """List the comments on lines of a pull request's diff, oldest first (the conversation's comments are
    GitHub_ListIssueComments).

    Returns `comments` (id, review_id, in_reply_to_id, author, path, line, side, commit_id, ISO 8601 time,
    html_url, body), `count` and `more_available`. Reply to one with GitHub_CreateReviewComment and its `id`.
    """
    repository = Repository(context, owner, repo)
    number = check_number(pull_number, "pull_number")
    shape = partial(shapes.review_comment, body_chars=MAX_BODY_CHARS)
    return await repository.thread_listing(
        "pulls", number, "comments", "the review comments of pull request", limit=limit, maximum=300, shape=shape
    )


@tool(requires_auth=PRIVATE_REPOS, title="Comment on a line of a pull request", hints=ADDS)
async def create_review_comment(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    pull_number: PullNumber,
    body: CommentBody,
    path: Annotated[str | None, "The file to comment on, e.g. 'src/app.py'; omit when replying."] = None,
    line: Annotated[
        int | None, "The line of the file to comment on, as numbered in the diff; omit when replying."
    ] = None,
    side: Annotated[
        Literal["RIGHT", "LEFT"], "'RIGHT' (default): the line in the new code; 'LEFT': in the old code."
    ] = "RIGHT",
    commit_id: Annotated[str | None, "The commit SHA to comment on; omit for the pull request's latest commit."] = None,
    in_reply_to: Annotated[
        int | None, "The id of a review comment to reply to (from GitHub_ListReviewComments); then only body counts."
    ] = None,
) -> dict[str, Any]:
    """Comment on one line of a pull request's diff, or reply to an existing review comment.

    Returns the comment's `id`, path, line, author, ISO 8601 time and html_url. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    number = check_number(pull_number, "pull_number")
    check_text(body, "body", maximum=MAX_BODY_CHARS, example="Could this be a constant?")
    payload: dict[str, Any] = {"body": body}
    if in_reply_to is not None:
        payload["in_reply_to"] = check_number(in_reply_to, "in_reply_to")
    else:
        if path is None or line is None:
            raise ToolExecutionError(
                "Give path and line to comment on a line of the diff (e.g. path 'src/app.py', line 12), or "
                "in_reply_to with a review comment's id to reply to it."
            )
        payload["path"] = check_path(path)
        payload["line"] = _line(line, "line")
        payload["side"] = check_choice(side, "side", SIDES)
        if commit_id is not None:
            payload["commit_id"] = check_sha(commit_id, "commit_id")
        else:
            pull = await repository.get(f"pulls/{number}", what=repository.of(f"the pull request #{number}"))
            payload["commit_id"] = (pull.get("head") or {}).get("sha")
    data = await send_to_pull_request(
        repository,
        number,
        "comments",
        payload,
        refused="the comment on",
        because="the line must be part of the diff of that file (see GitHub_GetPullRequest's files).",
    )
    return shapes.review_comment(data)
