"""Microsoft Graph v1.0 response bodies for the Microsoft toolkit's tests.

Each one is the documented example of its operation in Microsoft's API reference
(github.com/microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/api/<page>.md, cited per fixture),
with property names and types as Graph's metadata defines them (github.com/microsoftgraph/msgraph-metadata,
clean_v10_metadata/cleanMetadataWithDescriptionsv1.0.xml: entity types message, event, scheduleInformation,
driveItem, chat, team, channel, chatMessage). Where a fixture departs from the page (a second page, times in
UTC), the comment says so.
"""

from __future__ import annotations

import copy
from typing import Any

BASE = "https://graph.test/v1.0"

# user-list-messages.md (List messages) with the message of message-get.md, Example 1 (Get message): the list
# answers with the same message resource. The @odata.nextLink follows the documented form (the whole URL of the
# next page, with $skip) on the stand-in's host.
MESSAGE: dict[str, Any] = {
    "@odata.etag": 'W/"CQAAABYAAAC4ofQHEIqCSbQPot83AFcbAAAnjjuZ"',
    "id": "AAMkADhMGAAA=",
    "createdDateTime": "2018-09-09T03:15:05Z",
    "lastModifiedDateTime": "2018-09-09T03:15:08Z",
    "receivedDateTime": "2018-09-09T03:15:08Z",
    "sentDateTime": "2018-09-09T03:15:06Z",
    "hasAttachments": False,
    "internetMessageId": "<MWHPR6E1BE060@MWHPR1120.namprd22.prod.outlook.com>",
    "subject": "9/9/2018: concert",
    "bodyPreview": "The group represents Nevada.",
    "importance": "normal",
    "parentFolderId": "AAMkADcbAAAAAAEJAAA=",
    "conversationId": "AAQkADOUpag6yWs=",
    "isRead": True,
    "isDraft": False,
    "webLink": "https://outlook.office365.com/owa/?ItemID=AAMkADMGAAA%3D&exvsurl=1&viewmodel=ReadMessageItem",
    "body": {
        "contentType": "html",
        "content": (
            '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n'
            '<meta content="text/html; charset=us-ascii">\r\n</head>\r\n<body>\r\nThe group represents Nevada.\r\n'
            "</body>\r\n</html>\r\n"
        ),
    },
    "sender": {"emailAddress": {"name": "Adele Vance", "address": "adelev@contoso.OnMicrosoft.com"}},
    "from": {"emailAddress": {"name": "Adele Vance", "address": "adelev@contoso.OnMicrosoft.com"}},
    "toRecipients": [{"emailAddress": {"name": "Alex Wilber", "address": "AlexW@contoso.OnMicrosoft.com"}}],
    "ccRecipients": [],
    "bccRecipients": [],
    "replyTo": [],
    "flag": {"flagStatus": "notFlagged"},
}

# user-list-messages.md, Example 1 response ("You have late tasks!" with $select=sender,subject), as a second
# message of the listing, completed with the properties the toolkit selects.
PLANNER_MESSAGE: dict[str, Any] = {
    "@odata.etag": 'W/"CQAAABYAAADHcgC8Hl9tRZ/hc1wEUs1TAAAwR4Hg"',
    "id": "AAMkAGUAAAwTW09AAA=",
    "subject": "You have late tasks!",
    "from": {"emailAddress": {"name": "Microsoft Planner", "address": "noreply@Planner.Office365.com"}},
    "toRecipients": [],
    "ccRecipients": [],
    "receivedDateTime": "2018-09-08T11:02:00Z",
    "bodyPreview": "",
    "isRead": False,
    "hasAttachments": False,
    "conversationId": "AAQkAGUAAAwTW09=",
    "webLink": "https://outlook.office365.com/owa/?ItemID=AAMkAGUAAAwTW09AAA%3D&exvsurl=1&viewmodel=ReadMessageItem",
}


def messages_page(*messages: dict[str, Any], next_link: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('bb8775a4-4d8c-42cf-a1d4-4d58c2bb668f')/messages",
        "value": [copy.deepcopy(m) for m in messages],
    }
    if next_link:
        page["@odata.nextLink"] = next_link
    return page


