"""Slack: send messages, read conversations and look up people in the user's workspace, with the user's own
Slack token (user scopes).

Tools: Slack_SendMessage, Slack_ListConversations, Slack_GetMessages, Slack_ListUsers, Slack_GetUserInfo,
Slack_WhoAmI. Set `[toolkit_settings.slack] api_base_url` to point them at another Web API base URL.
"""

from __future__ import annotations

from toolkits.slack.tools import (
    get_messages,
    get_user_info,
    list_conversations,
    list_users,
    send_message,
    who_am_i,
)

TOOLKIT_NAME = "Slack"

__all__ = [
    "get_messages",
    "get_user_info",
    "list_conversations",
    "list_users",
    "send_message",
    "who_am_i",
]
