"""The tool schema cache: the same `tools/list` with and without it, rebuilt when the source changes, ignored
when corrupt, and a tool whose schemas came from it still validates its arguments."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.server.mcpserver import MCPServer

from mcp_server.calls.catalog import Catalog, bundled_toolkits, load_catalog
from mcp_server.calls.gate import gated_tools
from mcp_server.calls.schema_cache import FILE_NAME
from mcp_server.providers import ProviderRegistry
from tests.conftest import REPO

pytestmark = pytest.mark.anyio

KIT = '''
from typing import Annotated
from mcp_server import tool


@tool
async def count(n: Annotated[int, "{description}"] = 5) -> list[int]:
    """Count to n."""
    return list(range(n))
'''


def kit(tmp_path: Path, description: str = "How far") -> str:
    path = tmp_path / "counter.py"
    path.write_text(textwrap.dedent(KIT.format(description=description)))
    return str(path)


def description(catalog: Catalog) -> str:
    definition = catalog.get("Counter_Count")
    assert definition is not None
    return str(definition.input_schema["properties"]["n"]["description"])


async def listed(catalog: Catalog) -> str:
    server: MCPServer[object] = MCPServer("listing", tools=gated_tools(catalog))
    return json.dumps([tool.model_dump(mode="json", by_alias=True) for tool in await server.list_tools()])


async def test_tools_list_is_identical_without_the_cache_when_it_is_written_and_when_it_is_read(tmp_path: Path) -> None:
    specs, providers = bundled_toolkits(), ProviderRegistry({})
    without = await listed(load_catalog(specs, providers))
    written = await listed(load_catalog(specs, providers, cache_dir=tmp_path))
    assert (tmp_path / FILE_NAME).is_file()
    read = await listed(load_catalog(specs, providers, cache_dir=tmp_path))
    assert without == written == read
    assert json.loads(read)  # the bundled toolkits' tools, not an empty list


def test_an_unchanged_toolkit_is_served_from_the_cache(tmp_path: Path) -> None:
    spec, cache = kit(tmp_path), tmp_path / "cache"
    assert description(load_catalog([spec], ProviderRegistry({}), cache_dir=cache)) == "How far"
    stored = json.loads((cache / FILE_NAME).read_text())
    stored["tools"]["Counter_Count"]["input"]["properties"]["n"]["description"] = "From the cache"
    (cache / FILE_NAME).write_text(json.dumps(stored))
    assert description(load_catalog([spec], ProviderRegistry({}), cache_dir=cache)) == "From the cache"


def test_a_changed_source_is_derived_again_and_stored(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_catalog([kit(tmp_path)], ProviderRegistry({}), cache_dir=cache)
    changed = load_catalog([kit(tmp_path, "How many")], ProviderRegistry({}), cache_dir=cache)
    assert description(changed) == "How many"
    stored = json.loads((cache / FILE_NAME).read_text())
    assert stored["tools"]["Counter_Count"]["input"]["properties"]["n"]["description"] == "How many"


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"format": 1, "tools": []}', b'"text"', b"\xff\xfe"])
def test_a_corrupt_cache_file_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    spec, cache = kit(tmp_path), tmp_path / "cache"
    cache.mkdir()
    (cache / FILE_NAME).write_bytes(content)
    assert description(load_catalog([spec], ProviderRegistry({}), cache_dir=cache)) == "How far"
    assert "Counter_Count" in json.loads((cache / FILE_NAME).read_text())["tools"]


def test_a_malformed_entry_is_derived_again(tmp_path: Path) -> None:
    spec, cache = kit(tmp_path), tmp_path / "cache"
    load_catalog([spec], ProviderRegistry({}), cache_dir=cache)
    stored = json.loads((cache / FILE_NAME).read_text())
    stored["tools"]["Counter_Count"]["input"] = ["not", "a", "schema"]
    (cache / FILE_NAME).write_text(json.dumps(stored))
    assert description(load_catalog([spec], ProviderRegistry({}), cache_dir=cache)) == "How far"


def test_a_tool_served_from_the_cache_validates_and_converts_as_one_derived_now(tmp_path: Path) -> None:
    spec, cache = kit(tmp_path), tmp_path / "cache"
    derived = load_catalog([spec], ProviderRegistry({}), cache_dir=cache).get("Counter_Count")
    cached = load_catalog([spec], ProviderRegistry({}), cache_dir=cache).get("Counter_Count")
    assert derived is not None and cached is not None
    assert cached.validate_arguments({"n": "3"}) == derived.validate_arguments({"n": "3"}) == {"n": 3}
    assert cached.metadata.output_schema == derived.metadata.output_schema == cached.output_schema
    assert cached.metadata.convert_result([0, 1]) == derived.metadata.convert_result([0, 1])


def test_an_unwritable_cache_folder_only_means_no_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    catalog = load_catalog([kit(tmp_path)], ProviderRegistry({}), cache_dir=blocker / "cache")
    assert description(catalog) == "How far"


async def calls_over_stdio(config: Path) -> list[tuple[bool, Any]]:
    """One start of `authmcp serve` over stdio: a call whose arguments need converting, and one missing one."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server", "serve", "--port", "0", "--config", str(config)],
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    answers = []
    async with Client(stdio_client(params), mode="legacy") as client:  # type: ignore[arg-type]
        for arguments in ({"recipient": "a@example.com", "subject": "s", "urgent": "true"}, {"subject": "s"}):
            result = await client.call_tool("Gmail_SendEmail", arguments)
            answers.append((result.is_error, result.structured_content or result.content[0].text))  # type: ignore[union-attr]
    return answers


async def test_a_server_whose_schemas_come_from_the_cache_answers_calls_as_the_one_that_wrote_it(
    tmp_path: Path,
) -> None:
    config = tmp_path / "authmcp.toml"
    toolkit = REPO / "tests" / "support" / "api_toolkit.py"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\nlog_level = "WARNING"\nuser_id = "cache"\ntoolkits = ["{toolkit}"]\n'
        '[providers.demo]\nauthorize_url = "https://demo.example/authorize"\ntoken_url = "https://demo.example/token"\n'
        'client_id = "cache-test"\nclient_secret = "not-used"\n'
    )
    writing = await calls_over_stdio(config)
    assert (tmp_path / "data" / "cache" / FILE_NAME).is_file()
    reading = await calls_over_stdio(config)
    assert reading == writing
    (failed, sent), (refused, message) = writing
    assert not failed and sent["urgent"] is True and sent["sent_to"] == ["a@example.com"]
    assert refused and "recipient" in message
