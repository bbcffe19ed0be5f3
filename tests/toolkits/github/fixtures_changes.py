"""GitHub REST API bodies for the tools that change things and their companions (reviews, files, branches,
commits, issue search). Shapes and values follow the 200/201 examples of each operation in GitHub's OpenAPI
description (github/rest-api-description, descriptions/api.github.com, version 2022-11-28), trimmed to the
fields the toolkit reads plus a few it must ignore; each names its operation page and component schema."""

from __future__ import annotations

import base64
from typing import Any

from tests.toolkits.github.fixtures import ISSUE, OCTOCAT, PULL_REQUEST, REPOSITORY

# https://docs.github.com/en/rest/pulls/reviews?apiVersion=2022-11-28#create-a-review-for-a-pull-request
# (200 example, `#/components/schemas/pull-request-review`); #list-reviews-for-a-pull-request lists the same object.
REVIEW: dict[str, Any] = {
    "id": 80,
    "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA=",
    "user": OCTOCAT,
    "body": "This is close to perfect! Please address the suggested inline change.",
    "state": "CHANGES_REQUESTED",
    "html_url": "https://github.com/octocat/Hello-World/pull/12#pullrequestreview-80",
    "pull_request_url": "https://api.github.com/repos/octocat/Hello-World/pulls/12",
    "_links": {"html": {"href": "https://github.com/octocat/Hello-World/pull/12#pullrequestreview-80"}},
    "submitted_at": "2019-11-17T17:43:43Z",
    "commit_id": "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091",
    "author_association": "COLLABORATOR",
}

# https://docs.github.com/en/rest/pulls/comments?apiVersion=2022-11-28#create-a-review-comment-for-a-pull-request
# (201 example, `#/components/schemas/pull-request-review-comment`); the list operation returns the same object.
REVIEW_COMMENT: dict[str, Any] = {
    "url": "https://api.github.com/repos/octocat/Hello-World/pulls/comments/1",
    "pull_request_review_id": 42,
    "id": 10,
    "node_id": "MDI0OlB1bGxSZXF1ZXN0UmV2aWV3Q29tbWVudDEw",
    "diff_hunk": "@@ -16,33 +16,40 @@ public class Connection : IConnection...",
    "path": "file1.txt",
    "position": 1,
    "original_position": 4,
    "commit_id": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "original_commit_id": "9c48853fa3dc5c1c3d6f1f1cd1f2743e72652840",
    "in_reply_to_id": 8,
    "user": OCTOCAT,
    "body": "Great stuff!",
    "created_at": "2011-04-14T16:00:49Z",
    "updated_at": "2011-04-14T16:00:49Z",
    "html_url": "https://github.com/octocat/Hello-World/pull/1#discussion-diff-1",
    "pull_request_url": "https://api.github.com/repos/octocat/Hello-World/pulls/1",
    "author_association": "NONE",
    "start_line": 1,
    "original_start_line": 1,
    "start_side": "RIGHT",
    "line": 2,
    "original_line": 2,
    "side": "RIGHT",
}

# https://docs.github.com/en/rest/pulls/pulls?apiVersion=2022-11-28#merge-a-pull-request
# (200 example, `#/components/schemas/pull-request-merge-result`); 405 and 409 answer `basic-error` bodies.
MERGE_RESULT = {
    "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "merged": True,
    "message": "Pull Request successfully merged",
}
NOT_MERGEABLE = {
    "message": "Pull Request is not mergeable",
    "documentation_url": "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request",
}

# https://docs.github.com/en/rest/pulls/review-requests?apiVersion=2022-11-28#request-reviewers-for-a-pull-request
# (201 example, `#/components/schemas/pull-request-simple`): the pull request with its requested reviewers.
REVIEW_REQUESTED: dict[str, Any] = {
    **{k: v for k, v in PULL_REQUEST.items() if k not in ("merged", "mergeable", "commits", "additions")},
    "requested_reviewers": [{**OCTOCAT, "login": "other_user", "id": 1}],
    "requested_teams": [
        {
            "id": 1,
            "node_id": "MDQ6VGVhbTE=",
            "name": "Justice League",
            "slug": "justice-league",
            "description": "A great team.",
            "privacy": "closed",
            "permission": "admin",
        }
    ],
}


