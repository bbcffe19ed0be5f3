"""Jira Cloud response bodies for the Jira toolkit's tests.

Source: Jira Cloud platform REST API v3, OpenAPI description (swagger-v3.v3.json, version
1001.0.0-SNAPSHOT-9b059c1e8a74fa4426b627b660d5dbfab0549c4d, from
https://developer.atlassian.com/cloud/jira/platform/swagger-v3.v3.json), the documented 200/201 examples of the
operations the toolkit calls, trimmed to what it reads (the operation id is named per fixture). Where the
example lacks a field the toolkit reads, the field is written in the shape of its schema (StatusDetails,
IssueTypeDetails, Priority, UserDetails, PageOfComments), and the comment says so. The site list comes from
Atlassian's "Making calls to API" page, the only published description of accessible-resources.
"""

from __future__ import annotations

from typing import Any

CLOUD_ID = "1324a887-45db-1bf4-1e99-ef0ff456d421"
OTHER_CLOUD_ID = "9e2b7f10-0c6f-4f4e-8c1d-2a3b4c5d6e7f"

# GET https://api.atlassian.com/oauth/token/accessible-resources, the documented "Jira site" example
# (https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/).
JIRA_SITE = {
    "id": CLOUD_ID,
    "name": "Site name",
    "url": "https://your-domain.atlassian.net",
    "scopes": ["write:jira-work", "read:jira-user", "manage:jira-configuration"],
    "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
}
# Whether a token granted only read:jira-work lists its site with exactly that scope (the example shows other
# scopes) is only known from the live service; the toolkit keeps any resource with a Jira scope.
# A second site of the same shape, and a Confluence-only resource (its scopes are Confluence scopes), which the
# same endpoint lists for a token granted both products.
OTHER_JIRA_SITE = {
    "id": OTHER_CLOUD_ID,
    "name": "acme",
    "url": "https://acme.atlassian.net",
    "scopes": ["read:jira-work", "write:jira-work"],
    "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
}
CONFLUENCE_SITE = {
    "id": "5d3c2b1a-0f9e-4d8c-b7a6-958473625140",
    "name": "Site name",
    "url": "https://your-domain.atlassian.net",
    "scopes": ["read:confluence-content.all", "write:confluence-content"],
    "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
}

MIA = {
    "accountId": "5b10a2844c20165700ede21g",
    "active": False,
    "displayName": "Mia Krystof",
    "self": "https://your-domain.atlassian.net/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
}

# getIssue (GET /rest/api/3/issue/{issueIdOrKey}), 200 example: id, key, description (ADF), project, comment.
# summary, status, issuetype, priority, assignee, reporter, labels, created and updated are not in the example;
# they are written in the shape of their schemas. The example's `comment` is a bare list and its `updated` is 1;
# the live API sends a PageOfComments and a timestamp, as here (a test covers the bare list too).
ISSUE: dict[str, Any] = {
    "id": "10002",
    "key": "ED-1",
    "self": "https://your-domain.atlassian.net/rest/api/3/issue/10002",
    "fields": {
        "summary": "Main order flow broken",
        "status": {
            "id": "10000",
            "name": "In Progress",
            "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress", "colorName": "yellow"},
        },
        "issuetype": {"id": "10001", "name": "Bug", "subtask": False},
        "priority": {"id": "2", "name": "High"},
        "assignee": MIA,
        "reporter": {**MIA, "accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Emma Richards"},
        "labels": ["bugfix", "blitz_test"],
        "duedate": "2019-05-11",
        "created": "2021-01-17T12:34:00.000+0000",
        "updated": "2021-01-18T23:45:00.000+1000",
        "description": {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Main order flow broken"}]}],
        },
        "project": {
            "id": "10000",
            "key": "EX",
            "name": "Example",
            "simplified": False,
            "style": "classic",
            "self": "https://your-domain.atlassian.net/rest/api/3/project/EX",
        },
        "comment": {
            "comments": [
                {
                    "author": MIA,
                    "body": {
                        "type": "doc",
                        "version": 1,
                        "content": [
                            {
                                "type": "paragraph",
                                "content": [
                                    {
                                        "type": "text",
                                        "text": "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Pellentesque eget venenatis elit. Duis eu justo eget augue iaculis fermentum. Sed semper quam laoreet nisi egestas at posuere augue semper.",
                                    }
                                ],
                            }
                        ],
                    },
                    "created": "2021-01-17T12:34:00.000+0000",
                    "id": "10000",
                    "self": "https://your-domain.atlassian.net/rest/api/3/issue/10010/comment/10000",
                    "updateAuthor": MIA,
                    "updated": "2021-01-18T23:45:00.000+0000",
                }
            ],
            "maxResults": 1,
            "startAt": 0,
            "total": 1,
        },
    },
}


