"""Slack: send and read messages and threads, look at conversations and their members, invite people to
channels, and look up people in the user's workspace, with the user's own Slack token (user scopes).

Tools: Slack_SendMessage, Slack_ReplyInThread, Slack_GetMessages, Slack_GetThreadReplies,
Slack_ListConversations, Slack_GetConversationInfo, Slack_GetConversationMembers, Slack_InviteToChannel,
Slack_ListUsers, Slack_GetUserInfo, Slack_WhoAmI. Set `[toolkit_settings.slack] api_base_url` to point them at
another Web API base URL.
"""

from __future__ import annotations

from toolkits.slack.conversations import (
    get_conversation_info,
    get_conversation_members,
    invite_to_channel,
    list_conversations,
)
from toolkits.slack.messages import get_messages, get_thread_replies, reply_in_thread, send_message
from toolkits.slack.users import get_user_info, list_users, who_am_i

TOOLKIT_NAME = "Slack"

__all__ = [
    "get_conversation_info",
    "get_conversation_members",
    "get_messages",
    "get_thread_replies",
    "get_user_info",
    "invite_to_channel",
    "list_conversations",
    "list_users",
    "reply_in_thread",
    "send_message",
    "who_am_i",
]
