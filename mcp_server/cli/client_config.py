"""`authmcp install <client>`: this installation's server entry in an MCP client's configuration file.

Every client named here reads the same shape, `{"mcpServers": {"<name>": {"command", "args", "env"}}}`:
Claude Desktop (`claude_desktop_config.json`), Cursor (`~/.cursor/mcp.json`), Claude Code (a project's
`.mcp.json`); except VS Code, whose workspace file (`.vscode/mcp.json`) has `servers`, each with a `type`.
The entry runs this very installation (absolute paths) over stdio, with the configuration file
and data dir made absolute, so the client's working directory does not matter.

An existing file is merged into, never replaced: other servers and other keys stay as they were, and a copy of
the file is kept beside it first.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from mcp_server.errors import ConfigError

__all__ = ["CLIENTS", "client_config_path", "merge_entry", "server_entry", "servers_key"]

CLIENTS = ("claude-desktop", "cursor", "claude-code", "vscode", "mcp-json")
RESTART = {
    "claude-desktop": "Quit and reopen Claude Desktop to load it.",
    "cursor": "Cursor picks it up in Settings > MCP (reload the window if it does not).",
    "claude-code": "Start `claude` in this folder and approve the project's server.",
    "vscode": "Open this folder in VS Code and start the server from MCP: List Servers (or reload the window).",
    "mcp-json": "",
}


def servers_key(client: str) -> str:
    """The key the client's file keeps its servers under."""
    return "servers" if client == "vscode" else "mcpServers"


def client_config_path(client: str) -> Path | None:
    """Where the client reads its servers from, on this system (None for the generic `mcp-json`)."""
    home = Path.home()
    if client == "claude-desktop":
        if sys.platform == "darwin":
            return home / "Library/Application Support/Claude/claude_desktop_config.json"
        if sys.platform == "win32":
            return Path(os.environ.get("APPDATA", home / "AppData/Roaming")) / "Claude/claude_desktop_config.json"
        return Path(os.environ.get("XDG_CONFIG_HOME", home / ".config")) / "Claude/claude_desktop_config.json"
    if client == "cursor":
        return home / ".cursor/mcp.json"
    if client == "claude-code":
        return Path.cwd() / ".mcp.json"  # the project scope: this folder
    if client == "vscode":
        return Path.cwd() / ".vscode" / "mcp.json"  # the workspace: this folder
    if client == "mcp-json":
        return None
    raise ConfigError(f"Unknown client {client!r}; use one of: {', '.join(CLIENTS)}.")


def _command() -> list[str]:
    """This installation's `authmcp`, by absolute path; `python -m mcp_server` where there is no script."""
    scripts = Path(sys.executable).parent
    for name in ("authmcp", "authmcp.exe"):
        if (scripts / name).is_file():
            return [str((scripts / name).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "mcp_server"]


def server_entry(
    *, config_file: Path | None, data_dir: Path, port: int | None = None, typed: bool = False
) -> dict[str, Any]:
    """The client's entry for authmcp over stdio (`typed`: with `"type": "stdio"`, as VS Code wants it)."""
    command, *prefix = _command()
    args = [*prefix, "serve", "--transport", "stdio"]
    if port is not None:
        args += ["--port", str(port)]
    env = {"AUTHMCP_DATA_DIR": str(data_dir.expanduser().absolute())}
    if config_file is not None:
        env["AUTHMCP_CONFIG"] = str(config_file.expanduser().absolute())
    return {**({"type": "stdio"} if typed else {}), "command": command, "args": args, "env": env}


def merge_entry(path: Path, name: str, entry: dict[str, Any], *, key: str = "mcpServers") -> Path | None:
    """Put `entry` under `<key>.<name>` in the JSON file at `path`, keeping everything else.

    Returns the backup made of the previous file (None when there was none).

    Raises:
        ConfigError: The file is not a JSON object, or cannot be read or written.
    """
    current: dict[str, Any] = {}
    backup = None
    try:
        if path.exists():
            text = path.read_text(encoding="utf-8")
            try:
                loaded = json.loads(text) if text.strip() else {}
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); fix it or move it away."
                ) from None
            if not isinstance(loaded, dict) or not isinstance(loaded.get(key, {}), dict):
                raise ConfigError(f"{path} does not hold a JSON object with a {key} object; fix it or move it away.")
            current = loaded
            backup = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
            shutil.copy2(path, backup)
        current.setdefault(key, {})[name] = entry
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.authmcp-tmp")
        temporary.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)  # never a half-written file for the client to read
    except OSError as exc:
        raise ConfigError(f"Cannot write {exc.filename or path} ({exc.strerror}).") from None
    return backup
