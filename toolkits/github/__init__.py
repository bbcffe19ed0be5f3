"""GitHub toolkit: repositories, issues, pull requests and code search for the signed-in GitHub user.

Tools act through the GitHub REST API (https://docs.github.com/en/rest, version 2022-11-28) with the user's
OAuth token. Point it at another API (GitHub Enterprise Server's `https://HOST/api/v3`, or a stand-in) with
`[toolkit_settings.github] api_base_url = "..."`. Scope choices are explained in `toolkits.github.tools`.
"""

from toolkits.github.tools import (
    comment_on_issue,
    create_issue,
    get_issue,
    get_pull_request,
    get_repository,
    list_issues,
    list_pull_requests,
    list_repositories,
    search_code,
)

TOOLKIT_NAME = "GitHub"

__all__ = [
    "TOOLKIT_NAME",
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
