"""The front door on two replicas sharing one PostgreSQL database: any replica serves any step."""

from __future__ import annotations

from typing import Any

import httpx2

from mcp_server.vault import generate_key
from tests.e2e.front_door_steps import (  # noqa: F401 - browser is a fixture
    authorize,
    back_at_client,
    browser,
    exchange,
    front_door_stack,
    initialize,
    pkce,
    register,
    token,
)
from tests.support.postgres import postgres_url  # noqa: F401 - a fixture


def test_each_step_on_either_replica(stack_factory: Any, postgres_url: str, browser: httpx2.Client) -> None:
    a = front_door_stack(
        stack_factory,
        replicas=1,
        database_url=postgres_url,
        migrate_on_start=True,  # replicas on PostgreSQL create the schema only when told to
        encryption_keys=generate_key(),
    )
    b = a.replica(0)
    b.start_http()
    client_id = register(b)
    verifier, challenge = pkce()
    code = back_at_client(authorize(a, browser, client_id, challenge)).code  # the browser's steps on A
    tokens = exchange(b, client_id, code, verifier)  # the code, registered on B and made on A, exchanged on B
    assert tokens.status_code == 200, tokens.text
    first = tokens.json()
    assert initialize(a, first["access_token"]).status_code == 200
    assert initialize(b, first["access_token"]).status_code == 200
    rotated = token(a, grant_type="refresh_token", refresh_token=first["refresh_token"], client_id=client_id)
    assert rotated.status_code == 200
    replay = token(b, grant_type="refresh_token", refresh_token=first["refresh_token"], client_id=client_id)
    assert replay.status_code == 400  # the rotated one, presented on the other replica: the grant is revoked
    assert initialize(a, rotated.json()["access_token"]).status_code == 401
