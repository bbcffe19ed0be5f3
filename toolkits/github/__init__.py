"""GitHub toolkit: repositories, branches, commits, files, issues, pull requests, reviews, search and stars for
the signed-in GitHub user.

Tools act through the GitHub REST API (https://docs.github.com/en/rest, version 2022-11-28) with the user's
OAuth token. Point it at another API (GitHub Enterprise Server's `https://HOST/api/v3`, or a stand-in) with
`[toolkit_settings.github] api_base_url = "..."`. Scope choices are explained in `toolkits.github.scopes`.
"""

from toolkits.github.contents import create_or_update_file, get_file_contents
from toolkits.github.issues import (
    comment_on_issue,
    create_issue,
    get_issue,
    list_issue_comments,
    list_issues,
    update_issue,
)
from toolkits.github.pull_requests import (
    create_pull_request,
    get_pull_request,
    list_pull_requests,
    merge_pull_request,
    request_reviewers,
    update_pull_request,
)
from toolkits.github.repositories import (
    create_branch,
    get_repository,
    list_branches,
    list_commits,
    list_repositories,
    star_repository,
    unstar_repository,
)
from toolkits.github.reviews import create_review, create_review_comment, list_review_comments, list_reviews
from toolkits.github.search import search_code, search_issues

TOOLKIT_NAME = "GitHub"

__all__ = [
    "TOOLKIT_NAME",
    "comment_on_issue",
    "create_branch",
    "create_issue",
    "create_or_update_file",
    "create_pull_request",
    "create_review",
    "create_review_comment",
    "get_file_contents",
    "get_issue",
    "get_pull_request",
    "get_repository",
    "list_branches",
    "list_commits",
    "list_issue_comments",
    "list_issues",
    "list_pull_requests",
    "list_repositories",
    "list_review_comments",
    "list_reviews",
    "merge_pull_request",
    "request_reviewers",
    "search_code",
    "search_issues",
    "star_repository",
    "unstar_repository",
    "update_issue",
    "update_pull_request",
]
