"""A key/value clerk over TCP: the simulator's `Clerk` core (impl.kv.clerk), driven by asyncio.

The core decides everything — which server to try, when to move on, when to pause — and
this driver only carries its effects out: requests go on a connection per server (opened on
first use, reopened after a loss), replies are decoded and stepped, timers run on the event
loop. A server that cannot be reached, or whose connection is lost while it holds the
current request, is a failed call for the core (labrpc's Call returning false), so the clerk
moves on at once instead of waiting out its RPC timeout.

The same driver runs the sharded service's clerk (impl.shardkv.clerk: key -> shard -> group by
the controller's configuration, asking the controller again on ErrWrongGroup) and the
controller's own (impl.shardctrler.clerk: join, leave, move, query), given a sharded cluster
file: their cores name servers as the cluster file does (`ctrler0`, `server-100-2`).

Each clerk has a random 62-bit id, as the lab's clerks do (nrand): the servers' duplicate
table keys on (clerk, seq), so two clerks, in one process or many, must never share an id.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from impl.kv.clerk import Clerk, ClerkConfig
from impl.net.cluster import Address, Sharded
from impl.net.links import Framed
from impl.net.sharded_wire import CTRL_REQUESTS_TYPES, shard_clerk_decoder
from impl.net.wire import Decoder, WireError, hello, kv_clerk_decoder, read_numbered
from impl.raft.effects import SetTimer
from impl.rsm.effects import ClerkEffects
from impl.shardctrler.clerk import CtrlClerk
from impl.shardkv.clerk import ShardClerk, ShardClerkConfig

NET_CLERK = ClerkConfig(rpc_timeout_ms=1000, retry_pause_ms=100)
NET_SHARD_CLERK = ShardClerkConfig(rpc_timeout_ms=1000, retry_pause_ms=100, ctrl=NET_CLERK)
_DECODER = kv_clerk_decoder()
_SHARD_DECODER = shard_clerk_decoder()


class Unreachable(Exception):
    """No server of the cluster accepted a connection."""


class NetClerk:
    """One clerk: `await call(kind, key, value)`, one call at a time. `cluster` is a key/value
    cluster's servers, or a sharded cluster (the call then goes to the key's group)."""

    def __init__(self, cluster: tuple[Address, ...] | Sharded, clerk_id: int | None = None,
                 config: ClerkConfig = NET_CLERK,
                 log: Callable[[str], None] | None = None, *, controller: bool = False) -> None:
        self.cluster = cluster
        ident = clerk_id if clerk_id is not None else secrets.randbits(62)
        self.core: Any
        self._where: dict[int | str, Address]
        self._decoder: Decoder
        if isinstance(cluster, Sharded):
            self._where = {name: a for name, a in cluster.address_of().items()}
            self._decoder = _SHARD_DECODER
            self.core = (CtrlClerk(ident, cluster.ctrl_names(), config) if controller
                         else ShardClerk(ident, cluster.ctrl_names(), NET_SHARD_CLERK))
        else:
            self._where = dict(enumerate(cluster))
            self._decoder = _DECODER
            self.core = Clerk(ident, range(len(cluster)), config)
        self._log = log or (lambda _text: None)
        self._conns: dict[int | str, Framed] = {}
        self._connecting: dict[int | str, asyncio.Task[None]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._done: asyncio.Future[Any] | None = None
        self._request: Any = None
        self._next_id = 0
        self.ever_connected = False
        self.refused = 0  # connection attempts refused or failed

    @property
    def id(self) -> int:
        ident: int = self.core.id
        return ident

    async def call(self, kind: str, key: str, value: str | None = None) -> str | None:
        """A get (its value, "" for an absent key), put or append (None), exactly once."""
        output: str | None = await self.run(lambda core: core.call(kind, key, value))
        return output

    async def run(self, start: Callable[[Any], ClerkEffects]) -> Any:
        """One call the core starts with `start(core)` (a controller clerk's join, leave,
        move or query); its output."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._carry_out(start(self.core))
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

    def _send(self, server: int | str, request: Any) -> None:
        conn = self._conns.get(server)
        if conn is not None and not conn.closed:
            self._next_id += 1
            conn.send([self._next_id, request.wire()])
            return
        if server not in self._connecting:
            self._connecting[server] = asyncio.get_running_loop().create_task(
                self._connect(server, request))

    async def _connect(self, server: int | str, request: Any) -> None:
        address = self._where.get(server)
        if address is None:  # a name no cluster file gave: a failed call for the core
            del self._connecting[server]
            self._failed(server, request)
            return
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
        if self._request is request and self._wants(server, request):
            self._send(server, request)

    def _wants(self, server: int | str, request: Any) -> bool:
        """Does the core still want `request` sent to `server` (it has not moved on)? A
        sharded clerk's query belongs to its controller clerk, which has its own target."""
        core = self.core
        if isinstance(core, ShardClerk) and type(request) in CTRL_REQUESTS_TYPES:
            core = core.ctrl
        return bool(core.busy and core.target == server)

    def _failed(self, server: int | str, request: Any) -> None:
        if self._request is request:
            self._carry_out(self.core.call_failed(server, request))

    def _on_lost(self, server: int | str, conn: Framed) -> None:
        if self._conns.get(server) is conn:
            del self._conns[server]
            request = self._request
            if request is not None and self.core.busy:
                # The request it held (if it was the target) is lost with it.
                asyncio.get_running_loop().call_soon(self._failed, server, request)

    def _on_frame(self, server: int | str, conn: Framed, payload: Any) -> None:
        _msg_id, wire = read_numbered(payload)
        reply = self._decoder.decode(wire)
        self._carry_out(self.core.step(server, reply))


__all__ = ["NET_CLERK", "NET_SHARD_CLERK", "NetClerk", "Unreachable", "WireError"]
