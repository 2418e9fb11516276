"""Shard group servers and clerks on the simulator: the drivers of their sans-I/O cores.

`ShardServerNode` is one incarnation of a shard group's server (the lab's StartServer), the
shared server driver of impl.rsm.node named "server-<gid>-<i>" on the network, with the
group's Raft peers translated to those names, the trace state of a shard group and its
applies reported to an `Observer`.

`ShardClerkNode` hosts a `ShardClerk` under a name of its own (e.g. "ck1003"); each call
returns a `Signal` set to its output, and its invoke and return go to the `Observer` (the
history) and the trace.

Trace events follow traces/README.md, system "shardkv".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from impl.kv.node import KVClerkNode
from impl.raft.persister import Persister
from impl.rsm import node as rsm_node
from impl.rsm.effects import Applied
from impl.shardkv.clerk import ShardClerk, ShardClerkConfig
from impl.shardkv.machine import Changed, Delete, Install, Reconfigure, ShardMachine, WrongGroup
from impl.shardkv.messages import shard_digest
from impl.shardkv.server import ShardServer, ShardServerConfig
from impl.sim.network import LabNetwork
from impl.trace import Node
from spec.shardkv import Status

STATUS_NAMES = {Status.ABSENT: "absent", Status.SERVING: "serving", Status.WAITING: "waiting",
                Status.SENDING: "sending"}


def server_name(gid: int, i: int) -> str:
    """The lab's name for server i of group gid."""
    return f"server-{gid}-{i}"


class Observer(Protocol):
    """What the tester watches: applies at group servers, and clerk calls."""

    def kv_applied(self, gid: int, server: Node, event: Applied) -> None: ...

    def invoked(self, clerk: int, seq: int, f: str, key: str, value: str | None) -> None: ...

    def returned(self, clerk: int, output: str | None) -> None: ...


def command_trace(command: Any) -> list[Any]:
    """A group's log entry in a trace `apply` event: a clerk call as the key/value service
    writes it; a reconfiguration with its configuration; an install with the shard's size,
    digest and duplicate table instead of its data."""
    if isinstance(command, Reconfigure):
        return ["config", command.num, list(command.shards),
                {str(g): list(s) for g, s in command.groups}]
    if isinstance(command, Install):
        return ["install", command.num, command.shard,
                {"keys": len(command.data), "digest": shard_digest(command.data),
                 "dup": {str(c): q for c, q in command.dup}}, command.gid]
    if isinstance(command, Delete):
        return ["delete", command.num, command.shard]
    return list(command)


class ShardsTrace:
    """The `shardkv` part of a group server's trace state — gid, configuration number, applied
    index, and every shard it holds (status, keys, data digest, duplicate table) — as the
    simulator's and the network's servers write it; a shard's digest is recomputed only when
    its version moves."""

    def __init__(self) -> None:
        self._digests: dict[int, tuple[int, str]] = {}  # shard -> (version, digest)
        self._machine: ShardMachine | None = None  # whose shards the digests are of

    def of(self, gid: int, machine: ShardMachine) -> dict[str, Any]:
        if machine is not self._machine:
            self._machine, self._digests = machine, {}
        shards: dict[str, Any] = {}
        for s, shard in enumerate(machine.shards):
            if shard.status == Status.ABSENT:
                continue
            cached = self._digests.get(s)
            if cached is None or cached[0] != shard.version:
                cached = (shard.version, shard_digest(shard.data))
                self._digests[s] = cached
            shards[str(s)] = {"status": STATUS_NAMES[shard.status], "keys": len(shard.data),
                              "digest": cached[1],
                              "dup": {str(c): q for c, q in sorted(shard.dup.items())}}
        return {"gid": gid, "num": machine.num, "applied": machine.applied, "shards": shards}


class ShardServerNode(rsm_node.ServerNode):
    core: ShardServer

    def __init__(self, gid: int, i: int, names: Sequence[str], ctrl_names: Sequence[Node],
                 network: LabNetwork, persister: Persister, config: ShardServerConfig,
                 ctrl_clerk_id: int, observer: Observer) -> None:
        self.gid = gid
        self.observer = observer
        self._shards = ShardsTrace()
        core = ShardServer(i, range(len(names)), gid, ctrl_names, ctrl_clerk_id, config,
                           restored=persister.restore(), snapshot=persister.read_snapshot())
        super().__init__(names[i], names, network, persister, core)

    def _record_applied(self, event: Applied) -> None:
        if self.trace.enabled:
            outcome = event.outcome
            fields: dict[str, Any] = {}
            if isinstance(outcome, WrongGroup):
                fields = {"executed": False, "wrong_group": True}
            elif isinstance(outcome, Changed):
                fields = {"executed": outcome.done}
            else:
                fields = {"executed": outcome.executed, "output": outcome.output}
            self.trace.event(self.id, "apply", kind="command", index=event.index,
                             term=event.term, command=command_trace(event.op), **fields)
        self.observer.kv_applied(self.gid, self.id, event)

    def state(self) -> dict[str, Any]:
        """The trace `state`: Raft's visible state, and the group's beside it: its gid,
        configuration number, applied index, and every shard it holds (status, keys, data
        digest, duplicate table)."""
        state = super().state()
        state["shardkv"] = self._shards.of(self.gid, self.core.machine)
        return state


class ShardClerkNode(KVClerkNode):
    """A sharded-KV clerk on the network under `name`."""

    core: ShardClerk

    def __init__(self, name: str, clerk_id: int, ctrl_names: Sequence[Node],
                 network: LabNetwork, observer: Observer,
                 config: ShardClerkConfig | None = None) -> None:
        super().__init__(name, ShardClerk(clerk_id, ctrl_names, config), network, observer)

    def state(self) -> dict[str, Any]:
        """A clerk's trace `state`: its id, sequence number, the configuration it routes by,
        the server it tries, and whether a call is in progress."""
        return {"clerk": self.core.id, "seq": self.core.seq, "num": self.core.shards.num,
                "leader": self.core.target, "busy": self.core.busy}


__all__ = ["Observer", "ShardClerkNode", "ShardServerNode", "command_trace",
           "server_name"]
