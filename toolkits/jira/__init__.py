"""Jira: find issues with JQL, read, create, update, transition and comment on them, and list projects, with
the user's Atlassian authorization.

Talks to the Jira Cloud platform REST API v3 through Atlassian's API gateway
(`https://api.atlassian.com/ex/jira/{cloudid}/rest/api/3`, https://developer.atlassian.com/cloud/jira/platform/rest/v3/),
the cloud id found with `GET /oauth/token/accessible-resources` once per user. Set `[toolkit_settings.jira]
api_base_url` to point it elsewhere (e.g. a stand-in in tests).
"""

from toolkits.jira.tools import (
    comment_on_issue,
    create_issue,
    get_issue,
    list_projects,
    list_sites,
    list_transitions,
    search_issues,
    transition_issue,
    update_issue,
)

__all__ = [
    "comment_on_issue",
    "create_issue",
    "get_issue",
    "list_projects",
    "list_sites",
    "list_transitions",
    "search_issues",
    "transition_issue",
    "update_issue",
]
