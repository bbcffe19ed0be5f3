"""GitHub tools about repositories: listing and reading them, their branches and commits, and stars."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp_server import ADDS, OVERWRITES, READS, SETS, ToolContext, tool
from toolkits.github import shapes
from toolkits.github.checks import (
    check_branch,
    check_choice,
    check_limit,
    check_path,
    check_time,
    check_usernames,
    quote_path,
)
from toolkits.github.client import GitHubAPI, Repository, listing
from toolkits.github.scopes import PRIVATE_REPOS, PUBLIC_READ, PUBLIC_REPO_WRITE

__all__ = [
    "create_branch",
    "get_repository",
    "list_branches",
    "list_commits",
    "list_repositories",
    "star_repository",
    "unstar_repository",
]

Owner = Annotated[str, "The account that owns the repository (user or organization), e.g. 'octocat'."]
Repo = Annotated[str, "The repository name without the owner, e.g. 'Hello-World'."]


async def default_branch(repository: Repository) -> str:
    """The repository's default branch, read from GitHub."""
    data = await repository.get("", what=repository.itself())
    return str(data.get("default_branch") or "main")


@tool(requires_auth=PRIVATE_REPOS, title="List my GitHub repositories", hints=READS)
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
    return await listing(
        context,
        "/user/repos",
        {"visibility": visibility, "sort": sort, "direction": direction},
        what="the user's repositories",
        limit=limit,
        key="repositories",
        shape=shapes.repository,
    )


@tool(requires_auth=PUBLIC_READ, title="Get a GitHub repository", hints=READS)
async def get_repository(context: ToolContext, owner: Owner, repo: Repo) -> dict[str, Any]:
    """Get one GitHub repository's details: description, visibility, default branch, language, topics, stars,
    forks, open issue count and ISO 8601 creation/update/push times.

    Use it before working on a repository (e.g. to learn its default branch). Private repositories are
    visible only when the user's GitHub connection carries the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    repository = Repository(context, owner, repo)
    return shapes.repository(await repository.get("", what=repository.itself()))


@tool(requires_auth=PUBLIC_READ, title="List a repository's branches", hints=READS)
async def list_branches(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    limit: Annotated[int, "How many branches to return, 1-300 (default 100)."] = 100,
) -> dict[str, Any]:
    """List a repository's branches with the SHA of each branch's latest commit and whether it is protected.

    Returns `branches` (name, sha, protected), `count` and `more_available`. Pass a name as `branch` or
    `from_branch` to the other GitHub tools.
    """
    repository = Repository(context, owner, repo)
    what = repository.of("the branches")
    return await repository.listing(
        "branches", what=what, limit=limit, maximum=300, key="branches", shape=shapes.branch
    )


@tool(requires_auth=PRIVATE_REPOS, title="Create a branch", hints=ADDS)
async def create_branch(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    branch: Annotated[str, "The new branch's name, e.g. 'fix/login-crash'."],
    from_branch: Annotated[
        str | None, "The branch to start from, e.g. 'main'; omit for the repository's default branch."
    ] = None,
) -> dict[str, Any]:
    """Create a branch in a repository, pointing at the latest commit of another branch (default: the
    repository's default branch).

    Returns the new `branch`, its full `ref` and the commit `sha` it starts at. Write files to it with
    GitHub_CreateOrUpdateFile, then open a pull request with GitHub_CreatePullRequest. Needs the `repo` scope.
    """
    repository = Repository(context, owner, repo)
    name = check_branch(branch, "branch")
    start = check_branch(from_branch, "from_branch") if from_branch is not None else None
    if start is None:
        start = await default_branch(repository)
    source = await repository.get(f"git/ref/heads/{quote_path(start)}", what=repository.of(f"the branch {start!r}"))
    sha = (source.get("object") or {}).get("sha")
    created = await repository.send(
        "POST",
        "git/refs",
        {"ref": f"refs/heads/{name}", "sha": sha},
        what=f"creating the branch {name!r} in {repository.full_name}",
        refusals={
            422: f"GitHub refused to create the branch {name!r} in {repository.full_name} (HTTP 422): a branch "
            f"of that name probably exists already; pick another name or use GitHub_ListBranches."
        },
    )
    return {**shapes.git_ref(created), "from_branch": start}


@tool(requires_auth=PUBLIC_READ, title="List commits", hints=READS)
async def list_commits(
    context: ToolContext,
    owner: Owner,
    repo: Repo,
    branch: Annotated[str | None, "The branch to list, e.g. 'main'; omit for the default branch."] = None,
    path: Annotated[str | None, "Only commits touching this file or folder, e.g. 'src/app.py'."] = None,
    author: Annotated[str | None, "Only commits by this GitHub username, e.g. 'octocat'."] = None,
    since: Annotated[str | None, "Only commits after this ISO 8601 time, e.g. '2024-05-01T00:00:00Z'."] = None,
    until: Annotated[str | None, "Only commits before this ISO 8601 time."] = None,
    limit: Annotated[int, "How many commits to return, 1-100 (default 30)."] = 30,
) -> dict[str, Any]:
    """List a branch's commits, newest first: SHA, first line of the message, author and ISO 8601 date.

    Returns `commits`, `count` and `more_available`.
    """
    repository = Repository(context, owner, repo)
    params: dict[str, Any] = {}
    if branch is not None:
        params["sha"] = check_branch(branch, "branch")
    if path is not None:
        params["path"] = check_path(path)
    if author is not None:
        params["author"] = check_usernames([author], "author")[0]
    for name, value in (("since", since), ("until", until)):
        if value is not None:
            params[name] = check_time(value, name)
    what = repository.of("the commits")
    return await repository.listing(
        "commits", params, what=what, limit=limit, maximum=100, key="commits", shape=shapes.commit
    )


@tool(requires_auth=PUBLIC_REPO_WRITE, title="Star a repository", hints=SETS)
async def star_repository(context: ToolContext, owner: Owner, repo: Repo) -> dict[str, Any]:
    """Star a repository as the signed-in user (starring one already starred changes nothing).

    Needs the `public_repo` scope; a private repository can be starred only with the `repo` scope.
    """
    return await _star(Repository(context, owner, repo), "PUT")


@tool(requires_auth=PUBLIC_REPO_WRITE, title="Unstar a repository", hints=OVERWRITES)
async def unstar_repository(context: ToolContext, owner: Owner, repo: Repo) -> dict[str, Any]:
    """Remove the signed-in user's star from a repository. Needs the `public_repo` scope."""
    return await _star(Repository(context, owner, repo), "DELETE")


async def _star(repository: Repository, method: str) -> dict[str, Any]:
    """Star (PUT) or unstar (DELETE) the repository as the signed-in user."""
    api = GitHubAPI(repository.context)
    await api.send(method, f"/user/starred/{repository.full_name}", what=repository.itself())
    return {"repository": repository.full_name, "starred": method == "PUT"}