# https://docs.github.com/en/rest/git/refs?apiVersion=2022-11-28#get-a-reference (200 example) and
# #create-a-reference (201 example), `#/components/schemas/git-ref`.
def git_ref(branch: str, sha: str) -> dict[str, Any]:
    return {
        "ref": f"refs/heads/{branch}",
        "node_id": "MDM6UmVmcmVmcy9oZWFkcy9mZWF0dXJlQQ==",
        "url": f"https://api.github.com/repos/octocat/Hello-World/git/refs/heads/{branch}",
        "object": {
            "type": "commit",
            "sha": sha,
            "url": f"https://api.github.com/repos/octocat/Hello-World/git/commits/{sha}",
        },
    }


MASTER_SHA = "aa218f56b14c9653891f9e74264a383fa43fefbd"

# https://docs.github.com/en/rest/branches/branches?apiVersion=2022-11-28#list-branches
# (200 example, a list of `#/components/schemas/short-branch`).
BRANCH = {
    "name": "master",
    "commit": {
        "sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc",
        "url": "https://api.github.com/repos/octocat/Hello-World/commits/c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc",
    },
    "protected": True,
}

# https://docs.github.com/en/rest/commits/commits?apiVersion=2022-11-28#list-commits
# (200 example, a list of `#/components/schemas/commit`).
COMMIT: dict[str, Any] = {
    "url": "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "node_id": "MDY6Q29tbWl0NmRjYjA5YjViNTc4NzVmMzM0ZjYxYWViZWQ2OTVlMmU0MTkzZGI1ZQ==",
    "html_url": "https://github.com/octocat/Hello-World/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "commit": {
        "url": "https://api.github.com/repos/octocat/Hello-World/git/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "author": {"name": "Monalisa Octocat", "email": "support@github.com", "date": "2011-04-14T16:00:49Z"},
        "committer": {"name": "Monalisa Octocat", "email": "support@github.com", "date": "2011-04-14T16:00:49Z"},
        "message": "Fix all the bugs",
        "tree": {
            "url": "https://api.github.com/repos/octocat/Hello-World/tree/6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        },
        "comment_count": 0,
        "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
    },
    "author": OCTOCAT,
    "committer": OCTOCAT,
    "parents": [
        {
            "url": "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        }
    ],
}

# https://docs.github.com/en/rest/repos/contents?apiVersion=2022-11-28#get-repository-content
# ("Response if content is a file" example, `#/components/schemas/content-file`; the example's content is
# placeholder text, so a real base64 body stands in for it).
README_TEXT = "# Hello World\n\nHello World! 👋 This repository is the first one for many people on GitHub.\n"
_ENCODED = base64.b64encode(README_TEXT.encode()).decode()
CONTENT_FILE: dict[str, Any] = {
    "type": "file",
    "encoding": "base64",
    "size": len(README_TEXT.encode()),
    "name": "README.md",
    "path": "README.md",
    # GitHub wraps the base64 text at 60 characters per line
    "content": "".join(_ENCODED[i : i + 60] + "\n" for i in range(0, len(_ENCODED), 60)),
    "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
    "url": "https://api.github.com/repos/octokit/octokit.rb/contents/README.md",
    "git_url": "https://api.github.com/repos/octokit/octokit.rb/git/blobs/3d21ec53a331a6f037a91c368710b99387d012c1",
    "html_url": "https://github.com/octokit/octokit.rb/blob/master/README.md",
    "download_url": "https://raw.githubusercontent.com/octokit/octokit.rb/master/README.md",
    "_links": {
        "git": "https://api.github.com/repos/octokit/octokit.rb/git/blobs/3d21ec53a331a6f037a91c368710b99387d012c1",
        "self": "https://api.github.com/repos/octokit/octokit.rb/contents/README.md",
        "html": "https://github.com/octokit/octokit.rb/blob/master/README.md",
    },
}

# Same page, "Response if content is a directory" example (`#/components/schemas/content-directory`).
CONTENT_DIRECTORY: list[dict[str, Any]] = [
    {
        "type": "file",
        "size": 625,
        "name": "octokit.rb",
        "path": "lib/octokit.rb",
        "sha": "fff6fe3a23bf1c8ea0692b4a883af99bee26fd3b",
        "url": "https://api.github.com/repos/octokit/octokit.rb/contents/lib/octokit.rb",
        "html_url": "https://github.com/octokit/octokit.rb/blob/master/lib/octokit.rb",
    },
    {
        "type": "dir",
        "size": 0,
        "name": "octokit",
        "path": "lib/octokit",
        "sha": "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d",
        "url": "https://api.github.com/repos/octokit/octokit.rb/contents/lib/octokit",
        "html_url": "https://github.com/octokit/octokit.rb/tree/master/lib/octokit",
    },
]

# https://docs.github.com/en/rest/repos/contents?apiVersion=2022-11-28#create-or-update-file-contents
# (200/201 example, `#/components/schemas/file-commit`).
FILE_COMMIT: dict[str, Any] = {
    "content": {
        "name": "hello.txt",
        "path": "notes/hello.txt",
        "sha": "95b966ae1c166bd92f8ae7d1c313e738c731dfc3",
        "size": 9,
        "url": "https://api.github.com/repos/octocat/Hello-World/contents/notes/hello.txt",
        "html_url": "https://github.com/octocat/Hello-World/blob/master/notes/hello.txt",
        "git_url": "https://api.github.com/repos/octocat/Hello-World/git/blobs/95b966ae1c166bd92f8ae7d1c313e738c731dfc3",
        "download_url": "https://raw.githubusercontent.com/octocat/HelloWorld/master/notes/hello.txt",
        "type": "file",
    },
    "commit": {
        "sha": "7638417db6d59f3c431d3e1f261cc637155684cd",
        "node_id": "MDY6Q29tbWl0NzYzODQxN2RiNmQ1OWYzYzQzMWQzZTFmMjYxY2M2MzcxNTU2ODRjZA==",
        "url": "https://api.github.com/repos/octocat/Hello-World/git/commits/7638417db6d59f3c431d3e1f261cc637155684cd",
        "html_url": "https://github.com/octocat/Hello-World/git/commit/7638417db6d59f3c431d3e1f261cc637155684cd",
        "author": {"date": "2014-11-07T22:01:45Z", "name": "Monalisa Octocat", "email": "octocat@github.com"},
        "committer": {"date": "2014-11-07T22:01:45Z", "name": "Monalisa Octocat", "email": "octocat@github.com"},
        "message": "my commit message",
        "tree": {
            "url": "https://api.github.com/repos/octocat/Hello-World/git/trees/691272480426f78a0138979dd3ce63b77f706feb",
            "sha": "691272480426f78a0138979dd3ce63b77f706feb",
        },
        "parents": [
            {
                "url": "https://api.github.com/repos/octocat/Hello-World/git/commits/1acc419d4d6a9ce985db7be48c6349a0475975b5",
                "html_url": "https://github.com/octocat/Hello-World/git/commit/1acc419d4d6a9ce985db7be48c6349a0475975b5",
                "sha": "1acc419d4d6a9ce985db7be48c6349a0475975b5",
            }
        ],
        "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
    },
}

# https://docs.github.com/en/rest/search/search?apiVersion=2022-11-28#search-issues-and-pull-requests
# (200 example: `#/components/schemas/issue-search-result-item`, the issue object plus `score`).
SEARCH_ISSUES: dict[str, Any] = {
    "total_count": 280,
    "incomplete_results": False,
    "items": [
        {
            **{k: v for k, v in ISSUE.items() if k != "pull_request"},
            "score": 1,
            "title": "Spelling error in the README file",
            "number": 1347,
        }
    ],
}

REPOSITORY_MAIN = {**REPOSITORY, "default_branch": "main"}
