"""Traces off unless the standard OTEL_* variables configure an exporter; off, the SDK is never imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mcp_server.errors import ConfigError
from mcp_server.observability import telemetry
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "x"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "console,otlp"}, True),
    ],
)
def test_configured_reads_the_standard_variables(environ: dict[str, str], expected: bool) -> None:
    assert telemetry.configured(environ) is expected


def test_grpc_is_refused_with_what_to_set() -> None:
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    with pytest.raises(ConfigError, match="http/protobuf"):
        telemetry.setup(environ)
    assert not telemetry.enabled()


def test_routes_are_named_by_template_never_by_an_id() -> None:
    assert telemetry.route_of("/connect/abcdef0123456789") == "/connect/{flow_id}"
    assert telemetry.route_of("/connect/abcdef0123456789/done") == "/connect/{flow_id}/done"
    assert telemetry.route_of("/approve/abcdef0123456789") == "/approve/{flow_id}"
    assert telemetry.route_of("/v1/admin/user_connections/42") == "/v1/admin/user_connections/{id}"
    assert telemetry.route_of("/oauth/callback") == "/oauth/callback"
    assert telemetry.route_of("/whatever/tok-123") == "other"


# A tool call through the assembled server with no OTEL_* variable: what got imported on the way.
_SCRIPT = """
import anyio, json, sys
from mcp import Client
from mcp_server.observability import telemetry
from mcp_server.config import load_settings
from mcp_server.serving.runtime import open_runtime

async def main():
    settings = load_settings(None, data_dir=sys.argv[1], user_id="alice", toolkits=[], log_level="WARNING",
                             secrets={"SAMPLE_KEY": "k"}, providers={"demo": {
                                 "authorize_url": "http://127.0.0.1:9/a", "token_url": "http://127.0.0.1:9/t",
                                 "client_id": "c", "client_secret": "s"}})
    async with open_runtime(settings, public_url="http://127.0.0.1:1", toolkits=["tests.support.sample_toolkit"]) as rt:
        async with Client(rt.mcp) as client:
            result = await client.call_tool("Sample_ReadSecret", {})
    loaded = sorted(
        m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.exporter", "prometheus_client"))
    )
    print(json.dumps({"error": result.is_error, "loaded": loaded, "enabled": telemetry.enabled(),
                      "noop": telemetry.span("x") is telemetry.span("y")}))

anyio.run(main)
"""


def test_not_configured_imports_nothing_and_spans_are_one_shared_noop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AUTHMCP_"))}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SCRIPT), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"error": False, "loaded": [], "enabled": False, "noop": True}
