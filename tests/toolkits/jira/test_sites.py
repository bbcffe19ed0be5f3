"""Jira site discovery: accessible-resources asked once per user, cached by user (never by token), bounded, and
clear messages for no site, several sites and an unknown site."""

from __future__ import annotations

import httpx2
import pytest

from mcp_server import ToolContext, ToolExecutionError, UpstreamAuthError, UpstreamError
from tests.toolkits.jira.jira_examples import (
    CLOUD_ID,
    CONFLUENCE_SITE,
    JIRA_SITE,
    OTHER_CLOUD_ID,
    OTHER_JIRA_SITE,
    PROJECTS_PAGE_2,
    TRANSITIONS,
)
from tests.toolkits.recorder import Recorder, context_for
from toolkits.jira import list_projects, list_sites, list_transitions, sites
from toolkits.jira.sites import Site, SiteCache

pytestmark = pytest.mark.anyio

BASE = "https://atlassian.test"
RESOURCES = "/oauth/token/accessible-resources"


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sites, "CACHE", SiteCache())


def make_context(recorder: Recorder, *, user_id: str = "u1", token: str = "tok-atl-1") -> ToolContext:
    return context_for(recorder, provider_id="atlassian", token=token, settings={"api_base_url": BASE}, user_id=user_id)


def resources(*found: dict[str, object]) -> httpx2.Response:
    return httpx2.Response(200, json=list(found))


async def test_the_cloud_id_is_discovered_once_per_user_and_used_in_the_path() -> None:
    recorder = Recorder(
        resources(JIRA_SITE, CONFLUENCE_SITE),
        httpx2.Response(200, json=TRANSITIONS),
        httpx2.Response(200, json=TRANSITIONS),
    )
    await list_transitions(make_context(recorder), issue="ED-1")
    # The same user with a refreshed token: the cache is keyed by user, so no second discovery.
    await list_transitions(make_context(recorder, token="tok-atl-2"), issue="ED-1")

    discovery, first, second = recorder.requests
    assert discovery.method == "GET" and str(discovery.url) == f"{BASE}{RESOURCES}"
    assert discovery.headers["authorization"] == "Bearer tok-atl-1"
    assert first.url.path == f"/ex/jira/{CLOUD_ID}/rest/api/3/issue/ED-1/transitions"
    assert second.url.path == first.url.path
    assert second.headers["authorization"] == "Bearer tok-atl-2"
    assert len(sites.CACHE) == 1


async def test_each_user_discovers_their_own_sites() -> None:
    recorder = Recorder(
        resources(JIRA_SITE),
        httpx2.Response(200, json=TRANSITIONS),
        resources(OTHER_JIRA_SITE),
        httpx2.Response(200, json=TRANSITIONS),
    )
    await list_transitions(make_context(recorder, user_id="ana"), issue="ED-1")
    await list_transitions(make_context(recorder, user_id="bo"), issue="ED-1")
    paths = [r.url.path for r in recorder.requests]
    assert paths == [
        RESOURCES,
        f"/ex/jira/{CLOUD_ID}/rest/api/3/issue/ED-1/transitions",
        RESOURCES,
        f"/ex/jira/{OTHER_CLOUD_ID}/rest/api/3/issue/ED-1/transitions",
    ]


async def test_several_sites_need_a_choice_and_the_message_lists_them() -> None:
    recorder = Recorder(resources(JIRA_SITE, OTHER_JIRA_SITE))
    with pytest.raises(ToolExecutionError) as caught:
        await list_transitions(make_context(recorder), issue="ED-1")
    message = str(caught.value)
    assert "2 Jira sites" in message and "https://acme.atlassian.net" in message and "site" in message
    assert len(recorder.requests) == 1  # the discovery only


@pytest.mark.parametrize(
    "wanted", ["https://acme.atlassian.net", "acme.atlassian.net", "ACME.atlassian.net/", "acme", OTHER_CLOUD_ID]
)
async def test_the_site_parameter_chooses_by_url_host_name_or_cloud_id(wanted: str) -> None:
    recorder = Recorder(resources(JIRA_SITE, OTHER_JIRA_SITE), httpx2.Response(200, json=TRANSITIONS))
    await list_transitions(make_context(recorder), issue="ED-1", site=wanted)
    assert recorder.requests[1].url.path == f"/ex/jira/{OTHER_CLOUD_ID}/rest/api/3/issue/ED-1/transitions"