# user-post-messages.md (Create message): 201 with the draft message resource. Trimmed to what the toolkit reads.
DRAFT: dict[str, Any] = {
    "id": "AAMkADA1MTAAAAqldOAAA=",
    "subject": "Did you see last night's game?",
    "isDraft": True,
    "body": {"contentType": "text", "content": "They were awesome!"},
    "toRecipients": [
        {"emailAddress": {"name": "AlexW@contoso.OnMicrosoft.com", "address": "AlexW@contoso.OnMicrosoft.com"}}
    ],
    "ccRecipients": [],
    "webLink": "https://outlook.office365.com/owa/?ItemID=AAMkADA1MTAAAAqldOAAA%3D&exvsurl=1&viewmodel=ReadMessageItem",
}

# user-post-events.md, Response 1 (Create Event). The page asks for Pacific Standard Time; the toolkit asks
# for UTC (Prefer: outlook.timezone="UTC"), so start and end are the same instants written in UTC
# (11:00 PDT = 18:00 UTC on 2017-04-15).
EVENT: dict[str, Any] = {
    "@odata.etag": 'W/"ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ=="',
    "id": "AAMkAGI1AAAt9AHjAAA=",
    "createdDateTime": "2017-04-15T03:00:50.7579581Z",
    "lastModifiedDateTime": "2017-04-15T03:00:51.245372Z",
    "originalStartTimeZone": "Pacific Standard Time",
    "originalEndTimeZone": "Pacific Standard Time",
    "subject": "Let's go brunch",
    "bodyPreview": "Does late morning work for you?",
    "isAllDay": False,
    "isCancelled": False,
    "isOrganizer": True,
    "showAs": "busy",
    "type": "singleInstance",
    "webLink": "https://outlook.office365.com/owa/?itemid=AAMkAGI1AAAt9AHjAAA%3D&exvsurl=1&path=/calendar/item",
    "onlineMeetingUrl": None,
    "body": {
        "contentType": "html",
        "content": "<html><head></head><body>Does late morning work for you?</body></html>",
    },
    "start": {"dateTime": "2017-04-15T18:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2017-04-15T19:00:00.0000000", "timeZone": "UTC"},
    "location": {
        "displayName": "Harry's Bar",
        "locationType": "default",
        "uniqueId": "Harry's Bar",
        "uniqueIdType": "private",
    },
    "attendees": [
        {
            "type": "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Samantha Booth", "address": "samanthab@contoso.onmicrosoft.com"},
        }
    ],
    "organizer": {"emailAddress": {"name": "Dana Swope", "address": "danas@contoso.onmicrosoft.com"}},
}

# user-list-calendarview.md (List calendarView) answers a collection of event resources; the page's example is
# cut to a few properties, so the listing uses the event of user-post-events.md (above) and, as its second
# page, Response 2 of the same page ("Plan summer company picnic", 11:00 PDT = 18:00 UTC on 2017-08-30).
PICNIC: dict[str, Any] = {
    "id": "AAMkADAGAADDdm4NAAA=",
    "subject": "Plan summer company picnic",
    "bodyPreview": "Let's kick-start this event planning!",
    "isAllDay": False,
    "isCancelled": False,
    "showAs": "busy",
    "webLink": "https://outlook.office365.com/owa/?itemid=AAMkADAGAADDdm4NAAA%3D&exvsurl=1&path=/calendar/item",
    "start": {"dateTime": "2017-08-30T18:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2017-08-30T19:00:00.0000000", "timeZone": "UTC"},
    "location": {"displayName": "Conf Room 3; Fourth Coffee; Home Office", "locationType": "default"},
    "attendees": [
        {
            "type": "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Dana Swope", "address": "DanaS@contoso.onmicrosoft.com"},
        },
        {
            "type": "required",
            "status": {"response": "accepted", "time": "2017-08-30T08:00:00Z"},
            "emailAddress": {"name": "Alex Wilber", "address": "AlexW@contoso.onmicrosoft.com"},
        },
    ],
    "organizer": {"emailAddress": {"name": "Adele Vance", "address": "AdeleV@contoso.onmicrosoft.com"}},
    "isOnlineMeeting": True,
    "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"},
}

