"""The GitHub tools: repositories, issues, pull requests and code search through the GitHub REST API.

Scopes (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps): GitHub has no
read-only scope for private repositories: `repo` grants full read and write access to them, and `public_repo`
is a write scope too. So:

- reads of public data declare no scope at all (any token may read public repositories, issues, pull requests
  and code); when the user's connection already carries `repo` (granted for another tool), the same tools see
  the user's private repositories as well, and their "not found" message says so when it does not;
- `ListRepositories` is about the user's own repositories, private ones included, so it needs `repo`;
- the writes (`CreateIssue`, `CommentOnIssue`) need `repo`: `public_repo` would fail on private repositories.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp_server import ToolContext, ToolExecutionError, tool
from mcp_server.auth import GitHub
from toolkits.github.client import (
    MAX_PER_PAGE,
    check_choice,
    check_labels,
    check_limit,
    check_number,
    check_owner,
    check_repo,
    check_text,
    check_usernames,
    get_json,
    get_paginated,
    iso,
    login,
    not_found_hint,
    post_json,
)

__all__ = [
    "comment_on_issue",
    "create_issue",
    "get_issue",
    "get_pull_request",
    "get_repository",
    "list_issues",
    "list_pull_requests",
    "list_repositories",
    "search_code",
]

PUBLIC_READ = GitHub(scopes=[])  # public data needs no scope; see the module docstring
PRIVATE_REPOS = GitHub(scopes=["repo"])  # the only scope that reaches private repositories (read and write)

LIST_BODY_CHARS = 500
MAX_BODY_CHARS = 65536  # GitHub's limit for issue and comment bodies
MAX_TITLE_CHARS = 256
MAX_PR_FILES = 300


# --- shaping -----------------------------------------------------------------------------------------------


def _body(text: Any, limit: int | None = None) -> str:
    text = text if isinstance(text, str) else ""
    if limit is not None and len(text) > limit:
        return text[:limit] + " …"
    return text


def _repository(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "full_name": data.get("full_name"),
        "owner": login(data.get("owner")),
        "name": data.get("name"),
        "id": data.get("id"),
        "private": data.get("private"),
        "visibility": data.get("visibility"),
        "description": data.get("description"),
        "default_branch": data.get("default_branch"),
        "language": data.get("language"),
        "topics": data.get("topics") or [],
        "stars": data.get("stargazers_count"),
        "forks": data.get("forks_count"),
        "open_issues": data.get("open_issues_count"),
        "archived": data.get("archived"),
        "fork": data.get("fork"),
        "html_url": data.get("html_url"),
        "created_at": iso(data.get("created_at")),
        "updated_at": iso(data.get("updated_at")),
        "pushed_at": iso(data.get("pushed_at")),
    }


def _issue(data: dict[str, Any], *, body_chars: int | None = None) -> dict[str, Any]:
    return {
        "number": data.get("number"),
        "title": data.get("title"),
        "state": data.get("state"),
        "state_reason": data.get("state_reason"),
        "author": login(data.get("user")),
        "labels": [label.get("name") for label in data.get("labels") or [] if isinstance(label, dict)],
        "assignees": [login(user) for user in data.get("assignees") or []],
        "milestone": (data.get("milestone") or {}).get("title"),
        "comments": data.get("comments"),
        "locked": data.get("locked"),
        "is_pull_request": "pull_request" in data,
        "created_at": iso(data.get("created_at")),
        "updated_at": iso(data.get("updated_at")),
        "closed_at": iso(data.get("closed_at")),
        "html_url": data.get("html_url"),
        "body": _body(data.get("body"), body_chars),
    }


def _pull_request(data: dict[str, Any], *, body_chars: int | None = None) -> dict[str, Any]:
    head = data.get("head") or {}
    base = data.get("base") or {}
    return {
        "number": data.get("number"),
        "title": data.get("title"),
        "state": data.get("state"),
        "draft": data.get("draft"),
        "author": login(data.get("user")),
        "head_branch": head.get("ref"),
        "head_sha": head.get("sha"),
        "base_branch": base.get("ref"),
        "labels": [label.get("name") for label in data.get("labels") or [] if isinstance(label, dict)],
        "assignees": [login(user) for user in data.get("assignees") or []],
        "requested_reviewers": [login(user) for user in data.get("requested_reviewers") or []],
        "created_at": iso(data.get("created_at")),
        "updated_at": iso(data.get("updated_at")),
        "closed_at": iso(data.get("closed_at")),
        "merged_at": iso(data.get("merged_at")),
        "html_url": data.get("html_url"),
        "body": _body(data.get("body"), body_chars),
    }


def _repo_args(owner: str, repo: str) -> tuple[str, str]:
    return check_owner(owner), check_repo(repo)


# --- repositories ------------------------------------------------------------------------------------------


@tool(requires_auth=PRIVATE_REPOS)
async def list_repositories(
    context: ToolContext,
    visibility: Annotated[
        Literal["all", "public", "private"], "Which repositories: 'all' (default), 'public' or 'private'."
    ] = "all",
    sort: Annotated[
        Literal["created", "updated", "pushed", "full_name"],
        "Order: 'updated' (default, most recently updated first), 'pushed', 'created' or 'full_name' (A-Z).",
    ] = "updated",
    limit: Annotated[int, "How many repositories to return, 1-300 (default 30)."] = 30,
) -> dict[str, Any]:
    """List the repositories the signed-in GitHub user can access: their own, those they collaborate on and
    those of their organizations, private ones included.

    Use it to find a repository's `owner` and `name` for the other GitHub tools. Returns `repositories`
    (full_name, owner, name, private, visibility, description, default_branch, language, stars, open_issues,
    html_url and ISO 8601 times), `count`, and `more_available` when the limit cut the list short.
    Needs the `repo` scope: GitHub has no read-only scope for private repositories.
    """
    check_choice(visibility, "visibility", ("all", "public", "private"))
    check_choice(sort, "sort", ("created", "updated", "pushed", "full_name"))
    check_limit(limit, maximum=300)
    direction = "asc" if sort == "full_name" else "desc"
    items, more = await get_paginated(
        context, "/user/repos", {"visibility": visibility, "sort": sort, "direction": direction},
        what="the user's repositories", limit=limit,
    )
    repositories = [_repository(item) for item in items]
    return {"repositories": repositories, "count": len(repositories), "more_available": more}


@tool(requires_auth=PUBLIC_READ)
async def get_repository(
    context: ToolContext,
    owner: Annotated[str, "The account that owns the repository (user or organization), e.g. 'octocat'."],
    repo: Annotated[str, "The repository name without the owner, e.g. 'Hello-World'."],
) -> dict[str, Any]:
    """Get one GitHub repository's details: description, visibility, default branch, language, topics, stars,
    forks, open issue count and ISO 8601 creation/update/push times.

    Use it before working on a repository (e.g. to learn its default branch). Private repositories are
    visible only when the user's GitHub connection carries the `repo` scope.
    """
    owner, repo = _repo_args(owner, repo)
    data = await get_json(
        context, f"/repos/{owner}/{repo}", what=not_found_hint(context, f"the repository {owner}/{repo}")
    )
    return _repository(data)


# --- issues ------------------------------------------------------------------------------------------------


@tool(requires_auth=PUBLIC_READ)
async def list_issues(
    context: ToolContext,
    owner: Annotated[str, "The account that owns the repository, e.g. 'octocat'."],
    repo: Annotated[str, "The repository name without the owner, e.g. 'Hello-World'."],
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
    owner, repo = _repo_args(owner, repo)
    check_choice(state, "state", ("open", "closed", "all"))
    wanted = check_labels(labels)
    check_limit(limit, maximum=100)
    params: dict[str, Any] = {"state": state}
    if wanted:
        params["labels"] = ",".join(wanted)
    items, more = await get_paginated(
        context, f"/repos/{owner}/{repo}/issues", params,
        what=not_found_hint(context, f"the issues of {owner}/{repo}"), limit=limit,
        keep=lambda item: isinstance(item, dict) and "pull_request" not in item,
    )
    issues = [_issue(item, body_chars=LIST_BODY_CHARS) for item in items]
    return {"issues": issues, "count": len(issues), "more_available": more}


@tool(requires_auth=PUBLIC_READ)
async def get_issue(
    context: ToolContext,
    owner: Annotated[str, "The account that owns the repository, e.g. 'octocat'."],
    repo: Annotated[str, "The repository name without the owner, e.g. 'Hello-World'."],
    issue_number: Annotated[int, "The issue's number (shown as #1347 on GitHub)."],
) -> dict[str, Any]:
    """Get one issue with its full Markdown body, labels, assignees, milestone, state and ISO 8601 times.

    `is_pull_request` is true when the number belongs to a pull request (use GitHub_GetPullRequest for its
    changes).
    """
    owner, repo = _repo_args(owner, repo)
    number = check_number(issue_number, "issue_number")
    data = await get_json(
        context, f"/repos/{owner}/{repo}/issues/{number}",
        what=not_found_hint(context, f"the issue #{number} of {owner}/{repo}"),
    )
    return _issue(data)


@tool(requires_auth=PRIVATE_REPOS)
async def create_issue(
    context: ToolContext,
    owner: Annotated[str, "The account that owns the repository, e.g. 'octocat'."],
    repo: Annotated[str, "The repository name without the owner, e.g. 'Hello-World'."],
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
    owner, repo = _repo_args(owner, repo)
    check_text(title, "title", maximum=MAX_TITLE_CHARS, example="Crash when saving a file")
    if body is not None and len(body) > MAX_BODY_CHARS:
        raise ToolExecutionError(f"body is {len(body)} characters long; GitHub accepts at most {MAX_BODY_CHARS}.")
    payload: dict[str, Any] = {"title": title.strip()}
    if body:
        payload["body"] = body
    label_names = check_labels(labels)
    if label_names:
        payload["labels"] = label_names
    users = check_usernames(assignees, "assignees")
    if users:
        payload["assignees"] = users
    data = await post_json(
        context, f"/repos/{owner}/{repo}/issues", payload,
        what=f"creating an issue in {owner}/{repo}",
    )
    return _issue(data)


@tool(requires_auth=PRIVATE_REPOS)
async def comment_on_issue(
    context: ToolContext,
    owner: Annotated[str, "The account that owns the repository, e.g. 'octocat'."],
    repo: Annotated[str, "The repository name without the owner, e.g. 'Hello-World'."],
    issue_number: Annotated[int, "The issue's or pull request's number (shown as #1347 on GitHub)."],
    body: Annotated[str, "The comment in Markdown."],
) -> dict[str, Any]:
    """Add a comment to an issue or pull request as the signed-in user.

    Returns the comment's `id`, html_url, author and ISO 8601 creation time. Needs the `repo` scope.
    """
    owner, repo = _repo_args(owner, repo)
    number = check_number(issue_number, "issue_number")
    check_text(body, "body", maximum=MAX_BODY_CHARS, example="Thanks, I can reproduce this.")
    data = await post_json(
        context, f"/repos/{owner}/{repo}/issues/{number}/comments", {"body": body},
        what=f"the issue #{number} of {owner}/{repo}",
    )
    return {
        "id": data.get("id"),
        "issue_number": number,
        "author": login(data.get("user")),
        "created_at": iso(data.get("created_at")),
        "html_url": data.get("html_url"),
        "body": _body(data.get("body")),
    }


# --- pull requests -----------------------------------------------------------------------------------------


@tool(requires_auth=PUBLIC_READ)
async def list_pull_requests(
    context: ToolContext,
    owner: Annotated[str, "The account that owns the repository, e.g. 'octocat'."],
    repo: Annotated[str, "The repository name without the owner, e.g. 'Hello-World'."],
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
    owner, repo = _repo_args(owner, repo)
    check_choice(state, "state", ("open", "closed", "all"))
    check_limit(limit, maximum=100)
    items, more = await get_paginated(
        context, f"/repos/{owner}/{repo}/pulls", {"state": state},
        what=not_found_hint(context, f"the pull requests of {owner}/{repo}"), limit=limit,
    )
    pulls = [_pull_request(item, body_chars=LIST_BODY_CHARS) for item in items]
    return {"pull_requests": pulls, "count": len(pulls), "more_available": more}


@tool(requires_auth=PUBLIC_READ)
async def get_pull_request(
    context: ToolContext,
    owner: Annotated[str, "The account that owns the repository, e.g. 'octocat'."],
    repo: Annotated[str, "The repository name without the owner, e.g. 'Hello-World'."],
    pull_number: Annotated[int, "The pull request's number (shown as #1347 on GitHub)."],
) -> dict[str, Any]:
    """Get one pull request with its full body, merge state and the files it changes.

    Returns the pull request (number, title, state, draft, merged, mergeable, author, head/base branches,
    commits, additions, deletions, ISO 8601 times, html_url, body) and `files`: each changed file's filename,
    status (added, modified, removed, renamed, ...), additions and deletions (at most 300 files;
    `files_truncated` says when there were more).
    """
    owner, repo = _repo_args(owner, repo)
    number = check_number(pull_number, "pull_number")
    what = not_found_hint(context, f"the pull request #{number} of {owner}/{repo}")
    data = await get_json(context, f"/repos/{owner}/{repo}/pulls/{number}", what=what)
    files, more = await get_paginated(
        context, f"/repos/{owner}/{repo}/pulls/{number}/files", None,
        what=f"the files of pull request #{number} of {owner}/{repo}", limit=MAX_PR_FILES,
    )
    result = _pull_request(data)
    result.update({
        "merged": data.get("merged"),
        "mergeable": data.get("mergeable"),
        "merged_by": login(data.get("merged_by")),
        "commits": data.get("commits"),
        "additions": data.get("additions"),
        "deletions": data.get("deletions"),
        "changed_files": data.get("changed_files"),
        "files": [
            {
                "filename": item.get("filename"),
                "status": item.get("status"),
                "additions": item.get("additions"),
                "deletions": item.get("deletions"),
                **({"previous_filename": item["previous_filename"]} if item.get("previous_filename") else {}),
            }
            for item in files
        ],
        "files_truncated": more,
    })
    return result


# --- search ------------------------------------------------------------------------------------------------


@tool(requires_auth=PUBLIC_READ)
async def search_code(
    context: ToolContext,
    query: Annotated[
        str,
        "GitHub code search syntax: keywords plus qualifiers, e.g. 'addClass repo:jquery/jquery language:js' "
        "or 'TODO org:octo-org path:src'.",
    ],
    limit: Annotated[int, "How many matching files to return, 1-100 (default 20)."] = 20,
) -> dict[str, Any]:
    """Search code across GitHub (default branches only) with GitHub's code search syntax.

    Narrow the search with qualifiers such as `repo:owner/name`, `org:`, `user:`, `language:`, `path:` or
    `extension:`. Returns `total_count`, `incomplete_results` (true when GitHub timed out before finishing) and
    `items`: each matching file's repository (owner/name), path, name, sha and html_url. Private repositories
    are searched only when the user's connection carries the `repo` scope.
    """
    text = check_text(query, "query", maximum=1000, example="addClass repo:jquery/jquery").strip()
    check_limit(limit, maximum=MAX_PER_PAGE)
    data = await get_json(
        context, "/search/code", {"q": text, "per_page": limit}, what="the code search",
    )
    items = [
        {
            "repository": (item.get("repository") or {}).get("full_name"),
            "path": item.get("path"),
            "name": item.get("name"),
            "sha": item.get("sha"),
            "html_url": item.get("html_url"),
        }
        for item in data.get("items") or []
        if isinstance(item, dict)
    ]
    return {
        "total_count": data.get("total_count"),
        "incomplete_results": data.get("incomplete_results"),
        "items": items,
    }
