"""Servers and clerks of a replicated service on the simulator: the drivers of their sans-I/O
cores, shared by every service on Raft (impl.kv, impl.shardctrler, impl.shardkv).

`ServerNode` is one incarnation of a server (the lab's StartKVServer / StartServer): it
attaches to the lab network under its name, and carries out each `ServerEffects` in the order
impl.rsm.effects requires — persist, Raft's messages, the service's events (recorded),
the service's messages, timers — drawing random timer delays from the loop's one generator.
Raft and the service share the node, as they share one labrpc Server in the lab: a crash ends
both. Raft numbers its peers 0..n-1; `peers[i]` is peer i's name on the network (the same
int for the key/value service, "server-101-2" for a shard group's server), so the driver
translates Raft's addresses both ways.

With `RaftConfig.parallel_write` on, a server's persister sits behind a disk whose writes
take a few virtual ms (impl.sim.disk.SlowDisk): a leader's AppendEntries marked `early` leave
at once; Raft's other messages and the service's replies wait, in order, for the write that
covers their step; each finished write is reported to the core (`persisted`) as a `durable`
step (it may commit, so apply and answer).

`ClerkNode` hosts a clerk core under a name of its own (e.g. "ck1003"), so that a tester can
cut a clerk's links to servers without touching server-to-server links. It asks the network
for call failures (labrpc's Call returning false) and hands each finished call to
`_finished`.

A service's driver subclasses them: `state()` (the trace's `state` object) and
`_record(event)` for the events of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from impl.raft.effects import HardState, Send, SetTimer, TimerOp
from impl.raft.persister import Persister
from impl.rsm.effects import (
    Applied,
    ClerkEffects,
    Compacted,
    Done,
    Installed,
    Read,
    ServerEffects,
)
from impl.rsm.server import ReplicatedServer
from impl.sim.disk import SlowDisk
from impl.sim.network import LabNetwork
from impl.sim.timers import Timers
from impl.trace import Node


def set_timers(timers: Timers, draw: Callable[[int, int], int],
               ops: Sequence[TimerOp]) -> None:
    """Carry out timer ops: a random delay in [low, high] is drawn with `draw`."""
    for op in ops:
        if isinstance(op, SetTimer):
            low, high = op.low_ms, op.high_ms
            timers.set(op.name, low if low == high else draw(low, high))
        else:
            timers.cancel(op.name)


class ServerNode:
    """Construct with the booted-to-be core: attaches, boots it and carries out the result."""

    def __init__(self, node_id: Node, peers: Sequence[Node], network: LabNetwork,
                 persister: Persister, core: ReplicatedServer[Any, Any]) -> None:
        self.id = node_id
        self.peers = tuple(peers)
        self._raft_id = {name: i for i, name in enumerate(self.peers)}
        self.network = network
        self.loop = network.loop
        self.trace = network.trace
        self.persister = persister
        self.dead = False
        self.core = core
        self.timers = Timers(self.loop, self._on_timer)
        self._disk = (SlowDisk(self.loop, persister, self._on_durable)
                      if core.raft.config.parallel_write else None)
        network.attach(node_id, self)
        effects = self.core.boot()
        if self.trace.enabled:
            self.trace.event(node_id, "restart", state=self.state())
        self._carry_out(effects)

    def kill(self) -> None:
        """The lab's Kill(): this incarnation does nothing more."""
        self.dead = True
        self.timers.stop()
        if self._disk is not None:
            self._disk.stop()  # what was staged and not yet written is lost

    # -- inputs from the simulator -------------------------------------------------------
    def deliver(self, src: Any, message: Any, msg_id: int) -> None:
        if self.dead:
            return
        raft_src = self._raft_id.get(src)
        effects = self.core.step(raft_src if raft_src is not None else src, message)
        if self.trace.enabled:
            self.trace.event(self.id, "receive", **{"from": src}, id=msg_id,
                             msg=message.trace(), state=self.state())
        self._carry_out(effects)

    def _on_timer(self, name: str) -> None:
        if self.dead:
            return
        effects = self.core.timeout(name)
        if self.trace.enabled:
            self.trace.event(self.id, "timer", timer=name, state=self.state())
        self._carry_out(effects)

    def _on_durable(self, state: HardState) -> None:
        if self.dead:
            return
        commit = self.core.raft.commit_index
        effects = self.core.persisted(state)
        if self.trace.enabled and self.core.raft.commit_index != commit:
            # Traced only when it commits: otherwise no visible state changed.
            self.trace.event(self.id, "durable", state=self.state())
        self._carry_out(effects)

    # -- carrying out effects, in the order of impl.rsm.effects --------------------------
    def _carry_out(self, effects: ServerEffects) -> None:
        if self._disk is not None:
            self._carry_out_slowly(effects, self._disk)
            return
        if effects.persist is not None:
            self.persister.save(effects.persist.state, effects.persist.snapshot)
        send = self.network.send
        peers = self.peers
        for out in effects.messages:
            send(self.id, peers[out.to], out.message)
        for event in effects.events:
            self._record(event)
        for reply in effects.replies:
            send(self.id, reply.to, reply.message)
        set_timers(self.timers, self.loop.rng.randint, effects.timers)

    def _carry_out_slowly(self, effects: ServerEffects, disk: SlowDisk) -> None:
        """Parallel write: the same order, except that only `early` messages leave before
        the step's write (and every earlier one) is durable."""
        if effects.persist is not None:
            disk.stage(effects.persist)
        waiting: list[Send] = []
        for out in effects.messages:
            if out.early:
                self.network.send(self.id, self.peers[out.to], out.message)
            else:
                waiting.append(out)
        for event in effects.events:
            self._record(event)
        replies = effects.replies
        if waiting or replies:
            disk.after_staged(lambda: self._send_held(waiting, replies))
        set_timers(self.timers, self.loop.rng.randint, effects.timers)

    def _send_held(self, sends: list[Send], replies: tuple[Any, ...]) -> None:
        if self.dead:
            return
        for out in sends:
            self.network.send(self.id, self.peers[out.to], out.message)
        for reply in replies:
            self.network.send(self.id, reply.to, reply.message)

    def _record(self, event: Any) -> None:
        """Record one of the service's events (trace, tester). Snapshots are recorded here;
        a service records its applies (and any events of its own) in `_record_applied` or
        by overriding this."""
        if isinstance(event, Applied):
            self._record_applied(event)
        elif isinstance(event, Read):
            self._record_read(event)
        elif self.trace.enabled and isinstance(event, Installed):
            self.trace.event(self.id, "apply", kind="snapshot", index=event.index,
                             term=event.term)
        elif self.trace.enabled and isinstance(event, Compacted):
            self.trace.event(self.id, "snapshot", index=event.index, bytes=event.size)

    def _record_applied(self, event: Applied) -> None:
        """Record one applied entry (the service's)."""

    def _record_read(self, event: Read) -> None:
        """Record one read answered by ReadIndex (the service's)."""

    def state(self) -> dict[str, Any]:
        """The trace `state`: Raft's visible state (a service adds its own beside it)."""
        return self.core.raft.visible_state().to_json()