# calendar-getschedule.md (calendar: getSchedule), the documented response for two users, 2019-03-15, 09:00 to
# 18:00 Pacific Standard Time. The toolkit asks for UTC, so every time is the same instant in UTC (PDT = UTC-7
# on that date: 12:00 PDT = 19:00 UTC). The second schedule carries an `error` (freeBusyError) as Graph sends
# for an address it cannot resolve (scheduleInformation.error); its text is an example, only known live.
SCHEDULE: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
    "value": [
        {
            "scheduleId": "adelev@contoso.onmicrosoft.com",
            "availabilityView": "000220000",
            "scheduleItems": [
                {
                    "isPrivate": False,
                    "status": "busy",
                    "subject": "Let's go for lunch",
                    "location": "Harry's Bar",
                    "start": {"dateTime": "2019-03-15T19:00:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2019-03-15T21:00:00.0000000", "timeZone": "UTC"},
                }
            ],
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": "Pacific Standard Time"},
            },
        },
        {
            "scheduleId": "meganb@contoso.onmicrosoft.com",
            "availabilityView": "200220010",
            "scheduleItems": [
                {
                    "status": "busy",
                    "start": {"dateTime": "2019-03-15T15:30:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2019-03-15T16:30:00.0000000", "timeZone": "UTC"},
                },
                {
                    "status": "busy",
                    "start": {"dateTime": "2019-03-15T19:00:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2019-03-15T21:00:00.0000000", "timeZone": "UTC"},
                },
                {
                    "status": "tentative",
                    "start": {"dateTime": "2019-03-15T23:00:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2019-03-16T00:00:00.0000000", "timeZone": "UTC"},
                },
                {
                    "status": "free",
                    "start": {"dateTime": "2019-03-16T00:00:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2019-03-16T00:30:00.0000000", "timeZone": "UTC"},
                },
            ],
        },
        {
            "scheduleId": "nobody@contoso.onmicrosoft.com",
            "availabilityView": "",
            "scheduleItems": [],
            "error": {
                "message": "The requested user 'nobody@contoso.onmicrosoft.com' is invalid.",
                "responseCode": "ErrorInvalidUser",
            },
        },
    ],
}

# driveitem-search.md (Search for a DriveItems within a drive): the documented two folders, plus a file with the
# driveItem properties the toolkit selects (file.mimeType, size, lastModifiedDateTime, parentReference, webUrl).
# The documented @odata.nextLink is on graph.microsoft.com, so the toolkit does not follow it to a stand-in.
# Whether search honours $select on every item, and which MIME type OneDrive reports for a Markdown file, are
# only known from the live service.
DRIVE_FOLDER = {
    "id": "0123456789abc!123",
    "name": "Contoso Project",
    "folder": {"childCount": 4},
    "searchResult": {"onClickTelemetryUrl": "https://bing.com/0123456789abc!123"},
}
DRIVE_FILE = {
    "id": "0123456789abc!789",
    "name": "notes.md",
    "size": 1182,
    "file": {"mimeType": "text/markdown", "hashes": {"quickXorHash": "dGhlIGhhc2g="}},
    "lastModifiedDateTime": "2016-03-21T20:01:37Z",
    "parentReference": {"driveId": "0123456789abc", "id": "0123456789abc!123", "path": "/drive/root:/Contoso Project"},
    "webUrl": "https://onedrive.live.com/?cid=0123456789abc&id=0123456789abc!789",
}
DRIVE_DOCX = {
    "id": "0123456789abc!790",
    "name": "Budget.docx",
    "size": 22150,
    "file": {"mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    "webUrl": "https://onedrive.live.com/?cid=0123456789abc&id=0123456789abc!790",
}
SEARCH_NEXT_LINK = (
    "https://graph.microsoft.com/v1.0/me/drive/root/search(query='contoso project')&skipToken=1asdlnjnkj1nalkm!asd"
)

# chat-list.md (List chats) with $expand=members,lastMessagePreview: chat resources with their
# conversationMember list and their last message (chatMessageInfo). Field names from the chat,
# aadUserConversationMember and chatMessageInfo entity types; values follow the page's examples.
CHATS: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats(members())",
    "@odata.count": 2,
    "value": [
        {
            "id": "19:meeting_MjdhNjM4YzUtYzExZi00OTFkLTkzZTAtNTVlNmZmMDhkNGU2@thread.v2",
            "topic": "Meeting chat sample",
            "createdDateTime": "2020-12-08T23:53:05.801Z",
            "lastUpdatedDateTime": "2020-12-08T23:58:32.511Z",
            "chatType": "meeting",
            "webUrl": "https://teams.microsoft.com/l/chat/19%3Ameeting_MjdhNjM4YzUtYzExZi00OTFkLTkzZTAtNTVlNmZmMDhkNGU2@thread.v2/0",
            "tenantId": "b33cbe9f-8ebe-4f2a-912b-7e2a427f477f",
            "lastMessagePreview": {
                "id": "1607471912511",
                "createdDateTime": "2020-12-08T23:58:32.511Z",
                "isDeleted": False,
                "messageType": "message",
                "eventDetail": None,
                "body": {"contentType": "html", "content": "<p>Agenda for <b>Friday</b></p>"},
                "from": {
                    "application": None,
                    "device": None,
                    "user": {
                        "id": "2de87aaf-844d-4def-9dee-2c317f0be1b3",
                        "displayName": "Adele Vance",
                        "userIdentityType": "aadUser",
                    },
                },
            },
            "members": [
                {
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "id": "MCMjMjQzMmI1N2ItMGFiZC00M2RiLWFhN2ItMTZlYWRkMTE1ZDM0",
                    "roles": ["owner"],
                    "displayName": "Robin Kline",
                    "userId": "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
                    "email": "robinkline@contoso.com",
                },
                {
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "id": "MCMjMjQzMmI1N2ItMGFiZC00M2RiLWFhN2ItMTZlYWRkMTE1ZDM1",
                    "roles": ["owner"],
                    "displayName": "Adele Vance",
                    "userId": "2de87aaf-844d-4def-9dee-2c317f0be1b3",
                    "email": "adelev@contoso.com",
                },
            ],
        },
        {
            "id": "19:2da4c29f6d7041eca70b638b43d45437@thread.v2",
            "topic": None,
            "createdDateTime": "2021-03-28T20:48:29.832Z",
            "lastUpdatedDateTime": "2021-03-28T20:50:02.831Z",
            "chatType": "oneOnOne",
            "webUrl": "https://teams.microsoft.com/l/chat/19%3A2da4c29f6d7041eca70b638b43d45437@thread.v2/0",
            "members": [
                {
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "id": "MCMjMjQzMmI1N2ItMGFiZC00M2RiLWFhN2ItMTZlYWRkMTE1ZDM0",
                    "roles": ["owner"],
                    "displayName": "Robin Kline",
                    "userId": "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
                },
            ],
        },
    ],
}

