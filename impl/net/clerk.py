"""A key/value clerk over TCP: the simulator's `Clerk` core (impl.kv.clerk), driven by asyncio.

The core decides everything — which server to try, when to move on, when to pause — and
this driver only carries its effects out: requests go on a connection per server (opened on
first use, reopened after a loss), replies are decoded and stepped, timers run on the event
loop. A server that cannot be reached, or whose connection is lost while it holds the
current request, is a failed call for the core (labrpc's Call returning false), so the clerk
moves on at once instead of waiting out its RPC timeout.

Each clerk has a random 62-bit id, as the lab's clerks do (nrand): the servers' duplicate
table keys on (clerk, seq), so two clerks, in one process or many, must never share an id.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from impl.kv.clerk import Clerk, ClerkConfig
from impl.kv.messages import ClerkRequest
from impl.net.cluster import Address
from impl.net.links import Framed
from impl.net.wire import WireError, hello, kv_clerk_decoder, read_numbered
from impl.raft.effects import SetTimer
from impl.rsm.effects import ClerkEffects

NET_CLERK = ClerkConfig(rpc_timeout_ms=1000, retry_pause_ms=100)
_DECODER = kv_clerk_decoder()


class Unreachable(Exception):
    """No server of the cluster accepted a connection."""


class NetClerk:
    """One clerk: `await call(kind, key, value)`, one call at a time."""

    def __init__(self, cluster: tuple[Address, ...], clerk_id: int | None = None,
                 config: ClerkConfig = NET_CLERK,
                 log: Callable[[str], None] | None = None) -> None:
        self.cluster = cluster
        self.core = Clerk(clerk_id if clerk_id is not None else secrets.randbits(62),
                          range(len(cluster)), config)
        self._log = log or (lambda _text: None)
        self._conns: dict[int, Framed] = {}
        self._connecting: dict[int, asyncio.Task[None]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._done: asyncio.Future[str | None] | None = None
        self._request: ClerkRequest | None = None
        self._next_id = 0
        self.ever_connected = False
        self.refused = 0  # connection attempts refused or failed

    @property
    def id(self) -> int:
        return self.core.id

    async def call(self, kind: str, key: str, value: str | None = None) -> str | None:
        """A get (its value, "" for an absent key), put or append (None), exactly once."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._carry_out(self.core.call(kind, key, value))
        try:
            return await self._done
        finally:
            self._done = None

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._connecting.values():
            task.cancel()
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    # ------------------------------------------------------------------ the core's effects
    def _carry_out(self, effects: ClerkEffects) -> None:
        for out in effects.messages:
            assert isinstance(out.to, int)
            self._request = out.message
            self._send(out.to, out.message)
        loop = asyncio.get_running_loop()
        for op in effects.timers:
            old = self._timers.pop(op.name, None)
            if old is not None:
                old.cancel()
            if isinstance(op, SetTimer):
                self._timers[op.name] = loop.call_later(op.low_ms / 1000, self._on_timer,
                                                        op.name)
        if effects.done is not None and self._done is not None and not self._done.done():
            self._done.set_result(effects.done.output)

    def _on_timer(self, name: str) -> None:
        self._timers.pop(name, None)
        self._carry_out(self.core.timeout(name))

    def _send(self, server: int, request: ClerkRequest) -> None:
        conn = self._conns.get(server)
        if conn is not None and not conn.closed:
            self._next_id += 1
            conn.send([self._next_id, request.wire()])
            return
        if server not in self._connecting:
            self._connecting[server] = asyncio.get_running_loop().create_task(
                self._connect(server, request))

    async def _connect(self, server: int, request: ClerkRequest) -> None:
        address = self.cluster[server]
        loop = asyncio.get_running_loop()
        try:
            timeout = self.core.config.rpc_timeout_ms / 1000
            _, conn = await asyncio.wait_for(loop.create_connection(
                lambda: Framed(lambda c, p: self._on_frame(server, c, p),
                               lambda c: self._on_lost(server, c), self._log),
                address.host, address.port), timeout)
        except (OSError, TimeoutError):
            self.refused += 1
            del self._connecting[server]
            self._failed(server, request)
            return
        del self._connecting[server]
        self.ever_connected = True
        conn.send(hello("client", None))
        self._conns[server] = conn
        if self._request is request and self.core.busy and self.core.target == server:
            self._send(server, request)

    def _failed(self, server: int, request: ClerkRequest) -> None:
        if self._request is request:
            self._carry_out(self.core.call_failed(server, request))

    def _on_lost(self, server: int, conn: Framed) -> None:
        if self._conns.get(server) is conn:
            del self._conns[server]
            request = self._request
            if request is not None and self.core.busy:
                # The request it held (if it was the target) is lost with it.
                asyncio.get_running_loop().call_soon(self._failed, server, request)

    def _on_frame(self, server: int, conn: Framed, payload: Any) -> None:
        _msg_id, wire = read_numbered(payload)
        reply = _DECODER.decode(wire)
        self._carry_out(self.core.step(server, reply))


__all__ = ["NET_CLERK", "NetClerk", "Unreachable", "WireError"]
