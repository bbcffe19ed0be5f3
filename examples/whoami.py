"""The demo toolkit (`mcp_server/demo/toolkit.py`) by file path, for `--toolkit examples/whoami.py`.

It needs a provider configured as `[providers.demo]`; `[toolkit_settings.demo] userinfo_url` (or
`DEMO_USERINFO_URL`) says where its userinfo endpoint is (default: http://127.0.0.1:9000/userinfo).
"""

from __future__ import annotations

from mcp_server.demo.toolkit import TOOLKIT_NAME, who_am_i

__all__ = ["TOOLKIT_NAME", "who_am_i"]