# user-list-joinedteams.md (List joinedTeams): team resources with id, displayName, description, isArchived.
JOINED_TEAMS: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#teams",
    "value": [
        {
            "id": "172b0cce-e65d-44ce-9a49-91d9f2e8493a",
            "displayName": "Contoso Team",
            "description": "This is a Contoso team, used to showcase the range of properties supported by this API",
            "isArchived": False,
            "tenantId": "b33cbe9f-8ebe-4f2a-912b-7e2a427f477f",
        },
    ],
}

# channel-list.md (List channels): channel resources.
CHANNELS: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#teams('172b0cce-e65d-44ce-9a49-91d9f2e8493a')/channels",
    "value": [
        {
            "id": "19:561fbdbbfca848a484f0a6f00ce9dbbd@thread.tacv2",
            "createdDateTime": "2020-05-27T19:22:25.692Z",
            "displayName": "General",
            "description": "AutoTestTeam_20200527192224000",
            "membershipType": "standard",
            "webUrl": "https://teams.microsoft.com/l/channel/19%3A561fbdbbfca848a484f0a6f00ce9dbbd%40thread.tacv2/General",
        },
    ],
}

# chat-list-messages.md (List messages in a chat), Example 1: the documented three messages (a text message, an
# HTML message holding an inline image, a system event) and the documented @odata.nextLink form, on the
# stand-in's host.
CHAT_MESSAGES: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats('19%3A2da4c29f6d7041eca70b638b43d45437%40thread.v2')/messages",
    "@odata.count": 3,
    "value": [
        {
            "id": "1616964509832",
            "replyToId": None,
            "etag": "1616964509832",
            "messageType": "message",
            "createdDateTime": "2021-03-28T20:48:29.832Z",
            "lastModifiedDateTime": "2021-03-28T20:48:29.832Z",
            "subject": None,
            "chatId": "19:2da4c29f6d7041eca70b638b43d45437@thread.v2",
            "importance": "normal",
            "webUrl": None,
            "from": {
                "application": None,
                "device": None,
                "user": {
                    "id": "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
                    "displayName": "Robin Kline",
                    "userIdentityType": "aadUser",
                },
            },
            "body": {"contentType": "text", "content": "Hello world"},
            "attachments": [],
            "mentions": [],
            "reactions": [],
        },
        {
            "id": "1615971548136",
            "replyToId": None,
            "etag": "1615971548136",
            "messageType": "message",
            "createdDateTime": "2021-03-17T08:59:08.136Z",
            "subject": None,
            "webUrl": None,
            "from": {
                "application": None,
                "device": None,
                "user": {
                    "id": "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
                    "displayName": "Robin Kline",
                    "userIdentityType": "aadUser",
                },
            },
            "body": {
                "contentType": "html",
                "content": '<div><div><div><span><img height="63" src="https://graph.microsoft.com/v1.0/chats/19:2da4c29f6d7041eca70b638b43d45437@thread.v2/messages/1615971548136/hostedContents/aWQ9/$value" width="67"></span></div></div></div>',
            },
            "attachments": [],
            "mentions": [],
            "reactions": [],
        },
        {
            "id": "1615943825123",
            "replyToId": None,
            "etag": "1615943825123",
            "messageType": "unknownFutureValue",
            "createdDateTime": "2021-03-1706:47:05.123Z",
            "subject": None,
            "webUrl": None,
            "from": None,
            "body": {"contentType": "html", "content": "<systemEventMessage/>"},
            "attachments": [],
            "mentions": [],
            "reactions": [],
            "eventDetail": {
                "@odata.type": "#microsoft.graph.chatRenamedEventMessageDetail",
                "chatId": "19:2da4c29f6d7041eca70b638b43d45437@thread.v2",
                "chatDisplayName": "Graph Members",
            },
        },
    ],
}

