"""Linear toolkit: issues (list, search, read, create, update, comment), teams and projects for the signed-in
Linear user, through Linear's GraphQL API (https://linear.app/developers/graphql).

Point it at another endpoint (a stand-in) with `[toolkit_settings.linear] api_base_url = "..."`; the GraphQL
path `/graphql` is appended. Scope choices are explained in `toolkits.linear.tools`.
"""

from toolkits.linear.tools import (
    comment_on_issue,
    create_issue,
    get_issue,
    list_issues,
    list_projects,
    list_teams,
    search_issues,
    update_issue,
)

TOOLKIT_NAME = "Linear"

__all__ = [
    "TOOLKIT_NAME",
    "comment_on_issue",
    "create_issue",
    "get_issue",
    "list_issues",
    "list_projects",
    "list_teams",
    "search_issues",
    "update_issue",
]
