"""`request_state_keys`: a 2026-07-28 requestState sealed by one process opens in another with the same keys only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult, InputRequiredResult

from mcp_server.errors import ConfigError
from mcp_server.serving.runtime import open_runtime
from mcp_server.vault import generate_key
from tests.mcp_server.test_gate import DEMO_PROVIDER, PUBLIC_URL, TOOLKIT

pytestmark = pytest.mark.anyio


async def accept(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept")


def test_short_request_state_keys_are_refused(make_settings: Any) -> None:
    with pytest.raises(ConfigError, match=r"request_state_keys.*at least 32 characters"):
        make_settings(request_state_keys="too-short")


async def test_state_sealed_on_one_replica_opens_on_another_with_the_same_keys_only(
    make_settings: Any, tmp_path: Path
) -> None:
    shared, other, encryption = generate_key(), generate_key(), generate_key()

    def settings(keys: str) -> Any:
        return make_settings(
            providers={"demo": DEMO_PROVIDER},
            request_state_keys=keys,
            encryption_keys=encryption,
            database_url=f"sqlite:///{tmp_path / 'shared.db'}",
            flow_wait_seconds=0,
        )

    async with (
        open_runtime(settings(shared), public_url=PUBLIC_URL, toolkits=[TOOLKIT]) as a,
        open_runtime(settings(f"{other},{shared}"), public_url=PUBLIC_URL, toolkits=[TOOLKIT]) as b,
        open_runtime(settings(other), public_url=PUBLIC_URL, toolkits=[TOOLKIT]) as c,
    ):
        async with Client(a.mcp, elicitation_callback=accept) as on_a:
            first = await on_a.session.call_tool("Sample_ShowToken", {}, allow_input_required=True)
        assert isinstance(first, InputRequiredResult) and first.request_state
        responses = {key: ElicitResult(action="accept") for key in first.input_requests}

        # B unseals with its second key: the retry reaches the gate, which finds the flow not yet complete
        async with Client(b.mcp, elicitation_callback=accept) as on_b:
            retry = await on_b.session.call_tool(
                "Sample_ShowToken",
                {},
                input_responses=responses,
                request_state=first.request_state,
                allow_input_required=True,
            )
        assert not isinstance(retry, InputRequiredResult) and retry.is_error
        assert "not complete yet" in "".join(getattr(block, "text", "") for block in retry.content)

        async with Client(c.mcp, elicitation_callback=accept) as on_c:  # C never had the sealing key
            with pytest.raises(MCPError) as info:
                await on_c.session.call_tool(
                    "Sample_ShowToken",
                    {},
                    input_responses=responses,
                    request_state=first.request_state,
                    allow_input_required=True,
                )
        assert info.value.code == -32602
