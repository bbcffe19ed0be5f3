"""The GitHub REST API on the toolkit HTTP layer (its headers, rate-limit answers, `Link` pagination), and time
shaping.

Reference: https://docs.github.com/en/rest (API version 2022-11-28). Pagination:
https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api (follow `Link: <...>; rel="next"`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from mcp_server import ProviderAPI, ToolContext, UpstreamRateLimitError
from toolkits.github.checks import check_limit, check_owner, check_repo

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "DEFAULT_API_BASE_URL",
    "MAX_PER_PAGE",
    "GitHubAPI",
    "Repository",
    "get_any",
    "get_json",
    "get_paginated",
    "listing",
    "login",
    "not_found_hint",
    "send_json",
]

DEFAULT_API_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
# GitHub's list endpoints accept per_page up to 100.
MAX_PER_PAGE = 100


class GitHubAPI(ProviderAPI):
    """The GitHub REST API for one tool call, at the pinned API version."""

    name = "GitHub"
    default_base_url = DEFAULT_API_BASE_URL
    headers: ClassVar[Mapping[str, str]] = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    }

    def check(self, response: httpx2.Response, *, what: str) -> None:
        """GitHub's rate-limit answers, which the common mapping cannot tell apart.

        GitHub answers an exceeded rate limit with 403 *or* 429: `x-ratelimit-remaining: 0` and the reset time
        in `x-ratelimit-reset` (UTC epoch seconds) for the primary limit, `retry-after` (seconds) for a
        secondary one
        (https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#rate-limit-errors). The
        common mapping would call such a 403 a refusal of access, and a 429 without `Retry-After` a wait of
        unknown length.
        """
        status = response.status_code
        if status not in (403, 429):
            return
        headers = response.headers
        retry_after = headers.get("retry-after", "").strip()
        wait: float | None = float(retry_after) if retry_after.isdigit() else None
        exhausted = headers.get("x-ratelimit-remaining", "").strip() == "0"
        reset = headers.get("x-ratelimit-reset", "").strip()
        if wait is None and exhausted and reset.isdigit():
            wait = max(0.0, float(reset) - time.time())
        if (status == 403 and (wait is not None or exhausted)) or (status == 429 and wait is not None):
            when = f" Retry in {wait:.0f} s." if wait is not None else " Retry in a little while."
            raise UpstreamRateLimitError(
                f"GitHub is rate limiting {what} (HTTP {status}).{when}", retry_after=wait, status_code=status
            )


# --- errors ------------------------------------------------------------------------------------------------


def not_found_hint(context: ToolContext, thing: str) -> str:
    """`thing`, plus a hint when the connection cannot see private repositories (GitHub answers 404 for them)."""
    scopes = context.authorization.scopes if context.authorization is not None else ()
    if "repo" in scopes:
        return thing
    return (
        f"{thing} (if it is private, the GitHub connection needs the 'repo' scope, "
        f"e.g. by using GitHub_ListRepositories first)"
    )


# --- requests (GitHub's calling convention over GitHubAPI) ---------------------------------------------------


async def get_any(context: ToolContext, path: str, params: Mapping[str, Any] | None = None, *, what: str) -> Any:
    """GET `path` (relative to the API base URL) and return its JSON, whatever its type; errors mapped."""
    api = GitHubAPI(context)
    return api.json_value(await api.send("GET", path, what=what, params=params), what=what)


async def get_json(
    context: ToolContext, path: str, params: Mapping[str, Any] | None = None, *, what: str
) -> dict[str, Any]:
    """GET `path` and return its JSON object."""
    return await GitHubAPI(context).get_json(path, what=what, params=params)


async def send_json(
    context: ToolContext,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    *,
    what: str,
    refusals: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """POST, PATCH or PUT a JSON body to `path` and return the JSON object answered.

    `refusals` gives the message for a 4xx status the operation documents with a meaning of its own (a merge
    answered 405 "not mergeable", a file write answered 409 "conflict")."""
    json = dict(body) if body is not None else None
    return await GitHubAPI(context).request(method, path, what=what, json=json, refusals=refusals or {})


async def get_paginated(
    context: ToolContext,
    path: str,
    params: Mapping[str, Any] | None,
    *,
    what: str,
    limit: int,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """GET a list endpoint and follow `Link: <...>; rel="next"` until `limit` kept items or the last page.

    `keep(item)` filters items (e.g. issues without pull requests). Returns (items, more_available).
    """
    first_page = {**dict(params or {}), "per_page": min(MAX_PER_PAGE, max(limit, 1))}
    return await GitHubAPI(context).paginate_links(
        path,
        what=what,
        limit=limit,
        keep=keep,
        params=first_page,
        # Bounded: never more pages than needed for `limit` items at 100 a page, plus a few for filtered-out items.
        max_pages=limit // MAX_PER_PAGE + 4,
    )


async def listing(
    context: ToolContext,
    path: str,
    params: Mapping[str, Any] | None,
    *,
    key: str,
    shape: Callable[[dict[str, Any]], dict[str, Any]],
    what: str,
    limit: int,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """A list tool's answer: up to `limit` items of a list endpoint, each shaped, under `key`, with `count` and
    `more_available`."""
    items, more = await get_paginated(context, path, params, what=what, limit=limit, keep=keep)
    return {key: [shape(item) for item in items], "count": len(items), "more_available": more}


# --- shaping -----------------------------------------------------------------------------------------------


def login(user: Any) -> str | None:
    return user.get("login") if isinstance(user, dict) else None


# --- one repository ----------------------------------------------------------------------------------------


class Repository:
    """One repository's part of the API for one tool call: requests to paths below `/repos/{owner}/{repo}`, and
    the names of what they touch ("the issue #3 of octocat/Hello-World") for error messages.

    `owner` and `repo` are checked here, so a tool that builds one has validated its repository arguments.
    """

    def __init__(self, context: ToolContext, owner: str, repo: str) -> None:
        self.context = context
        self.owner = check_owner(owner)
        self.repo = check_repo(repo)
        self.full_name = f"{self.owner}/{self.repo}"

    def path(self, tail: str = "") -> str:
        """The API path of `tail` (e.g. `issues/3`) in this repository; the repository itself when empty."""
        return f"/repos/{self.full_name}/{tail}" if tail else f"/repos/{self.full_name}"

    def hint(self, text: str) -> str:
        """`text`, with the hint for private repositories when the connection lacks the `repo` scope."""
        return not_found_hint(self.context, text)

    def of(self, thing: str) -> str:
        """ "`thing` of owner/repo", e.g. "the issue #3 of octocat/Hello-World", with the private hint."""
        return self.hint(f"{thing} of {self.full_name}")

    def itself(self) -> str:
        """ "the repository owner/repo", with the private hint."""
        return self.hint(f"the repository {self.full_name}")

    async def get(self, tail: str, params: Mapping[str, Any] | None = None, *, what: str) -> dict[str, Any]:
        """GET `tail` in this repository and return its JSON object."""
        return await get_json(self.context, self.path(tail), params, what=what)

    async def get_any(self, tail: str, params: Mapping[str, Any] | None = None, *, what: str) -> Any:
        """GET `tail` in this repository and return its JSON, whatever its type."""
        return await get_any(self.context, self.path(tail), params, what=what)

    async def send(
        self,
        method: str,
        tail: str,
        body: Mapping[str, Any] | None = None,
        *,
        what: str,
        refusals: Mapping[int, str] | None = None,
    ) -> dict[str, Any]:
        """`send_json` to `tail` in this repository."""
        return await send_json(self.context, method, self.path(tail), body, what=what, refusals=refusals)

    async def paginated(
        self, tail: str, params: Mapping[str, Any] | None, *, what: str, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """`get_paginated` on `tail` in this repository."""
        return await get_paginated(self.context, self.path(tail), params, what=what, limit=limit)

    async def listing(
        self,
        tail: str,
        params: Mapping[str, Any] | None = None,
        *,
        what: str,
        key: str,
        shape: Callable[[dict[str, Any]], dict[str, Any]],
        limit: int,
        maximum: int,
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """`listing` of `tail` in this repository, after checking `limit` is 1 to the tool's `maximum`."""
        check_limit(limit, maximum=maximum)
        return await listing(
            self.context, self.path(tail), params, key=key, shape=shape, what=what, limit=limit, keep=keep
        )

    async def thread_listing(
        self,
        collection: str,
        number: int,
        part: str,
        thing: str,
        *,
        limit: int,
        maximum: int,
        shape: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """`listing` of the `part` (`comments`, `reviews`) of issue or pull request `number` (`collection` is
        `issues` or `pulls`), under the key `part`; `thing` names them in errors, e.g. "the reviews of pull
        request" reads "the reviews of pull request #3 of owner/repo"."""
        what = self.of(f"{thing} #{number}")
        return await self.listing(
            f"{collection}/{number}/{part}", what=what, limit=limit, maximum=maximum, key=part, shape=shape
        )
