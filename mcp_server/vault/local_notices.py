"""'A flow finished' and 'a connection changed' notices (events.py) between the processes on one machine that
share one SQLite file.

SQLite has no LISTEN/NOTIFY. Each process listening for notices binds a UDP socket on 127.0.0.1 (port 0) and
writes its port into `.<database file name>.notices/<pid>-<origin>` beside the file; a process that finished a
flow (or changed a connection) sends one datagram saying so to every other port listed there, right after the
transaction commits. A datagram on loopback is heard within milliseconds (docs/clients.md gives measured figures);
nothing polls.

Any local program, of any OS user, can send a datagram to those ports. So every datagram carries an HMAC-SHA256
of its payload with a key only the processes able to read the database's directory know
(`.<database file name>.notices.key` beside the file, mode 0600); a datagram without a valid one (a forgery, or
the unauthenticated format of an older authmcp) is dropped unread, and the drops are logged (never their
contents). An authenticated notice still only makes the receiver re-read the flow from the database (and act only
if the vault shows it finished, see `FlowService`), or drop what it cached of a connection (read again on its next
use), so a repeated datagram changes nothing. Entries of processes that died without removing theirs are deleted
by the next sender.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from mcp_server.errors import ConfigError
from mcp_server.vault.events import Change, FlowNotices, change_payload, parse_change
from mcp_server.vault.local_secret import local_secret

__all__ = ["LocalFlowNotices"]

logger = logging.getLogger(__name__)

_MAC = 32  # bytes of HMAC-SHA256 before the payload
_MAX_DATAGRAM = _MAC + 512  # {"origin": 16 hex, "flow": <= 64 characters} fits many times over
_DROP_LOG_EVERY = 60.0  # seconds: a flood of forgeries is logged once a minute, not once a datagram


class LocalFlowNotices(FlowNotices):
    """Notices over loopback UDP between the processes that use the SQLite file at `database_path`."""

    def __init__(self, database_path: Path) -> None:
        super().__init__()
        self.directory = database_path.parent / f".{database_path.name}.notices"
        self._transport: asyncio.DatagramTransport | None = None
        self._entry: Path | None = None
        self._sender: socket.socket | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._key_file = database_path.parent / f".{database_path.name}.notices.key"
        self._key: bytes | None = None
        self._dropped = 0
        self._drop_logged_at: float | None = None

    def _mac(self, payload: bytes) -> bytes:
        if self._key is None:
            try:
                self._key = local_secret(self._key_file)
            except OSError as exc:
                raise ConfigError(
                    f"Cannot use {self._key_file} ({exc.strerror or exc}); the database's folder must be writable."
                ) from None
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    async def start(self) -> None:
        if self._transport is not None:
            return
        self._mac(b"")  # the key exists before anyone can learn our port
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Receiver(self), local_addr=("127.0.0.1", 0), family=socket.AF_INET
        )
        self._transport = transport
        port = transport.get_extra_info("sockname")[1]
        self.directory.mkdir(mode=0o700, exist_ok=True)
        self._entry = self.directory / f"{os.getpid()}-{self.origin}"
        self._entry.write_text(str(port))

    def forget_now(self) -> None:
        if self._entry is not None:
            self._entry.unlink(missing_ok=True)
            self._entry = None

    async def aclose(self) -> None:
        self.forget_now()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._sender is not None:
            self._sender.close()
            self._sender = None
        for delivery in list(self._deliveries):
            delivery.cancel()

    async def announce(self, conn: AsyncConnection, flow_id: str) -> None:
        """Nothing inside the transaction: a reader woken before the commit would see the flow still open."""

    async def committed(self, flow_id: str) -> None:
        self._send(json.dumps({"origin": self.origin, "flow": flow_id}).encode())

    def change_committed(self, change: Change) -> None:
        self._send(change_payload(self.origin, change).encode())

    def _send(self, payload: bytes) -> None:
        try:
            datagram = self._mac(payload) + payload
        except ConfigError as exc:  # after the commit: the others' own checks will catch up
            logger.warning("could not notify the other processes: %s", exc)
            return
        for entry, port in self._peers():
            try:
                self._socket().sendto(datagram, ("127.0.0.1", port))
            except OSError as exc:  # a full buffer on loopback: the receiver's own checks will catch up
                logger.info("could not notify process %s (%s)", entry.name.split("-")[0], exc)

    def _socket(self) -> socket.socket:
        if self._sender is None:
            self._sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
        return self._sender

    def _peers(self) -> list[tuple[Path, int]]:
        try:
            entries = list(self.directory.iterdir())
        except FileNotFoundError:
            return []
        peers = []
        for entry in entries:
            if entry == self._entry:
                continue
            pid_text, _, _ = entry.name.partition("-")
            try:
                pid, port = int(pid_text), int(entry.read_text())
            except (OSError, ValueError):
                continue  # being written, or not ours
            if not _alive(pid):
                entry.unlink(missing_ok=True)
                continue
            peers.append((entry, port))
        return peers

    def _heard(self, data: bytes) -> None:
        payload = data[_MAC:]
        if not hmac.compare_digest(data[:_MAC], self._mac(payload)):
            self._drop()
            return
        try:
            notice = json.loads(payload)
        except ValueError:
            return
        change = parse_change(notice)
        if change is not None:
            if change[0] != self.origin:
                self.heard_change(change[1])
            return
        try:
            origin, flow_id = str(notice["origin"]), str(notice["flow"])
        except (ValueError, KeyError, TypeError):
            return
        if origin != self.origin and len(flow_id) <= 64:
            task = asyncio.get_running_loop().create_task(self.heard_finished(flow_id))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    def _drop(self) -> None:
        """A datagram that is not from an authmcp on this database: forged, or an older authmcp's format."""
        self._dropped += 1
        now = time.monotonic()
        if self._drop_logged_at is None or now - self._drop_logged_at >= _DROP_LOG_EVERY:
            self._drop_logged_at = now
            logger.warning(
                "dropped %d notice datagram(s) on the notices port that did not carry this database's key (a forgery, "
                "or an older authmcp on the same database: upgrade it)",
                self._dropped,
            )
            self._dropped = 0


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, notices: LocalFlowNotices) -> None:
        self.notices = notices

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) <= _MAX_DATAGRAM:
            self.notices._heard(data)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
