"""Key/value servers and clerks on the simulator: the drivers of their sans-I/O cores.

`ServerNode` is one incarnation of a key/value server (the lab's StartKVServer): it attaches
to the lab network under the server's id, restores from the persister, and carries out each
`ServerEffects` in the order impl.kv.effects requires — persist, Raft's messages, the
service's events (recorded), replies to clerks, timers — drawing election timeouts from the
loop's one generator. Raft and the service share the node, as they share one labrpc Server
in the lab: a crash ends both.

`ClerkNode` hosts a `Clerk` under a name of its own (e.g. "ck1003"), so that the tester can
cut a clerk's links to servers without touching server-to-server links. It asks the network
for call failures (labrpc's Call returning false), records each call's invoke and return
through its `Observer`, and sets a `Signal` when a call finishes.

Both record trace events (traces/README.md, system "kv") when the trace is on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from impl.kv.clerk import Clerk, ClerkConfig
from impl.kv.effects import Applied, ClerkEffects, Compacted, Installed, ServerEffects
from impl.kv.machine import GET
from impl.kv.messages import ClerkReply, ClerkRequest
from impl.kv.server import KVServer, ServerConfig
from impl.kv.tasks import Signal
from impl.raft.effects import SetTimer, TimerOp
from impl.raft.persister import Persister
from impl.sim.network import LabNetwork
from impl.sim.timers import Timers

STORE_INLINE_BYTES = 256  # a store this small is written out in full in trace states


class Observer(Protocol):
    """What the tester watches: applies at servers, and clerk calls."""

    def applied(self, server: int, event: Applied) -> None: ...

    def invoked(self, clerk: int, seq: int, f: str, key: str, value: str | None) -> None: ...

    def returned(self, clerk: int, output: str | None) -> None: ...


class ServerNode:
    def __init__(self, node_id: int, peers: Sequence[int], network: LabNetwork,
                 persister: Persister, config: ServerConfig, observer: Observer) -> None:
        self.id = node_id
        self.network = network
        self.loop = network.loop
        self.trace = network.trace
        self.persister = persister
        self.observer = observer
        self.dead = False
        self.core = KVServer(node_id, peers, config, restored=persister.restore(),
                             snapshot=persister.read_snapshot())
        self.timers = Timers(self.loop, self._on_timer)
        self._digest: tuple[int, str] = (-1, "")  # (applied index, digest) of the store
        network.attach(node_id, self)
        effects = self.core.boot()
        if self.trace.enabled:
            self.trace.event(node_id, "restart", state=self.state())
        self._carry_out(effects)

    def kill(self) -> None:
        """The lab's Kill(): this incarnation does nothing more."""
        self.dead = True
        self.timers.stop()

    # -- inputs from the simulator -------------------------------------------------------
    def deliver(self, src: Any, message: Any, msg_id: int) -> None:
        if self.dead:
            return
        effects = self.core.step(src, message)
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

    # -- carrying out effects, in the order of impl.kv.effects ---------------------------
    def _carry_out(self, effects: ServerEffects) -> None:
        if effects.persist is not None:
            self.persister.save(effects.persist.state, effects.persist.snapshot)
        send = self.network.send
        for out in effects.messages:
            send(self.id, out.to, out.message)
        for event in effects.events:
            if isinstance(event, Applied):
                if self.trace.enabled:
                    self.trace.event(self.id, "apply", kind="command", index=event.index,
                                     term=event.term, command=list(event.op),
                                     executed=event.outcome.executed,
                                     output=event.outcome.output)
                self.observer.applied(self.id, event)
            elif self.trace.enabled and isinstance(event, Installed):
                self.trace.event(self.id, "apply", kind="snapshot", index=event.index,
                                 term=event.term)
            elif self.trace.enabled and isinstance(event, Compacted):
                self.trace.event(self.id, "snapshot", index=event.index, bytes=event.size)
        for reply in effects.replies:
            send(self.id, reply.to, reply.message)
        _set_timers(self.timers, self.loop.rng.randint, effects.timers)

    # -- tracing -----------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The trace `state`: Raft's visible state, and the service's beside it."""
        state = self.core.raft.visible_state().to_json()
        machine = self.core.machine
        if self._digest[0] != machine.applied:
            self._digest = (machine.applied, store_digest(machine.data))
        kv: dict[str, Any] = {"applied": machine.applied, "keys": len(machine.data),
                              "digest": self._digest[1]}
        if sum(len(k) + len(v) for k, v in machine.data.items()) <= STORE_INLINE_BYTES:
            kv["store"] = dict(sorted(machine.data.items()))
        kv["dup"] = {str(clerk): seq for clerk, seq in sorted(machine.last_seq.items())}
        state["kv"] = kv
        return state


def store_digest(data: dict[str, str]) -> str:
    """sha256 of the store as canonical JSON (keys sorted, no spaces), first 16 hex digits."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _set_timers(timers: Timers, draw: Callable[[int, int], int],
                ops: Sequence[TimerOp]) -> None:
    for op in ops:
        if isinstance(op, SetTimer):
            low, high = op.low_ms, op.high_ms
            timers.set(op.name, low if low == high else draw(low, high))
        else:
            timers.cancel(op.name)


class ClerkNode:
    """A clerk on the network under `name`; `call` returns a Signal set to the output."""

    wants_call_failures = True

    def __init__(self, name: str, clerk_id: int, servers: Sequence[int], network: LabNetwork,
                 observer: Observer, config: ClerkConfig | None = None) -> None:
        self.name = name
        self.network = network
        self.loop = network.loop
        self.trace = network.trace
        self.observer = observer
        self.core = Clerk(clerk_id, servers, config)
        self.timers = Timers(self.loop, self._on_timer)
        self._signal: Signal[str | None] | None = None
        self._call_id = 0
        network.attach(name, self)

    @property
    def id(self) -> int:
        return self.core.id

    def call(self, kind: str, key: str, value: str | None = None) -> Signal[str | None]:
        effects = self.core.call(kind, key, value)
        self._signal = Signal(self.loop)
        self.observer.invoked(self.core.id, self.core.seq, kind, key, value)
        if self.trace.enabled:
            self._call_id = self.trace.next_call()
            op: dict[str, Any] = {"type": kind, "key": key}
            if kind != GET:
                op["value"] = value
            op["clerk"], op["seq"] = self.core.id, self.core.seq
            self.trace.event(self.name, "invoke", client=self.name, call=self._call_id, op=op)
        self._carry_out(effects)
        return self._signal

    def deliver(self, src: Any, message: ClerkReply, msg_id: int) -> None:
        effects = self.core.step(src, message)
        if self.trace.enabled:
            self.trace.event(self.name, "receive", **{"from": src}, id=msg_id,
                             msg=message.trace(), state=self.state())
        self._carry_out(effects)

    def call_failed(self, dst: Any, message: ClerkRequest) -> None:
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
        _set_timers(self.timers, self.loop.rng.randint, effects.timers)
        done = effects.done
        if done is not None:
            self.observer.returned(self.core.id, done.output)
            if self.trace.enabled:
                output = {"value": done.output} if done.output is not None else None
                self.trace.event(self.name, "return", client=self.name, call=self._call_id,
                                 output=output)
            signal, self._signal = self._signal, None
            assert signal is not None
            signal.set(done.output)

    def state(self) -> dict[str, Any]:
        """A clerk's trace `state`: its id, current sequence number, the server it tries
        first, and whether a call is in progress."""
        return {"clerk": self.core.id, "seq": self.core.seq, "leader": self.core.target,
                "busy": self.core.busy}