class ClerkNode:
    """A clerk core on the network under `name`. A service's driver starts calls through the
    core and `_carry_out`, and learns of each finished call in `_finished`."""

    wants_call_failures = True

    def __init__(self, name: str, core: Any, network: LabNetwork) -> None:
        self.name = name
        self.network = network
        self.loop = network.loop
        self.trace = network.trace
        self.core = core
        self.timers = Timers(self.loop, self._on_timer)
        network.attach(name, self)

    @property
    def id(self) -> int:
        clerk_id: int = self.core.id
        return clerk_id

    def deliver(self, src: Any, message: Any, msg_id: int) -> None:
        effects = self.core.step(src, message)
        if self.trace.enabled:
            self.trace.event(self.name, "receive", **{"from": src}, id=msg_id,
                             msg=message.trace(), state=self.state())
        self._carry_out(effects)

    def call_failed(self, dst: Any, message: Any) -> None:
        self._carry_out(self.core.call_failed(dst, message))

    def _on_timer(self, name: str) -> None:
        busy = self.core.busy  # an idle clerk's stale timer is a no-op: not worth a line
        effects = self.core.timeout(name)
        if self.trace.enabled and busy:
            self.trace.event(self.name, "timer", timer=name, state=self.state())
        self._carry_out(effects)

    def _carry_out(self, effects: ClerkEffects) -> None:
        for out in effects.messages:
            self.network.send(self.name, out.to, out.message)
        set_timers(self.timers, self.loop.rng.randint, effects.timers)
        if effects.done is not None:
            self._finished(effects.done)

    def _finished(self, done: Done) -> None:
        """The current call finished (record it, wake whoever waits)."""

    def state(self) -> dict[str, Any]:
        """A clerk's trace `state`: its id, current sequence number, the server it tries
        first, and whether a call is in progress."""
        return {"clerk": self.core.id, "seq": self.core.seq, "leader": self.core.target,
                "busy": self.core.busy}
