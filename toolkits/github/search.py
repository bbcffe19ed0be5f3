"""GitHub's search: code, and issues and pull requests, with GitHub's search syntax."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp_server import READS, ToolContext, pick, tool
from toolkits.github import shapes
from toolkits.github.checks import check_choice, check_limit, check_text
from toolkits.github.client import MAX_PER_PAGE, get_json
from toolkits.github.issues import LIST_BODY_CHARS
from toolkits.github.scopes import PUBLIC_READ

__all__ = ["search_code", "search_issues"]

# GitHub's search queries are at most 256 characters, not counting operators and qualifiers
# (https://docs.github.com/en/rest/search/search?apiVersion=2022-11-28#limitations-on-query-length); 1000 in all
# keeps a runaway query from reaching the API.
MAX_QUERY_CHARS = 1000
_KIND_QUALIFIER = re.compile(r"(?<![\w-])(is|type):(issue|pr|pull-request)\b", re.IGNORECASE)


@tool(requires_auth=PUBLIC_READ, title="Search code on GitHub", hints=READS)
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
    `items`: each matching file's repository (owner/name), path, name, sha and html_url. Read a file with
    GitHub_GetFileContents. Private repositories are searched only when the user's connection carries the
    `repo` scope.
    """
    text = check_text(query, "query", maximum=MAX_QUERY_CHARS, example="addClass repo:jquery/jquery").strip()
    check_limit(limit, maximum=MAX_PER_PAGE)
    data = await get_json(context, "/search/code", {"q": text, "per_page": limit}, what="the code search")
    return _results(
        data,
        lambda item: {
            "repository": (item.get("repository") or {}).get("full_name"),
            **pick(item, "path", "name", "sha", "html_url"),
        },
    )


def _repository_name(repository_url: Any) -> str | None:
    """`https://api.github.com/repos/octocat/Hello-World` -> `octocat/Hello-World`."""
    if not isinstance(repository_url, str) or "/repos/" not in repository_url:
        return None
    return repository_url.rsplit("/repos/", 1)[1]


@tool(requires_auth=PUBLIC_READ, title="Search issues and pull requests", hints=READS)
async def search_issues(
    context: ToolContext,
    query: Annotated[
        str,
        "GitHub issue search syntax, e.g. 'crash repo:octocat/Hello-World is:open', 'assignee:@me is:open' or "
        "'review-requested:@me'.",
    ],
    kind: Annotated[
        Literal["issue", "pull_request"], "Search issues (default) or pull requests, unless the query says is:pr."
    ] = "issue",
    sort: Annotated[
        Literal["best_match", "created", "updated", "comments"],
        "Order: 'best_match' (default), 'created', 'updated' or 'comments' (newest or most first).",
    ] = "best_match",
    limit: Annotated[int, "How many results to return, 1-100 (default 20)."] = 20,
) -> dict[str, Any]:
    """Search issues or pull requests across GitHub with GitHub's search syntax: find the user's assigned
    issues (`assignee:@me`), pull requests awaiting their review (`review-requested:@me`), or anything by
    text, label (`label:bug`), state (`is:open`) or repository (`repo:owner/name`).

    Returns `total_count`, `incomplete_results` and `items`: repository (owner/name), number, title, state,
    is_pull_request, author, labels, comment count, ISO 8601 times, html_url and the start of the body.
    """
    text = check_text(query, "query", maximum=MAX_QUERY_CHARS, example="crash repo:octocat/Hello-World").strip()
    check_choice(kind, "kind", ("issue", "pull_request"))
    check_choice(sort, "sort", ("best_match", "created", "updated", "comments"))
    check_limit(limit, maximum=MAX_PER_PAGE)
    if not _KIND_QUALIFIER.search(text):
        # The API requires the query to say which of the two it searches.
        text = f"{text} {'is:pr' if kind == 'pull_request' else 'is:issue'}"
    params: dict[str, Any] = {"q": text, "per_page": limit}
    if sort != "best_match":
        params.update(sort=sort, order="desc")
    data = await get_json(context, "/search/issues", params, what="the issue search")
    return _results(
        data,
        lambda item: {
            "repository": _repository_name(item.get("repository_url")),
            **shapes.issue(item, body_chars=LIST_BODY_CHARS),
        },
    )


def _results(data: dict[str, Any], shape: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """A search answer: GitHub's counts and each item shaped."""
    return {
        **pick(data, "total_count", "incomplete_results"),
        "items": [shape(item) for item in data.get("items") or [] if isinstance(item, dict)],
    }
