"""Connections of the runtime: framed msgpack over TCP (asyncio protocols), outbound links to
peers that reconnect by themselves, and the fault layer a test controls.

Each server listens on one port. A connection starts with a hello naming its role
(impl.net.wire); a peer's messages arrive on the connection that peer opened, and a server
sends to a peer on a connection of its own (two connections per pair: each carries one
direction, so neither side ever waits on the other's replies). A clerk's requests and their
replies share the clerk's connection. A frame that is malformed, oversized or of the wrong
kind for its connection closes that connection with one log line; the server goes on.

Messages to a peer that is not connected are dropped, as a lossy network would: Raft
retransmits (heartbeats carry whatever is unanswered), and the clerk retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from impl.net.cluster import Address
from impl.net.wire import MAX_FRAME, FrameReader, WireError, frame, hello, unpack

Log = Callable[[str], None]


class Framed(asyncio.Protocol):
    """One connection: frames in (to `on_frame`), frames out (`send`)."""

    def __init__(self, on_frame: Callable[[Framed, Any], None], on_lost: Callable[[Framed], None],
                 log: Log, limit: int = MAX_FRAME) -> None:
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._log = log
        self._reader = FrameReader(limit)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.state: Any = None  # what the owner knows of this connection (its role, sender)
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; both have this surface.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        name = transport.get_extra_info("peername")
        self.peer = f"{name[0]}:{name[1]}" if isinstance(name, tuple) else str(name)

    def data_received(self, data: bytes) -> None:
        try:
            for body in self._reader.feed(data):
                self._on_frame(self, unpack(body))
                if self.closed:
                    return
        except WireError as error:
            self.close(f"{error}")

    def send(self, payload: Any) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame(payload))

    @property
    def closed(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def close(self, why: str = "") -> None:
        if why:
            self._log(f"connection from {self.peer} closed: {why}")
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        self._on_lost(self)


@dataclass(slots=True)
class Faults:
    """The fault layer: links cut, and random loss. Off unless the server was started with
    fault injection allowed and a test set it through an admin connection.

    A link is named by a Raft peer's id (an int: both directions of the pair's traffic, at
    this end), or — in a sharded cluster — by another server's name (a str: the calls this
    server makes to it, a shard group's Query to the controller's servers or Transfer to
    another group, and their answers). Calls between servers are request and answer on the
    caller's own connection, so cutting the names both ways (each side blocking the
    other's) partitions two groups completely; a group blocking the controller's names is cut
    off from it (the controller never calls a group)."""

    blocked: frozenset[int | str] = frozenset()  # ids or names: neither heard nor reached
    loss: float = 0.0  # each message to or from one of them is lost with this probability
    rng: random.Random = field(default_factory=random.Random)

    def reason_out(self, link: int | str) -> str | None:
        """Why a message to `link` is dropped (a trace `drop` reason), or None."""
        if link in self.blocked:
            return "disconnected"
        if self.loss and self.rng.random() < self.loss:
            return "unreliable"
        return None

    def reason_in(self, link: int | str) -> str | None:
        return self.reason_out(link)

    def describe(self) -> dict[str, Any]:
        return {"blocked": sorted(self.blocked, key=lambda b: (isinstance(b, str), str(b))),
                "loss": self.loss}


class PeerLink:
    """The outbound connection to one peer: connects, says hello, reconnects after a loss
    with a short pause; `send` drops while it is down."""

    RETRY_S = 0.05

    def __init__(self, me: int, peer: int, address: Address, log: Log) -> None:
        self.me, self.peer, self.address = me, peer, address
        self._log = log
        self._conn: Framed | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.dropped = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def send(self, payload: Any) -> bool:
        conn = self._conn
        if conn is None or conn.closed:
            self.dropped += 1
            return False
        conn.send(payload)
        return True

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        reported = False
        while not self._closing:
            try:
                _, conn = await loop.create_connection(
                    lambda: Framed(self._unexpected, lambda _c: None, self._log),
                    self.address.host, self.address.port)
            except OSError as error:
                if not reported:
                    self._log(f"peer {self.peer} at {self.address} unreachable "
                              f"({error.strerror or error}); retrying")
                    reported = True
                await asyncio.sleep(self.RETRY_S)
                continue
            if reported:
                self._log(f"peer {self.peer} at {self.address} reachable")
            reported = False
            conn.send(hello("peer", self.me))
            self._conn = conn
            await conn.lost
            self._conn = None
            if not self._closing:
                await asyncio.sleep(self.RETRY_S)

    def _unexpected(self, conn: Framed, payload: Any) -> None:
        conn.close("a peer sends nothing on our outbound connection")

    async def close(self) -> None:
        self._closing = True
        if self._conn is not None:
            self._conn.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class NamedLinks:
    """A server's own calls to other services' servers (a shard group's server polling the
    controller, handing shards to other groups), by the names its core uses: one client
    connection per destination, opened on first use and again after a loss; the answers
    come back on it, to `on_reply(name, payload)`. Messages sent while a connection is being
    opened wait for it (a few: the core's timers resend anything that matters); while a
    destination is unreachable they are dropped, as a lossy network would."""

    WAITING = 16  # messages kept for a connection being opened

    def __init__(self, addresses: dict[str, Address], on_reply: Callable[[str, Any], None],
                 log: Log, limit: int = MAX_FRAME) -> None:
        self.addresses = addresses
        self._on_reply = on_reply
        self._log = log
        self._limit = limit
        self._conns: dict[str, Framed] = {}
        self._pending: dict[str, list[Any]] = {}  # name -> messages waiting for its connection
        self._tasks: set[asyncio.Task[None]] = set()
        self._unreachable: set[str] = set()  # reported once until reachable again
        self.dropped = 0

    def send(self, name: str, payload: Any) -> bool:
        conn = self._conns.get(name)
        if conn is not None and not conn.closed:
            conn.send(payload)
            return True
        if name not in self.addresses:
            self.dropped += 1
            return False
        waiting = self._pending.get(name)
        if waiting is None:
            self._pending[name] = [payload]
            task = asyncio.get_running_loop().create_task(self._connect(name))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif len(waiting) < self.WAITING:
            waiting.append(payload)
        else:
            self.dropped += 1
        return True

    async def _connect(self, name: str) -> None:
        address = self.addresses[name]
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(
                lambda: Framed(lambda _c, p: self._on_reply(name, p), self._lost(name),
                               self._log, self._limit), address.host, address.port)
        except OSError as error:
            if name not in self._unreachable:
                self._log(f"{name} at {address} unreachable ({error.strerror or error})")
                self._unreachable.add(name)
            self.dropped += len(self._pending.pop(name, []))
            return
        self._unreachable.discard(name)
        conn.send(hello("client", None))
        self._conns[name] = conn
        for payload in self._pending.pop(name, []):
            conn.send(payload)

    def _lost(self, name: str) -> Callable[[Framed], None]:
        def lost(conn: Framed) -> None:
            if self._conns.get(name) is conn:
                del self._conns[name]
        return lost

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
