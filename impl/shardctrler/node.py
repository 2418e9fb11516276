"""Shard controller servers and clerks on the simulator: the drivers of their sans-I/O cores.

`CtrlServerNode` is one incarnation of a controller server (the lab's StartServer), the
shared server driver of impl.rsm.node with the controller's trace state and applies.
`CtrlClerkNode` hosts a `CtrlClerk` under a name of its own; each call returns a `Signal` set
to the call's output. `ControllerCluster` starts, stops and restarts the controller's servers
on a network that may hold other services too (the shard key/value tester's).

Trace events follow traces/README.md, system "shardctrler" (and the controller's part of a
"shardkv" trace).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from impl.kv.tasks import Signal
from impl.raft.persister import Persister
from impl.rsm import node as rsm_node
from impl.rsm.clerk import ClerkConfig
from impl.rsm.effects import Applied, ClerkEffects, Done
from impl.rsm.server import ServerConfig
from impl.shardctrler.clerk import CtrlClerk
from impl.shardctrler.machine import QUERY, CtrlOp, Outcome
from impl.shardctrler.messages import config_trace
from impl.shardctrler.server import CtrlServer
from impl.sim.network import LabNetwork
from impl.trace import Node


class CtrlObserver(Protocol):
    """What a tester watches of the controller: every apply at every server."""

    def ctrl_applied(self, server: Node, event: Applied) -> None: ...


class CallObserver(Protocol):
    """What a tester records of a controller clerk's calls (its history): each call's kind
    and argument (as in spec.sequential_shardctrler's model) when it starts, and its output
    when it returns."""

    def ctrl_invoked(self, clerk: int, seq: int, f: str, arg: Any) -> None: ...

    def ctrl_returned(self, clerk: int, output: Any) -> None: ...


class CtrlServerNode(rsm_node.ServerNode):
    def __init__(self, name: Node, peers: Sequence[Node], network: LabNetwork,
                 persister: Persister, config: ServerConfig,
                 observer: CtrlObserver | None = None) -> None:
        self.observer = observer
        me = list(peers).index(name)
        core = CtrlServer(me, range(len(peers)), config, restored=persister.restore(),
                          snapshot=persister.read_snapshot())
        super().__init__(name, peers, network, persister, core)

    def _record_applied(self, event: Applied) -> None:
        if self.trace.enabled:
            op: CtrlOp = event.op
            outcome: Outcome = event.outcome
            extra: dict[str, Any] = {}
            if op.kind == QUERY and outcome.config is not None:
                extra["output"] = {"num": outcome.config.num}
            if outcome.error is not None:
                extra["error"] = outcome.error
            self.trace.event(self.id, "apply", kind="command", index=event.index,
                             term=event.term, command=list(op), executed=outcome.executed,
                             **extra)
        if self.observer is not None:
            self.observer.ctrl_applied(self.id, event)

    def state(self) -> dict[str, Any]:
        """The trace `state`: Raft's visible state, and the controller's beside it: the
        applied index, the newest configuration, and the duplicate table."""
        state = super().state()
        machine = self.core.machine
        state["ctrl"] = {"applied": machine.applied, "latest": config_trace(machine.latest),
                         "dup": {str(c): q for c, q in sorted(machine.last_seq.items())}}
        return state


class CtrlClerkNode(rsm_node.ClerkNode):
    """A controller clerk on the network under `name`; each call returns a Signal set to its
    output (a query's configuration; None for a change, or the reason it was refused)."""

    core: CtrlClerk

    def __init__(self, name: str, clerk_id: int, servers: Sequence[Node], network: LabNetwork,
                 config: ClerkConfig | None = None, observer: CallObserver | None = None) -> None:
        self.observer = observer
        self._signal: Signal[Any] | None = None
        self._call_id = 0
        super().__init__(name, CtrlClerk(clerk_id, servers, config), network)

    def join(self, groups: Mapping[int, Iterable[str]]) -> Signal[Any]:
        shown = {str(gid): list(servers) for gid, servers in sorted(groups.items())}
        arg = tuple(sorted((gid, tuple(servers)) for gid, servers in groups.items()))
        return self._call(self.core.join(groups), {"type": "join", "groups": shown}, arg)

    def leave(self, gids: Iterable[int]) -> Signal[Any]:
        gids = sorted(gids)
        return self._call(self.core.leave(gids), {"type": "leave", "gids": gids}, tuple(gids))

    def move(self, shard: int, gid: int) -> Signal[Any]:
        return self._call(self.core.move(shard, gid), {"type": "move", "shard": shard,
                                                        "gid": gid}, (shard, gid))

    def query(self, num: int = -1) -> Signal[Any]:
        return self._call(self.core.query(num), {"type": "query", "num": num}, num)

    def _call(self, effects: ClerkEffects, op: dict[str, Any], arg: Any) -> Signal[Any]:
        self._signal = Signal(self.loop)
        if self.observer is not None:
            self.observer.ctrl_invoked(self.core.id, self.core.seq, op["type"], arg)
        if self.trace.enabled:
            self._call_id = self.trace.next_call()
            op["clerk"], op["seq"] = self.core.id, self.core.seq
            self.trace.event(self.name, "invoke", client=self.name, call=self._call_id, op=op)
        self._carry_out(effects)
        return self._signal

    def _finished(self, done: Done) -> None:
        if self.observer is not None:
            self.observer.ctrl_returned(self.core.id, done.output)
        if self.trace.enabled:
            output: Any = done.output
            if output is not None and not isinstance(output, str):
                output = {"config": config_trace(output)}
            elif isinstance(output, str):
                output = {"error": output}
            self.trace.event(self.name, "return", client=self.name, call=self._call_id,
                             output=output)
        signal, self._signal = self._signal, None
        assert signal is not None
        signal.set(done.output)


class ControllerCluster:
    """The controller's servers on `network`, named `names` (Raft peers in that order), each
    with a persister slot; crash (`shutdown`) and restart (`start`) as the lab's testers do."""

    def __init__(self, network: LabNetwork, names: Sequence[Node], config: ServerConfig,
                 observer: CtrlObserver | None = None) -> None:
        self.network = network
        self.names = tuple(names)
        self.config = config
        self.observer = observer
        self.servers: list[CtrlServerNode | None] = [None] * len(self.names)
        self.saved: list[Persister | None] = [None] * len(self.names)

    def shutdown(self, i: int) -> None:
        """Crash server i: nothing reaches it or comes from it any more (the network voids
        this incarnation's messages, labrpc's DeleteServer), and its persister is copied so
        that the dead instance's later saves go nowhere."""
        name = self.names[i]
        self.network.detach(name)
        saved = self.saved[i]
        if saved is not None:
            self.saved[i] = saved.copy()
        server = self.servers[i]
        if server is not None:
            server.kill()
            self.servers[i] = None
            if self.network.trace.enabled:
                self.network.trace.event(name, "crash")

    def start(self, i: int) -> None:
        """Start server i (again) from its persisted state."""
        self.shutdown(i)
        saved = self.saved[i]
        self.saved[i] = saved = saved.copy() if saved is not None else Persister()
        self.servers[i] = CtrlServerNode(self.names[i], self.names, self.network, saved,
                                         self.config, self.observer)

    def leader(self) -> int | None:
        for i, server in enumerate(self.servers):
            if server is not None and server.core.is_leader:
                return i
        return None
