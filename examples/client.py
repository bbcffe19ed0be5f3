"""Call a tool on a running authmcp over Streamable HTTP, the way an MCP client without elicitation does.

    python examples/client.py [--url http://127.0.0.1:8000/mcp] [--tool Demo_WhoAmI] [--token BEARER]

On "authorization required" it prints the link, waits for you to grant access in the browser, and calls again.
"""

from __future__ import annotations

import argparse
import json

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def main(url: str, tool: str, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            result = await client.call_tool(tool, {})
            link = (result.meta or {}).get("url")
            if result.is_error and link:
                print(f"Authorization required. Open this link in your browser and grant access:\n\n    {link}\n")
                await anyio.to_thread.run_sync(input, "Press Enter when done... ")
                result = await client.call_tool(tool, {})
            for block in result.content:
                print(getattr(block, "text", block))
            if result.structured_content is not None:
                print(json.dumps(result.structured_content, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/mcp")
    parser.add_argument("--tool", default="Demo_WhoAmI")
    parser.add_argument("--token", default=None, help="bearer token, when the server has [mcp_auth] configured")
    args = parser.parse_args()
    anyio.run(main, args.url, args.tool, args.token)
