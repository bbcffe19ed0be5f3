"""Key rotation while `authmcp serve` runs: the documented steps (docs/operations.md) for both key modes, run as
written, and a rotation killed mid-way, finished by running it again.

After each: every encrypted column of every table is under the new key alone (a connection, a pending flow's
verifier, a queued revocation), the old key is retired, the running server never asked anyone to authorize
again, and a restart with the new key alone reads everything.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from mcp_server.vault import Keyring, generate_key, open_vault
from tests.conftest import REPO
from tests.e2e.conftest import Stack, authorize_in_browser
from tests.faults.conftest import API_KEY, api_client, database, execute, expire_tokens, rows, wait_until

pytestmark = pytest.mark.anyio

BIN = Path(sys.executable).parent


def readme_steps(mode: str) -> list[str]:
    """The documented rotation block for `mode`, cut at each "restart every authmcp serve" line."""
    page = (REPO / "docs" / "operations.md").read_text()
    block = re.search(rf"<!-- rotation: {mode} -->\n```sh\n(.*?)```", page, re.S)
    assert block is not None, f"docs/operations.md has no rotation block for {mode}"
    chunks = [""]
    for line in block.group(1).splitlines():
        if line.startswith("# restart every authmcp serve"):
            chunks.append("")
        else:
            chunks[-1] += line + "\n"
    return chunks


def run_shell(stack: Stack, script: str, state: Path) -> subprocess.CompletedProcess[str]:
    """Run the documented lines in bash, in the directory of authmcp.toml, carrying exported variables in `state`."""
    _ = stack.config_path  # (re)written
    env = {**stack.env(), "PATH": f"{BIN}:{os.environ['PATH']}"}
    wrapped = f"set -euo pipefail\nsource {state}\n{script}\nexport -p | grep AUTHMCP_ > {state} || true\n"
    return subprocess.run(["bash", "-c", wrapped], cwd=stack.tmp, env=env, capture_output=True, text=True, timeout=120)


def exported(state: Path, name: str) -> str:
    match = re.search(rf'declare -x {name}="([^"]*)"', state.read_text())
    return match.group(1) if match else ""


def key_ids_in_use(stack: Stack) -> set[str]:
    found: set[str] = set()
    for table, where in (
        ("connections", ""),
        ("revocations", ""),
        ("user_secrets", ""),
        ("digest_keys", ""),
        ("flows", " where code_verifier is not null or held_tokens is not null"),
    ):
        found |= {row[0] for row in rows(stack, f"select key_id from {table}{where}")}
    return found


async def populate(stack: Stack, http: httpx2.AsyncClient) -> tuple[str, httpx2.AsyncClient]:
    """alice connected; bob's flow armed at the provider (state and verifier stored); carol disconnected while
    the provider's revocation endpoint is down (her token queued). Returns bob's pending consent callback."""
    for user in ("alice", "carol"):
        answer = (await execute(http, user)).json()
        await authorize_in_browser(stack.provider, answer["output"]["authorization"]["url"], user)
    bob = (await execute(http, "bob")).json()["output"]["authorization"]["url"]
    browser = httpx2.AsyncClient(timeout=30, trust_env=False)
    callback = await stack.provider.aconsent(browser, bob, "bob")  # arms the flow; the callback comes later
    stack.provider.set_behavior(revocation_endpoint="error_503")
    [(carol_id,)] = rows(stack, "select id from connections where user_id = 'carol'")
    assert (await http.delete(f"/v1/admin/user_connections/{carol_id}")).status_code == 204
    assert rows(stack, "select count(*) from revocations") == [(1,)]
    return callback, browser


async def check_after_rotation(
    stack: Stack, http: httpx2.AsyncClient, callback: str, browser: httpx2.AsyncClient, old: set[str]
) -> None:
    # the running server: alice is served, and a refresh writes under the new key
    assert (await execute(http, "alice")).json()["success"]
    expire_tokens(stack)
    assert (await execute(http, "alice")).json()["success"]
    # bob's consent lands after the rotation: his flow's verifier was re-encrypted
    landed = await browser.get(callback)
    assert landed.status_code == 303, landed.text
    assert (await execute(http, "bob")).json()["success"]
    # carol's queued revocation goes out, decrypted with the new key
    stack.provider.set_behavior(revocation_endpoint="normal")
    await wait_until(lambda: rows(stack, "select count(*) from revocations") == [(0,)], timeout=20)
    assert not key_ids_in_use(stack) & old
    assert "Traceback" not in stack.output()


async def test_readme_rotation_with_the_key_file_while_serving(stack_factory: Any, tmp_path: Path) -> None:
    stack: Stack = stack_factory(
        api={"keys": [API_KEY], "verification": "none"}, connection_cache_seconds=0, revocation_retry_seconds=1
    )
    stack.start_http()
    key_file = Path(stack.settings["data_dir"]) / "keys"
    async with api_client(stack) as http:
        callback, browser = await populate(stack, http)
        old = key_ids_in_use(stack)
        old_key = key_file.read_text().strip()
        state = tmp_path / "state.sh"
        state.write_text("")
        [steps] = readme_steps("key file")
        done = run_shell(stack, steps, state)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Re-encrypted" in done.stdout and "Removed key" in done.stdout
        assert len(key_file.read_text().split()) == 1 and old_key not in key_file.read_text()
        try:
            await check_after_rotation(stack, http, callback, browser, old)
        finally:
            await browser.aclose()
    stack.stop()
    stack.start_http()  # only the new key in the file: everything stored reads
    async with api_client(stack) as http:
        for user in ("alice", "bob"):
            assert (await execute(http, user)).json()["success"]


async def test_readme_rotation_with_the_environment_variable(stack_factory: Any, tmp_path: Path) -> None:
    old_key = generate_key()
    stack: Stack = stack_factory(
        api={"keys": [API_KEY], "verification": "none"}, connection_cache_seconds=0, revocation_retry_seconds=1
    )
    stack.start_http(env=stack.env(AUTHMCP_ENCRYPTION_KEYS=old_key))
    state = tmp_path / "state.sh"
    state.write_text(f'declare -x AUTHMCP_ENCRYPTION_KEYS="{old_key}"\n')
    async with api_client(stack) as http:
        callback, browser = await populate(stack, http)
        old = key_ids_in_use(stack)
        first, rotate, last = readme_steps("environment")
        assert run_shell(stack, first, state).returncode == 0
        new_keys = exported(state, "AUTHMCP_ENCRYPTION_KEYS")
        assert new_keys.endswith(f",{old_key}") and new_keys != f",{old_key}"

        # before the restart, rotate refuses: this server would keep writing with the old key
        refused = run_shell(stack, "authmcp keys rotate", state)
        assert refused.returncode == 2 and "restart it" in refused.stderr and "Traceback" not in refused.stderr
        assert key_ids_in_use(stack) == old

        stack.stop()
        stack.start_http(env=stack.env(AUTHMCP_ENCRYPTION_KEYS=new_keys))
        done = run_shell(stack, rotate, state)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Re-encrypted" in done.stdout and "keep only the first key" in done.stdout
        try:
            await check_after_rotation(stack, http, callback, browser, old)
        finally:
            await browser.aclose()
        assert run_shell(stack, last, state).returncode == 0
        assert exported(state, "AUTHMCP_ENCRYPTION_KEYS") == new_keys.split(",")[0]
    stack.stop()
    stack.start_http(env=stack.env(AUTHMCP_ENCRYPTION_KEYS=exported(state, "AUTHMCP_ENCRYPTION_KEYS")))
    async with api_client(stack) as http:
        for user in ("alice", "bob"):
            assert (await execute(http, user)).json()["success"]


async def test_rotation_killed_mid_way_is_finished_by_the_next_run_without_another_key(
    stack_factory: Any, tmp_path: Path
) -> None:
    stack: Stack = stack_factory(api={"keys": [API_KEY], "verification": "none"}, connection_cache_seconds=0)
    stack.start_http()
    async with api_client(stack) as http:
        answer = (await execute(http, "alice")).json()
        await authorize_in_browser(stack.provider, answer["output"]["authorization"]["url"], "alice")
    key_file = Path(stack.settings["data_dir"]) / "keys"
    vault = await open_vault(f"sqlite:///{database(stack)}", env_keys=[], key_file=key_file)
    try:  # many rows, so that the rotation takes a while
        async with vault.engine.begin() as conn:
            for i in range(3000):
                await vault.save_connection(
                    f"user-{i}",
                    "demo",
                    access_token=f"a-{i}",
                    refresh_token=f"r-{i}",
                    token_type="Bearer",
                    expires_at=None,
                    scopes=["profile"],
                    conn=conn,
                )
    finally:
        await vault.aclose()
    before = key_file.read_text()
    command = [sys.executable, "-m", "mcp_server", "keys", "rotate", "--config", str(stack.config_path)]
    rotation = subprocess.Popen(command, env=stack.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await wait_until(lambda: key_file.read_text() != before, timeout=30, what="the new key in the file")
    new_id = None
    with anyio.fail_after(30):
        while rotation.poll() is None:
            done = {row[0] for row in rows(stack, "select distinct key_id from connections")}
            if len(done) > 1:  # some rows on the new key, some still on the old one
                rotation.send_signal(signal.SIGKILL)
                break
            await anyio.sleep(0.005)
    rotation.wait(10)
    assert rotation.returncode == -signal.SIGKILL, "the rotation finished before it could be interrupted"
    assert len(key_file.read_text().split()) == 2
    async with api_client(stack) as http:  # the server serves throughout
        assert (await execute(http, "alice")).json()["success"]

    finish = subprocess.run(command, env=stack.env(), capture_output=True, text=True, timeout=120)
    assert finish.returncode == 0, finish.stderr
    assert len(key_file.read_text().split()) == 2  # the same new key: none piled up
    new_id = {row[0] for row in rows(stack, "select distinct key_id from connections")}
    assert len(new_id) == 1
    retire = subprocess.run(
        [*command[:-3], "retire", "--config", str(stack.config_path)],
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert retire.returncode == 0, retire.stderr
    assert len(key_file.read_text().split()) == 1
    vault = await open_vault(f"sqlite:///{database(stack)}", env_keys=[], key_file=key_file)
    try:
        assert (await vault.get_connection("user-2999", "demo")).access_token == "a-2999"  # type: ignore[union-attr]
        assert (await vault.get_connection("alice", "demo")) is not None
    finally:
        await vault.aclose()
    async with api_client(stack) as http:
        assert (await execute(http, "alice")).json()["success"]


async def test_digests_and_a_pending_approval_still_match_after_a_rotation_and_a_restart(stack_factory: Any) -> None:
    stack: Stack = stack_factory(
        api={"keys": [API_KEY], "verification": "none"},
        approval={"policy": "listed", "tools": ["Gmail.SendEmail"]},
    )
    toolkit = str(REPO / "tests" / "support" / "api_toolkit.py")
    send = {
        "tool_name": "Gmail.SendEmail",
        "user_id": "alice",
        "input": {"recipient": "bob@example.com", "subject": "Q3"},
    }
    fail = {"tool_name": "Gmail.Fail", "user_id": "alice", "input": {"kind": "expected"}}
    calls = "select args_digest from audit_events where event = 'tool.call' and tool = ? order by id"
    stack.start_http("--toolkit", toolkit)
    async with api_client(stack) as http:
        pending = (await http.post("/v1/tools/execute", json=send)).json()
        approval_url = pending["output"]["authorization"]["url"]
        assert "/approve/" in approval_url
        assert not (await http.post("/v1/tools/execute", json=fail)).json()["success"]
    await wait_until(lambda: len(rows(stack, calls, "Gmail.Fail")) == 1, what="the call in the audit trail")
    stack.stop()

    key_file = Path(stack.settings["data_dir"]) / "keys"
    old_key = key_file.read_text().strip()
    for step in ("rotate", "retire"):
        done = subprocess.run(
            [sys.executable, "-m", "mcp_server", "keys", step, "--config", str(stack.config_path)],
            env=stack.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert old_key not in key_file.read_text()

    stack.start_http("--toolkit", toolkit)
    # the person approves on the page: what is tested here is the rotation, so a plain client plays the browser,
    # with the headers a browser sends for opening a link and clicking a button (web/approve.py checks them)
    page = {
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Site": "none",
        "Sec-Fetch-User": "?1",
    }
    async with httpx2.AsyncClient(trust_env=False, timeout=30) as browser:
        shown = await browser.get(approval_url, headers=page)
        csrf = re.search(r'name="csrf" value="([^"]+)"', shown.text)
        assert shown.status_code == 200 and csrf is not None
        decided = await browser.post(
            approval_url,
            data={"csrf": csrf.group(1), "decision": "approve"},
            headers={**page, "Sec-Fetch-Site": "same-origin", "Origin": stack.base_url},
        )
        assert decided.status_code == 200 and "Approved" in decided.text
    async with api_client(stack) as http:
        ran = (await http.post("/v1/tools/execute", json=send)).json()
        assert ran["success"], ran  # the approval asked before the rotation matches the same call after it
        assert not (await http.post("/v1/tools/execute", json=fail)).json()["success"]
    await wait_until(lambda: len(rows(stack, calls, "Gmail.Fail")) == 2, what="the second call in the audit trail")
    before, after = rows(stack, calls, "Gmail.Fail")
    assert before == after and before[0]  # equal calls, equal digests, across the rotation
    digest_key_ids = {key_id for (key_id,) in rows(stack, "select key_id from digest_keys")}
    assert len(digest_key_ids) == 1 and Keyring([old_key]).primary_key_id not in digest_key_ids  # re-encrypted