# chatmessage-post.md (Send chatMessage in a channel or a chat): 201 with the chatMessage created. How Teams
# shows line breaks in a body of contentType "text" is only known from the live service.
SENT_CHAT_MESSAGE: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats('19%3A2da4c29f6d7041eca70b638b43d45437%40thread.v2')/messages/$entity",
    "id": "1616991463150",
    "replyToId": None,
    "etag": "1616991463150",
    "messageType": "message",
    "createdDateTime": "2021-03-29T04:17:43.15Z",
    "lastModifiedDateTime": "2021-03-29T04:17:43.15Z",
    "subject": None,
    "chatId": "19:2da4c29f6d7041eca70b638b43d45437@thread.v2",
    "importance": "normal",
    "webUrl": None,
    "from": {
        "application": None,
        "device": None,
        "user": {
            "id": "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
            "displayName": "Robin Kline",
            "userIdentityType": "aadUser",
        },
    },
    "body": {"contentType": "text", "content": "Hello world"},
    "attachments": [],
    "mentions": [],
    "reactions": [],
}

# channel-list-messages.md (List channel messages): chatMessage resources of a channel, with subject,
# channelIdentity and webUrl; the body is HTML as Teams stores channel posts.
CHANNEL_MESSAGES: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#teams('fbe2bf47-16c8-47cf-b4a5-4b9b187c508b')/channels('19%3A4a95f7d8db4c4e7fae857bcebe0623e6%40thread.tacv2')/messages",
    "value": [
        {
            "id": "1616965872395",
            "replyToId": None,
            "etag": "1616965872395",
            "messageType": "message",
            "createdDateTime": "2021-03-28T21:11:12.395Z",
            "subject": "Release plan",
            "webUrl": "https://teams.microsoft.com/l/message/19%3A4a95f7d8db4c4e7fae857bcebe0623e6%40thread.tacv2/1616965872395?groupId=fbe2bf47-16c8-47cf-b4a5-4b9b187c508b&tenantId=2432b57b-0abd-43db-aa7b-16eadd115d34&createdTime=1616965872395&parentMessageId=1616965872395",
            "channelIdentity": {
                "teamId": "fbe2bf47-16c8-47cf-b4a5-4b9b187c508b",
                "channelId": "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2",
            },
            "from": {
                "application": None,
                "device": None,
                "user": {
                    "id": "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
                    "displayName": "Robin Kline",
                    "userIdentityType": "aadUser",
                },
            },
            "body": {"contentType": "html", "content": "<p>Hello <b>team</b></p><p>The release is on Friday.</p>"},
            "attachments": [],
            "mentions": [],
            "reactions": [],
        },
    ],
}


def copy_of(resource: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(resource)
