"""Notion toolkit: search, read a page as text, create a page, append to a page and query a database, for the
pages the signed-in user shared with the integration, through Notion's API (https://developers.notion.com,
version 2022-06-28).

Point it at another API (a stand-in) with `[toolkit_settings.notion] api_base_url = "..."`; `/v1` is appended.
"""

from toolkits.notion.tools import append_to_page, create_page, get_page_content, query_database, search

TOOLKIT_NAME = "Notion"

__all__ = ["TOOLKIT_NAME", "append_to_page", "create_page", "get_page_content", "query_database", "search"]