async def test_an_unknown_site_asks_atlassian_again_then_says_which_sites_exist() -> None:
    recorder = Recorder(
        resources(JIRA_SITE),
        httpx2.Response(200, json=TRANSITIONS),  # first call fills the cache
        resources(JIRA_SITE),  # the unknown site makes the next call ask again
    )
    await list_transitions(make_context(recorder), issue="ED-1")
    with pytest.raises(
        ToolExecutionError, match=r"No Jira site matches site='other\.atlassian\.net'; the user's sites are: Site name"
    ):
        await list_transitions(make_context(recorder), issue="ED-1", site="other.atlassian.net")
    assert [r.url.path for r in recorder.requests] == [
        RESOURCES,
        f"/ex/jira/{CLOUD_ID}/rest/api/3/issue/ED-1/transitions",
        RESOURCES,
    ]


async def test_no_jira_site_is_a_clear_message() -> None:
    recorder = Recorder(resources(CONFLUENCE_SITE))
    with pytest.raises(ToolExecutionError, match="no Jira Cloud site"):
        await list_projects(make_context(recorder))
    assert len(recorder.requests) == 1


async def test_a_404_from_the_site_makes_the_next_call_discover_again() -> None:
    recorder = Recorder(
        resources(JIRA_SITE),
        httpx2.Response(
            404, json={"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
        ),
        resources(OTHER_JIRA_SITE),
        httpx2.Response(200, json=TRANSITIONS),
    )
    with pytest.raises(UpstreamError, match="the transitions of ED-1 was not found"):
        await list_transitions(make_context(recorder), issue="ED-1")
    await list_transitions(make_context(recorder), issue="ED-1")
    assert [r.url.path for r in recorder.requests][2:] == [
        RESOURCES,
        f"/ex/jira/{OTHER_CLOUD_ID}/rest/api/3/issue/ED-1/transitions",
    ]


async def test_a_401_on_discovery_is_an_upstream_auth_error() -> None:
    recorder = Recorder(httpx2.Response(401, json={"code": 401, "message": "Unauthorized"}))
    with pytest.raises(UpstreamAuthError):
        await list_projects(make_context(recorder))
    assert len(sites.CACHE) == 0


async def test_list_sites_always_asks_and_refreshes_the_cache() -> None:
    recorder = Recorder(
        resources(JIRA_SITE), resources(JIRA_SITE, OTHER_JIRA_SITE), httpx2.Response(200, json=PROJECTS_PAGE_2)
    )
    first = await list_sites(make_context(recorder))
    second = await list_sites(make_context(recorder))
    assert first == {
        "sites": [{"url": "https://your-domain.atlassian.net", "name": "Site name", "cloud_id": CLOUD_ID}],
        "count": 1,
    }
    assert second["count"] == 2
    await list_projects(make_context(recorder), site="acme")  # the refreshed cache knows acme: no third discovery
    assert [r.url.path for r in recorder.requests] == [
        RESOURCES,
        RESOURCES,
        f"/ex/jira/{OTHER_CLOUD_ID}/rest/api/3/project/search",
    ]


def test_the_cache_is_bounded_and_drops_the_least_recently_used_user() -> None:
    cache = SiteCache(max_users=2)
    site = (Site(cloud_id=CLOUD_ID, name="Site name", url="https://your-domain.atlassian.net"),)
    cache.put(("ana", "atlassian", ""), site)
    cache.put(("bo", "atlassian", ""), site)
    assert cache.get(("ana", "atlassian", "")) == site  # ana is now the most recently used
    cache.put(("cy", "atlassian", ""), site)
    assert len(cache) == 2
    assert cache.get(("bo", "atlassian", "")) is None
    assert cache.get(("ana", "atlassian", "")) == site and cache.get(("cy", "atlassian", "")) == site


def test_the_cache_key_is_the_user_provider_and_account_never_the_token() -> None:
    recorder = Recorder()
    context = context_for(
        recorder,
        provider_id="atlassian",
        token="tok-secret",
        settings={},
        user_id="ana",
        user_info={"account_id": "5b10a2844c20165700ede21g"},
    )
    key = sites.cache_key(context)
    assert key == ("ana", "atlassian", "5b10a2844c20165700ede21g")
    assert "tok-secret" not in repr(key)