# searchAndReconsileIssuesUsingJqlPost (POST /rest/api/3/search/jql), 200: {"isLast", "issues", "nextPageToken"}.
# The documented example has one issue (ED-1) and isLast true; a first page carrying nextPageToken (the schema's
# SearchAndReconcileResults) is written in that shape. The issue fields are those the toolkit asks for.
def search_page(*issues: dict[str, Any], next_page_token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"issues": list(issues), "isLast": next_page_token is None}
    if next_page_token:
        page["nextPageToken"] = next_page_token
    return page


SEARCH_ISSUE = dict(ISSUE.items())
SEARCH_ISSUE["fields"] = {k: v for k, v in ISSUE["fields"].items() if k not in {"description", "comment"}}
SECOND_ISSUE = {
    "id": "10003",
    "key": "ED-2",
    "self": "https://your-domain.atlassian.net/rest/api/3/issue/10003",
    "fields": {
        **SEARCH_ISSUE["fields"],
        "summary": "Checkout times out",
        "assignee": None,
        "labels": [],
        "status": {"id": "1", "name": "Open", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
    },
}

# createIssue (POST /rest/api/3/issue), 201 example.
CREATED_ISSUE = {
    "id": "10000",
    "key": "ED-24",
    "self": "https://your-domain.atlassian.net/rest/api/3/issue/10000",
    "transition": {"status": 200, "errorCollection": {"errorMessages": [], "errors": {}}},
}

# createIssue, 400 example ({"errorMessages": [...], "errors": {}}), and the field-level form of the same
# ErrorCollection schema ({"errors": {"<field>": "<message>"}}), which the live API uses for a bad field value.
CREATE_400 = {"errorMessages": ["Field 'priority' is required"], "errors": {}}
CREATE_400_FIELDS = {
    "errorMessages": [],
    "errors": {"issuetype": "Specify an issue type", "priority": "Priority name 'Urgentest' is not valid"},
}

# getTransitions (GET /rest/api/3/issue/{issueIdOrKey}/transitions), 200 example, trimmed (the `fields` screens
# are dropped): "Close Issue" (id 2) to "In Progress", "QA Review" (id 711) to "Closed".
TRANSITIONS = {
    "transitions": [
        {
            "hasScreen": False,
            "id": "2",
            "isAvailable": True,
            "isConditional": False,
            "isGlobal": False,
            "isInitial": False,
            "name": "Close Issue",
            "to": {
                "description": "The issue is currently being worked on.",
                "id": "10000",
                "name": "In Progress",
                "self": "https://your-domain.atlassian.net/rest/api/3/status/10000",
                "statusCategory": {"colorName": "yellow", "id": 1, "key": "in-flight", "name": "In Progress"},
            },
        },
        {
            "hasScreen": True,
            "id": "711",
            "name": "QA Review",
            "to": {
                "description": "The issue is closed.",
                "id": "5",
                "name": "Closed",
                "self": "https://your-domain.atlassian.net/rest/api/3/status/5",
                "statusCategory": {"colorName": "green", "id": 9, "key": "completed"},
            },
        },
    ]
}

# addComment (POST /rest/api/3/issue/{issueIdOrKey}/comment), 201 example.
CREATED_COMMENT = {
    "author": MIA,
    "body": {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Lorem ipsum dolor sit amet."}]}],
    },
    "created": "2021-01-17T12:34:00.000+0000",
    "id": "10000",
    "self": "https://your-domain.atlassian.net/rest/api/3/issue/10010/comment/10000",
    "updateAuthor": MIA,
    "updated": "2021-01-18T23:45:00.000+0000",
    "visibility": {"identifier": "Administrators", "type": "role", "value": "Administrators"},
}

# searchProjects (GET /rest/api/3/project/search), 200 example (page 1 of 2, isLast false, with nextPage); the
# second page is the same shape with isLast true.
PROJECTS_PAGE_1 = {
    "isLast": False,
    "maxResults": 2,
    "nextPage": "https://your-domain.atlassian.net/rest/api/3/project/search?startAt=2&maxResults=2",
    "self": "https://your-domain.atlassian.net/rest/api/3/project/search?startAt=0&maxResults=2",
    "startAt": 0,
    "total": 3,
    "values": [
        {
            "id": "10000",
            "key": "EX",
            "name": "Example",
            "projectTypeKey": "software",
            "simplified": False,
            "style": "classic",
            "self": "https://your-domain.atlassian.net/rest/api/3/project/EX",
        },
        {
            "id": "10001",
            "key": "ABC",
            "name": "Alphabetical",
            "projectTypeKey": "business",
            "simplified": False,
            "style": "classic",
            "self": "https://your-domain.atlassian.net/rest/api/3/project/ABC",
        },
    ],
}
PROJECTS_PAGE_2 = {
    "isLast": True,
    "maxResults": 2,
    "self": "https://your-domain.atlassian.net/rest/api/3/project/search?startAt=2&maxResults=2",
    "startAt": 2,
    "total": 3,
    "values": [
        {
            "id": "10002",
            "key": "ED",
            "name": "Order desk",
            "projectTypeKey": "software",
            "simplified": True,
            "style": "next-gen",
            "self": "https://your-domain.atlassian.net/rest/api/3/project/ED",
        },
    ],
}
