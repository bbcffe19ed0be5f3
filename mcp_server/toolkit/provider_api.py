"""The one HTTP layer toolkits reach their provider's API through: `ProviderAPI`.

A toolkit subclasses it with its service's name and default base URL (and, where the service needs them, extra
headers or a `check` for error answers of its own), and a tool calls `Acme(context).get_json("/me", what=...)`.
It sends through the server's shared client (`context.http`: authmcp's timeouts and size cap), with the user's
token as a Bearer header; JSON goes in and comes out; every error status is mapped once by
`raise_for_upstream_status` (401 -> re-authorization, 429 / 5xx -> retryable with Retry-After, other 4xx -> a
tool error naming what was asked for). The pagination helpers (next links, page tokens and cursors, offsets)
stop at a number of items and of pages, and say whether more were left.

The token only goes to the origin of the base URL: a full URL (a next link, an upload endpoint) on any other
host is refused, and a next link elsewhere is not followed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypedDict, Unpack
from urllib.parse import urlsplit

from mcp_server._http import httpx2
from mcp_server.errors import ToolExecutionError, UpstreamError
from mcp_server.toolkit.tool import ToolContext
from mcp_server.toolkit.upstream import raise_for_upstream_status

__all__ = ["Page", "ProviderAPI", "RequestOptions", "collect_pages"]

Item = dict[str, Any]
Params = Mapping[str, Any] | list[tuple[str, Any]]
#: What the next page is asked for with (a token, a cursor, a URL, an offset), or None on the last page.
NextOf = Callable[[Mapping[str, Any]], object]


class RequestOptions(TypedDict, total=False):
    """What one request may carry besides its method, path and `what`."""

    params: Params | None  # the query; None values are left out
    json: Any  # a JSON body
    content: bytes | None  # a raw body (with a Content-Type header)
    headers: Mapping[str, str]  # added to the class's headers for this request
    refusals: Mapping[int, str]  # the message for a 4xx status the operation gives a meaning of its own
    follow_redirects: bool  # httpx drops the Authorization header when a redirect leaves the origin


@dataclass(frozen=True)
class Page:
    """One page of a listing: its items, what asks for the next one (None on the last page), and `more` when
    items remain that `next` cannot reach (a next link to another host, which is not followed)."""

    items: Sequence[Item]
    next: str | None = None
    more: bool = False


async def collect_pages(
    fetch: Callable[[str | None, int], Awaitable[Page]],
    *,
    limit: int,
    max_pages: int,
    keep: Callable[[Item], bool] | None = None,
) -> tuple[list[Item], bool]:
    """Call `fetch(next, wanted)` page after page until `limit` items (those `keep` accepts), the last page or
    `max_pages` pages. `next` is None for the first page; `wanted` is how many items are still wanted.

    Returns the items (at most `limit`) and whether more were left.
    """
    items: list[Item] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = await fetch(cursor, limit - len(items))
        items.extend(item for item in page.items if keep is None or keep(item))
        if len(items) > limit:
            return items[:limit], True
        if page.next is None:
            return items, page.more
        if len(items) == limit:
            return items, True
        cursor = page.next
    return items, True


class ProviderAPI:
    """A provider's HTTP API as one tool call sees it: `ProviderAPI(context)` or a subclass of it.

    Subclasses set `name` (used in messages: "No HTTP client is available to reach GitHub."), `default_base_url`,
    and where needed `headers` (sent on every request, e.g. an API version), `path_prefix` (appended to the base
    URL, e.g. "/v1") or `base_url_setting` (the toolkit setting that overrides the base URL, `api_base_url` by
    default; None for none). `check` is the hook for a provider's own error answers.
    """

    name: ClassVar[str] = "the provider"
    default_base_url: ClassVar[str] = ""
    base_url_setting: ClassVar[str | None] = "api_base_url"
    path_prefix: ClassVar[str] = ""
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, context: ToolContext) -> None:
        self.context = context
        configured = context.get_setting(self.base_url_setting) if self.base_url_setting else None
        self.root_url = (configured or self.default_base_url).rstrip("/")
        if not self.root_url:
            raise ToolExecutionError(
                f"No API base URL is set for {self.name}; set `{self.base_url_setting}` in the toolkit's settings."
            )
        self.base_url = self.root_url + self.path_prefix

    # --- requests ----------------------------------------------------------------------------------------

    @property
    def http(self) -> httpx2.AsyncClient:
        if self.context.http is None:
            raise ToolExecutionError(
                f"No HTTP client is available to reach {self.name}; authmcp passes one on every call."
            )
        return self.context.http

    def auth_headers(self) -> dict[str, str]:
        """The user's token as `Authorization: Bearer`; override for another scheme."""
        token = self.context.get_auth_token_or_empty()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def owns(self, url: str) -> bool:
        """`url` is on the base URL's origin, where the user's token may go."""
        mine, other = urlsplit(self.base_url), urlsplit(url)
        return (mine.scheme.lower(), mine.netloc.lower()) == (other.scheme.lower(), other.netloc.lower())

    def url(self, path: str) -> str:
        """`path` under the base URL; a full URL as it is, when it is on the base URL's origin."""
        if not path.startswith(("http://", "https://")):
            return f"{self.base_url}{path}"
        if not self.owns(path):
            raise ToolExecutionError(
                f"{self.name} pointed to another host ({urlsplit(path).netloc}); the user's token is only sent "
                f"to {urlsplit(self.base_url).netloc}."
            )
        return path

    def check(self, response: httpx2.Response, *, what: str) -> None:
        """Raise for an answer the provider reports in its own way, before the common mapping; by default none."""

    def raise_for_status(
        self, response: httpx2.Response, *, what: str, refusals: Mapping[int, str] | None = None
    ) -> httpx2.Response:
        """`check`, then the operation's `refusals`, then `raise_for_upstream_status`; the response on success."""
        self.check(response, what=what)
        if refusals and response.status_code in refusals:
            raise UpstreamError(refusals[response.status_code], status_code=response.status_code)
        return raise_for_upstream_status(response, what=what, context=self.context)

    def _build(self, method: str, path: str, options: RequestOptions) -> httpx2.Request:
        params = options.get("params")
        if isinstance(params, Mapping):
            params = {key: value for key, value in params.items() if value is not None}
        return self.http.build_request(
            method,
            self.url(path),
            params=params or None,
            json=options.get("json"),
            content=options.get("content"),
            headers={**self.auth_headers(), **self.headers, **(options.get("headers") or {})},
        )

    async def send(self, method: str, path: str, *, what: str, **options: Unpack[RequestOptions]) -> httpx2.Response:
        """Send one request; the response once it is known not to be an error."""
        request = self._build(method, path, options)
        response = await self.http.send(request, follow_redirects=options.get("follow_redirects", False))
        return self.raise_for_status(response, what=what, refusals=options.get("refusals"))

    async def request(self, method: str, path: str, *, what: str, **options: Unpack[RequestOptions]) -> Item:
        """`send`, and the JSON object answered ({} for an empty answer, such as a 204)."""
        return self.json_object(await self.send(method, path, what=what, **options), what=what)

    async def get_json(self, path: str, *, what: str, **options: Unpack[RequestOptions]) -> Item:
        return await self.request("GET", path, what=what, **options)

    def json_value(self, response: httpx2.Response, *, what: str) -> Any:
        """The JSON of an answer (None when it is empty); an error naming `what` when it is not JSON."""
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise self.unexpected(what) from None

    def json_object(self, response: httpx2.Response, *, what: str) -> Item:
        body = self.json_value(response, what=what)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise self.unexpected(what)
        return body

    def unexpected(self, what: str) -> UpstreamError:
        return UpstreamError(f"{self.name} answered {what} with an unexpected response.", status_code=502)

    async def read_bytes(
        self, path: str, *, what: str, max_bytes: int, params: Params | None = None
    ) -> tuple[bytes, bool]:
        """GET a download, reading at most `max_bytes`; (the bytes, whether the rest was left unread)."""
        request = self._build("GET", path, {"params": params})
        response = await self.http.send(request, stream=True)
        try:
            self.raise_for_status(response, what=what)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    return b"".join(chunks)[:max_bytes], True
            return b"".join(chunks), False
        finally:
            await response.aclose()

    # --- pagination --------------------------------------------------------------------------------------

    def _items(self, body: Any, key: str | None, what: str) -> list[Item]:
        items = body if key is None else (body.get(key) if isinstance(body, dict) else None) or []
        if not isinstance(items, list):
            raise self.unexpected(what)
        return [item for item in items if isinstance(item, dict)]

    async def paginate_links(
        self,
        path: str,
        *,
        what: str,
        limit: int,
        max_pages: int,
        params: Params | None = None,
        items_key: str | None = None,
        next_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        keep: Callable[[Item], bool] | None = None,
    ) -> tuple[list[Item], bool]:
        """A listing whose answer links to the next page: the `Link: <...>; rel="next"` header (RFC 8288), or
        `body[next_key]` (e.g. `@odata.nextLink`). The items are the answer itself, or `body[items_key]`.
        A link carries every query parameter; a link to another origin is not followed."""

        async def fetch(link: str | None, wanted: int) -> Page:
            response = await self.send(
                "GET", link or path, what=what, params=None if link else params, headers=headers or {}
            )
            body = self.json_value(response, what=what)
            next_url = response.links.get("next", {}).get("url") if next_key is None else (body or {}).get(next_key)
            if not isinstance(next_url, str) or not next_url:
                return Page(self._items(body, items_key, what))
            if not self.owns(next_url):
                return Page(self._items(body, items_key, what), more=True)
            return Page(self._items(body, items_key, what), next=next_url)

        return await collect_pages(fetch, limit=limit, max_pages=max_pages, keep=keep)

    async def paginate_tokens(
        self,
        path: str,
        *,
        what: str,
        limit: int,
        max_pages: int,
        items_key: str,
        token_param: str,
        next_token: str | NextOf,
        size_param: str | None = None,
        page_size: int = 100,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        keep: Callable[[Item], bool] | None = None,
    ) -> tuple[list[Item], bool]:
        """A listing that answers a token (or cursor) for the next page, e.g. Google's `nextPageToken`.

        `next_token` is the answer's key holding it, or a function of the answer (for a token nested deeper or
        cancelled by a flag). The token and page size (`size_param`, at most `page_size`, never more than the
        items still wanted) go in the query, or in the JSON body when `json` is given (a POST search)."""

        async def fetch(token: str | None, wanted: int) -> Page:
            paging: dict[str, Any] = {size_param: min(page_size, wanted)} if size_param else {}
            if token:
                paging[token_param] = token
            if json is not None:
                body = await self.request(method, path, what=what, params=params, json={**json, **paging})
            else:
                body = await self.request(method, path, what=what, params={**(params or {}), **paging})
            found = body.get(next_token) if isinstance(next_token, str) else next_token(body)
            token = found.strip() if isinstance(found, str) else None
            return Page(self._items(body, items_key, what), next=token or None)

        return await collect_pages(fetch, limit=limit, max_pages=max_pages, keep=keep)

    async def paginate_offset(
        self,
        path: str,
        *,
        what: str,
        limit: int,
        max_pages: int,
        items_key: str,
        offset_param: str,
        size_param: str,
        page_size: int,
        params: Mapping[str, Any] | None = None,
        is_last: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> tuple[list[Item], bool]:
        """A listing paged by the index of its first item (`startAt`, `offset`). The last page is the one
        `is_last(answer)` says is (by default: one with fewer items than asked for, or none)."""

        async def fetch(offset: str | None, wanted: int) -> Page:
            start, size = int(offset or 0), min(page_size, wanted)
            query = {**(params or {}), offset_param: start, size_param: size}
            body = await self.get_json(path, what=what, params=query)
            items = self._items(body, items_key, what)
            last = is_last(body) if is_last is not None else len(items) < size
            return Page(items, next=None if last or not items else str(start + len(items)))

        return await collect_pages(fetch, limit=limit, max_pages=max_pages)
