"""Which Jira Cloud site a call goes to: Atlassian's cloud id discovery, remembered per user.

An OAuth 2.0 (3LO) token works for every site the user granted; each site's API lives under
`https://api.atlassian.com/ex/jira/{cloudid}`, and `GET /oauth/token/accessible-resources` lists the sites with
their cloud ids (https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/#3--make-calls-to-the-api-using-the-access-token).
Sites rarely change, so the list is asked for once per user and kept in a bounded, least-recently-used cache
keyed by the authmcp user and the provider, never by the token. A site the cache does not know, and any 401, 403
or 404 from a site, make the next call ask again.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from mcp_server import ProviderAPI, ToolContext, ToolExecutionError

if TYPE_CHECKING:
    import httpx2

API_BASE_URL = "https://api.atlassian.com"
MAX_CACHED_USERS = 1024

_CLOUD_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


@dataclass(frozen=True)
class Site:
    cloud_id: str
    name: str
    url: str

    def matches(self, wanted: str) -> bool:
        """`wanted` names this site by cloud id, name, URL or host (any letter case, with or without https://)."""
        wanted = wanted.strip().lower().rstrip("/")
        host = self.url.lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        return wanted in {self.cloud_id.lower(), self.name.lower(), host} or wanted.removeprefix("https://") == host


class SiteCache:
    """The Jira sites of each user, least recently used dropped first beyond `max_users`."""

    def __init__(self, max_users: int = MAX_CACHED_USERS) -> None:
        self._sites: OrderedDict[tuple[str, ...], tuple[Site, ...]] = OrderedDict()
        self._max_users = max_users

    def get(self, key: tuple[str, ...]) -> tuple[Site, ...] | None:
        sites = self._sites.get(key)
        if sites is not None:
            self._sites.move_to_end(key)
        return sites

    def put(self, key: tuple[str, ...], sites: tuple[Site, ...]) -> None:
        self._sites[key] = sites
        self._sites.move_to_end(key)
        while len(self._sites) > self._max_users:
            self._sites.popitem(last=False)

    def forget(self, key: tuple[str, ...]) -> None:
        self._sites.pop(key, None)

    def __len__(self) -> int:
        return len(self._sites)


# One per process: toolkits have no lifespan of their own. It holds cloud ids, names and URLs, no secret.
CACHE = SiteCache()


class AtlassianAPI(ProviderAPI):
    """Atlassian's API gateway for one tool call. A 401, 403 or 404 also makes the next call discover the
    user's sites again, in case the site went away."""

    name = "Jira"
    default_base_url = API_BASE_URL
    headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    def check(self, response: httpx2.Response, *, what: str) -> None:
        if response.status_code in (401, 403, 404):
            CACHE.forget(cache_key(self.context))


def cache_key(context: ToolContext) -> tuple[str, ...]:
    """The user, the provider and, when the provider's profile gives it, the Atlassian account: a user who
    connects another account gets a new entry."""
    authorization = context.authorization
    provider = authorization.provider_id if authorization is not None else ""
    account = str((authorization.user_info or {}).get("account_id", "")) if authorization is not None else ""
    return (context.user_id, provider, account)


async def discover(context: ToolContext) -> tuple[Site, ...]:
    """The Jira sites the user's token reaches, asked of Atlassian now (and cached)."""
    api = AtlassianAPI(context)
    what = "the list of the user's Atlassian sites"
    data = api.json_value(await api.send("GET", "/oauth/token/accessible-resources", what=what), what=what)
    resources = data if isinstance(data, list) else []
    sites = tuple(
        Site(cloud_id=str(r["id"]), name=str(r.get("name") or ""), url=str(r.get("url") or ""))
        for r in resources
        if isinstance(r, dict)
        and _CLOUD_ID.fullmatch(str(r.get("id", "")))
        # A resource is a Jira site when its granted scopes are Jira scopes; Confluence sites are listed too.
        and any("jira" in str(scope) for scope in r.get("scopes") or [])
    )
    CACHE.put(cache_key(context), sites)
    return sites


async def choose(context: ToolContext, wanted: str | None) -> Site:
    """The site a call goes to: the one named by `wanted`, else the user's only Jira site.

    Raises:
        ToolExecutionError: No Jira site, several and none chosen, or `wanted` names none of them.
    """
    wanted = (wanted or "").strip() or None
    sites = CACHE.get(cache_key(context))
    if sites is None or (wanted and not any(s.matches(wanted) for s in sites)):
        sites = await discover(context)
    if not sites:
        raise ToolExecutionError(
            "The connected Atlassian account gives this app access to no Jira Cloud site. The user should "
            "authorize again and pick a Jira site on Atlassian's consent page."
        )
    listing = "; ".join(f"{s.name} ({s.url})" for s in sites)
    if wanted:
        for site in sites:
            if site.matches(wanted):
                return site
        raise ToolExecutionError(f"No Jira site matches site={wanted!r}; the user's sites are: {listing}.")
    if len(sites) > 1:
        raise ToolExecutionError(
            f"The user has {len(sites)} Jira sites: {listing}. Call again with site set to one of their URLs."
        )
    return sites[0]
