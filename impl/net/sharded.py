"""The sharded key/value service over the network (lab 4): the shard controller's servers and
the replica groups' servers as `Service`s of the network server (impl.net.server), with the
cores the simulator runs (impl.shardctrler.server, impl.shardkv.server).

Every server is named as the cores name it (impl.net.cluster: `ctrler<i>`, `server-<gid>-<i>`)
and the cluster file says where each name listens. A group's server calls others by those
names — Query to the controller's servers (its controller clerk), Transfer to the servers of
the group a shard moves to — on connections of its own, and their answers are steps of its
core from that name, as in the simulator. Configurations carry the same names, so a Join
needs only the gids: the servers' names come from the cluster file.

Decoding is as strict as the key/value service's (impl.net.sharded_wire).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from impl.kv.messages import GetArgs, PutAppendArgs
from impl.net.cluster import Address, Sharded
from impl.net.service import DiskSized, Service, trace_storage_event
from impl.net.sharded_wire import (
    CTRL_REQUESTS_TYPES,
    ctrl_decoder,
    decode_ctrl_op,
    decode_shard_command,
    shard_decoder,
)
from impl.net.wire import Decoder
from impl.raft.core import RaftConfig
from impl.raft.effects import HardState
from impl.rsm.effects import Applied
from impl.rsm.server import ReplicatedServer, ServerConfig
from impl.shardctrler.machine import QUERY, CtrlOp
from impl.shardctrler.messages import (
    ChangeReply,
    QueryReply,
    config_trace,
)
from impl.shardctrler.server import CtrlServer
from impl.shardkv.machine import (
    Changed,
    WrongGroup,
)
from impl.shardkv.messages import TransferArgs, TransferReply
from impl.shardkv.node import ShardsTrace, command_trace
from impl.shardkv.server import ShardServer, ShardServerConfig
from impl.storage import RaftStorage
from impl.trace import TraceWriter
from spec.shardctrler import Configuration
from spec.shardkv import Status


# ---------------------------------------------------------------------------- the services
class _Ctrl(DiskSized, CtrlServer):
    pass


class _Shard(DiskSized, ShardServer):
    pass


class _Traced(Service):
    """The trace of a sharded cluster's servers: one `shardkv` trace of the whole service
    (the controller's group and every replica group), as the simulator writes it, its
    servers named as in the cluster file; `dscheck check-trace` merges the files."""

    system = "shardkv"
    POLL_MS = 100

    def __init__(self, cluster: Sharded) -> None:
        self.cluster = cluster

    def names(self, servers: int) -> tuple[str, ...]:
        raise NotImplementedError

    def trace_config(self, servers: int, maxraftstate: int, raft: RaftConfig) -> dict[str, Any]:
        return {"controllers": list(self.cluster.ctrl_names()),
                "groups": {str(gid): list(self.cluster.names(gid))
                           for gid in self.cluster.gids()},
                "maxraftstate": maxraftstate,
                "election_timeout_ms": list(raft.election_timeout_ms),
                "heartbeat_ms": raft.heartbeat_ms, "poll_ms": self.POLL_MS}


class CtrlService(_Traced):
    """A shard controller server (lab 4A)."""

    requests = CTRL_REQUESTS_TYPES

    def names(self, servers: int) -> tuple[str, ...]:
        return self.cluster.ctrl_names()

    def decode_command(self, value: Any) -> Any:
        return decode_ctrl_op(value)

    def decoder(self) -> Decoder:
        return ctrl_decoder()

    def build(self, node: int, peers: range, storage: RaftStorage, maxraftstate: int,
              raft: RaftConfig, read_index: bool, restored: HardState | None,
              snapshot: bytes) -> ReplicatedServer[Any, Any]:
        config = ServerConfig(maxraftstate=maxraftstate, raft=raft)
        core = _Ctrl(node, peers, config, restored=restored, snapshot=snapshot)
        core.storage = storage
        return core

    def status(self, core: Any) -> dict[str, Any]:
        latest: Configuration = core.machine.latest
        return {"keys": 0, "num": latest.num, "gids": list(latest.gids)}

    def trace_state(self, core: Any) -> tuple[str, dict[str, Any]]:
        """As the simulator's controller servers write it (impl.shardctrler.node)."""
        machine = core.machine
        return "ctrl", {"applied": machine.applied, "latest": config_trace(machine.latest),
                        "dup": {str(c): q for c, q in sorted(machine.last_seq.items())}}

    def trace_event(self, trace: TraceWriter, node: Any, event: Any) -> None:
        if isinstance(event, Applied):
            op: CtrlOp = event.op
            outcome = event.outcome
            extra: dict[str, Any] = {}
            if op.kind == QUERY and outcome.config is not None:
                extra["output"] = {"num": outcome.config.num}
            if outcome.error is not None:
                extra["error"] = outcome.error
            trace.event(node, "apply", kind="command", index=event.index, term=event.term,
                        command=list(op), executed=outcome.executed, **extra)
        else:
            trace_storage_event(trace, node, event)


class ShardService(_Traced):
    """A server of replica group `gid` (lab 4B), calling the controller and the other groups
    at the addresses of `cluster`."""

    requests = frozenset({GetArgs, PutAppendArgs, TransferArgs})
    replies = frozenset({TransferReply, QueryReply, ChangeReply})

    def __init__(self, gid: int, cluster: Sharded) -> None:
        super().__init__(cluster)
        self.gid = gid
        self._shards = ShardsTrace()

    def names(self, servers: int) -> tuple[str, ...]:
        return self.cluster.names(self.gid)

    def decode_command(self, value: Any) -> Any:
        return decode_shard_command(value)

    def decoder(self) -> Decoder:
        return shard_decoder()

    def build(self, node: int, peers: range, storage: RaftStorage, maxraftstate: int,
              raft: RaftConfig, read_index: bool, restored: HardState | None,
              snapshot: bytes) -> ReplicatedServer[Any, Any]:
        config = ShardServerConfig(rsm=ServerConfig(maxraftstate=maxraftstate, raft=raft,
                                                    read_index=read_index),
                                   poll_ms=self.POLL_MS, push_ms=self.POLL_MS)
        # The controller clerk's id: random per incarnation, as a clerk's (its calls are
        # queries, which the controller never deduplicates, but ids must not collide).
        core = _Shard(node, peers, self.gid, self.cluster.ctrl_names(), secrets.randbits(62),
                      config, restored=restored, snapshot=snapshot)
        core.storage = storage
        return core

    def destinations(self) -> Mapping[str, Address]:
        return self.cluster.address_of()

    def status(self, core: Any) -> dict[str, Any]:
        machine = core.machine
        return {"keys": sum(len(shard.data) for shard in machine.shards), "num": machine.num,
                "serving": [s for s, shard in enumerate(machine.shards)
                            if shard.status == Status.SERVING]}

    def trace_state(self, core: Any) -> tuple[str, dict[str, Any]]:
        """As the simulator's group servers write it (impl.shardkv.node): the group's gid,
        configuration number, applied index, and every shard it holds."""
        return "shardkv", self._shards.of(self.gid, core.machine)

    def trace_event(self, trace: TraceWriter, node: Any, event: Any) -> None:
        if not isinstance(event, Applied):
            trace_storage_event(trace, node, event)
            return
        outcome = event.outcome
        fields: dict[str, Any]
        if isinstance(outcome, WrongGroup):
            fields = {"executed": False, "wrong_group": True}
        elif isinstance(outcome, Changed):
            fields = {"executed": outcome.done}
        else:
            fields = {"executed": outcome.executed, "output": outcome.output}
        trace.event(node, "apply", kind="command", index=event.index, term=event.term,
                    command=command_trace(event.op), **fields)


def hosting(cluster: Sharded, name: str) -> tuple[int, tuple[Address, ...], Service]:
    """What the server named `name` runs: its id in its Raft group, the group's addresses,
    and the service (BadInput if the cluster file names no such server)."""
    gid, node = cluster.locate(name)
    if gid is None:
        return node, cluster.controller, CtrlService(cluster)
    return node, cluster.group(gid), ShardService(gid, cluster)
