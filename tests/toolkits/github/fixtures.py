"""Response bodies of the GitHub REST API, taken from the documented examples (trimmed to the fields the
toolkit reads, plus a few it must ignore). Each fixture cites its documentation page."""

from __future__ import annotations

import copy
from typing import Any

OCTOCAT = {
    "login": "octocat",
    "id": 1,
    "node_id": "MDQ6VXNlcjE=",
    "avatar_url": "https://github.com/images/error/octocat_happy.gif",
    "url": "https://api.github.com/users/octocat",
    "html_url": "https://github.com/octocat",
    "type": "User",
    "site_admin": False,
}

# https://docs.github.com/en/rest/repos/repos?apiVersion=2022-11-28#get-a-repository (200 example)
# and #list-repositories-for-the-authenticated-user (200 example: a list of the same repository object)
REPOSITORY: dict[str, Any] = {
    "id": 1296269,
    "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
    "name": "Hello-World",
    "full_name": "octocat/Hello-World",
    "owner": OCTOCAT,
    "private": False,
    "html_url": "https://github.com/octocat/Hello-World",
    "description": "This your first repo!",
    "fork": False,
    "url": "https://api.github.com/repos/octocat/Hello-World",
    "clone_url": "https://github.com/octocat/Hello-World.git",
    "homepage": "https://github.com",
    "language": None,
    "forks_count": 9,
    "stargazers_count": 80,
    "watchers_count": 80,
    "size": 108,
    "default_branch": "master",
    "open_issues_count": 0,
    "is_template": False,
    "topics": ["octocat", "atom", "electron", "api"],
    "has_issues": True,
    "archived": False,
    "disabled": False,
    "visibility": "public",
    "pushed_at": "2011-01-26T19:06:43Z",
    "created_at": "2011-01-26T19:01:12Z",
    "updated_at": "2011-01-26T19:14:43Z",
    "permissions": {"admin": False, "push": False, "pull": True},
}

LABEL_BUG = {
    "id": 208045946,
    "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
    "url": "https://api.github.com/repos/octocat/Hello-World/labels/bug",
    "name": "bug",
    "description": "Something isn't working",
    "color": "f29513",
    "default": True,
}

MILESTONE = {
    "url": "https://api.github.com/repos/octocat/Hello-World/milestones/1",
    "html_url": "https://github.com/octocat/Hello-World/milestones/v1.0",
    "id": 1002604,
    "number": 1,
    "state": "open",
    "title": "v1.0",
    "description": "Tracking milestone for version 1.0",
    "creator": OCTOCAT,
    "open_issues": 4,
    "closed_issues": 8,
    "created_at": "2011-04-10T20:09:31Z",
    "updated_at": "2014-03-03T18:58:10Z",
    "closed_at": "2013-02-12T13:22:01Z",
    "due_on": "2012-10-09T23:39:01Z",
}

# https://docs.github.com/en/rest/issues/issues?apiVersion=2022-11-28#get-an-issue (200 example); the
# #list-repository-issues example is a list of this object, which carries a `pull_request` key.
ISSUE: dict[str, Any] = {
    "id": 1,
    "node_id": "MDU6SXNzdWUx",
    "url": "https://api.github.com/repos/octocat/Hello-World/issues/1347",
    "repository_url": "https://api.github.com/repos/octocat/Hello-World",
    "html_url": "https://github.com/octocat/Hello-World/issues/1347",
    "number": 1347,
    "state": "open",
    "title": "Found a bug",
    "body": "I'm having a problem with this.",
    "user": OCTOCAT,
    "labels": [LABEL_BUG],
    "assignee": OCTOCAT,
    "assignees": [OCTOCAT],
    "milestone": MILESTONE,
    "locked": True,
    "active_lock_reason": "too heated",
    "comments": 0,
    "pull_request": {
        "url": "https://api.github.com/repos/octocat/Hello-World/pulls/1347",
        "html_url": "https://github.com/octocat/Hello-World/pull/1347",
        "diff_url": "https://github.com/octocat/Hello-World/pull/1347.diff",
        "patch_url": "https://github.com/octocat/Hello-World/pull/1347.patch",
    },
    "closed_at": None,
    "created_at": "2011-04-22T13:33:48Z",
    "updated_at": "2011-04-22T13:33:48Z",
    "author_association": "COLLABORATOR",
    "state_reason": "completed",
}


def plain_issue(number: int, title: str) -> dict[str, Any]:
    """The documented issue without its `pull_request` key: an issue that is not a pull request."""
    issue = copy.deepcopy(ISSUE)
    del issue["pull_request"]
    issue["number"] = number
    issue["title"] = title
    issue["html_url"] = f"https://github.com/octocat/Hello-World/issues/{number}"
    return issue


