"""The Arcade-compatible `/v1` API: an application's backend calls tools for its users over plain HTTP.

The paths, bodies and answers are Arcade's (as the official `arcadepy` client sends and reads them), so code
written against Arcade runs with only `ARCADE_BASE_URL` changed:

    GET  /v1/health                                   {"healthy": true}
    GET  /v1/tools?toolkit=&limit=&offset=&user_id=   an offset page of tool definitions
    GET  /v1/tools/{name}?user_id=                    one definition; requirement status for the user
    POST /v1/tools/authorize    {tool_name, user_id}                     -> an authorization
    POST /v1/tools/execute      {tool_name, user_id, input}              -> {success, output: {value | error ...}}
    POST /v1/auth/authorize     {auth_requirement: {provider_id, oauth2: {scopes}}, user_id} -> an authorization
    GET  /v1/auth/status?id=&wait=                    an authorization; waits up to 59 s for it to finish
    POST /v1/auth/confirm_user  {flow_id, user_id}                       -> {auth_id, next_uri}

The caller is an application's backend holding an API key from `[api] keys`; it names the user it acts for
(`user_id`), which is why this is the one place a request may name a user. Checking, authorizing and running
go through the same `AuthorizationService` and `calls` module as the MCP gate, so a connection made here is
the one MCP tools use, and the other way round. Every refusal is Arcade's error shape
`{"name": ..., "message": ...}` with a 4xx status (503 only when a provider cannot be reached to renew a
token); a tool's own failure is an `output.error` of Arcade's kinds. No answer ever holds a third-party token.
"""

from __future__ import annotations

from mcp_server.web.api.edge import MAX_BODY_BYTES
from mcp_server.web.api.outcomes import ALREADY_COMPLETED_ID
from mcp_server.web.api.routes import create_api_routes

__all__ = ["ALREADY_COMPLETED_ID", "MAX_BODY_BYTES", "create_api_routes"]