# https://docs.github.com/en/rest/issues/comments?apiVersion=2022-11-28#create-an-issue-comment (201 example)
ISSUE_COMMENT: dict[str, Any] = {
    "id": 1,
    "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
    "url": "https://api.github.com/repos/octocat/Hello-World/issues/comments/1",
    "html_url": "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1",
    "body": "Me too",
    "user": OCTOCAT,
    "created_at": "2011-04-14T16:00:49Z",
    "updated_at": "2011-04-14T16:00:49Z",
    "issue_url": "https://api.github.com/repos/octocat/Hello-World/issues/1347",
    "author_association": "COLLABORATOR",
}

# https://docs.github.com/en/rest/pulls/pulls?apiVersion=2022-11-28#get-a-pull-request (200 example); the
# #list-pull-requests example is a list of the same object without the merge and size fields.
PULL_REQUEST: dict[str, Any] = {
    "url": "https://api.github.com/repos/octocat/Hello-World/pulls/1347",
    "id": 1,
    "node_id": "MDExOlB1bGxSZXF1ZXN0MQ==",
    "html_url": "https://github.com/octocat/Hello-World/pull/1347",
    "diff_url": "https://github.com/octocat/Hello-World/pull/1347.diff",
    "number": 1347,
    "state": "open",
    "locked": True,
    "title": "Amazing new feature",
    "user": OCTOCAT,
    "body": "Please pull these awesome changes in!",
    "labels": [LABEL_BUG],
    "milestone": MILESTONE,
    "active_lock_reason": "too heated",
    "created_at": "2011-01-26T19:01:12Z",
    "updated_at": "2011-01-26T19:01:12Z",
    "closed_at": "2011-01-26T19:01:12Z",
    "merged_at": "2011-01-26T19:01:12Z",
    "merge_commit_sha": "e5bd3914e2e596debea16f433f57875b5b90bcd6",
    "assignee": OCTOCAT,
    "assignees": [OCTOCAT, {**OCTOCAT, "login": "hubot", "id": 2}],
    "requested_reviewers": [{**OCTOCAT, "login": "other_user", "id": 1}],
    "head": {
        "label": "octocat:new-topic",
        "ref": "new-topic",
        "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "user": OCTOCAT,
        "repo": REPOSITORY,
    },
    "base": {
        "label": "octocat:master",
        "ref": "master",
        "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "user": OCTOCAT,
        "repo": REPOSITORY,
    },
    "author_association": "OWNER",
    "draft": False,
    "merged": False,
    "mergeable": True,
    "rebaseable": True,
    "mergeable_state": "clean",
    "merged_by": OCTOCAT,
    "comments": 10,
    "review_comments": 0,
    "maintainer_can_modify": True,
    "commits": 3,
    "additions": 100,
    "deletions": 3,
    "changed_files": 5,
}

# https://docs.github.com/en/rest/pulls/pulls?apiVersion=2022-11-28#list-pull-requests-files (200 example)
PULL_REQUEST_FILE: dict[str, Any] = {
    "sha": "bbcd538c8e72b8c175046e27cc8f907076331401",
    "filename": "file1.txt",
    "status": "added",
    "additions": 103,
    "deletions": 21,
    "changes": 124,
    "blob_url": "https://github.com/octocat/Hello-World/blob/6dcb09b5b57875f334f61aebed695e2e4193db5e/file1.txt",
    "raw_url": "https://github.com/octocat/Hello-World/raw/6dcb09b5b57875f334f61aebed695e2e4193db5e/file1.txt",
    "contents_url": "https://api.github.com/repos/octocat/Hello-World/contents/file1.txt?ref=6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "patch": "@@ -132,7 +132,7 @@ module Test @@ -1000,7 +1000,7 @@ module Test",
}

# https://docs.github.com/en/rest/search/search?apiVersion=2022-11-28#search-code (200 example)
SEARCH_CODE: dict[str, Any] = {
    "total_count": 7,
    "incomplete_results": False,
    "items": [
        {
            "name": "classes.js",
            "path": "src/attributes/classes.js",
            "sha": "d7212f9dee2dcc18f084d7df8f417b80846ded5a",
            "url": "https://api.github.com/repositories/167174/contents/src/attributes/classes.js?ref=825ac3773694e0cd23ee74895fd5aeb535b27da4",
            "git_url": "https://api.github.com/repositories/167174/git/blobs/d7212f9dee2dcc18f084d7df8f417b80846ded5a",
            "html_url": "https://github.com/jquery/jquery/blob/825ac3773694e0cd23ee74895fd5aeb535b27da4/src/attributes/classes.js",
            "repository": {
                "id": 167174,
                "node_id": "MDEwOlJlcG9zaXRvcnkxNjcxNzQ=",
                "name": "jquery",
                "full_name": "jquery/jquery",
                "owner": {**OCTOCAT, "login": "jquery", "id": 70142},
                "private": False,
                "html_url": "https://github.com/jquery/jquery",
                "description": "jQuery JavaScript Library",
                "fork": False,
            },
            "score": 1,
        }
    ],
}
