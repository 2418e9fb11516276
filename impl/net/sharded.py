"""The sharded key/value service over the network (lab 4): the shard controller's servers and
the replica groups' servers as `Service`s of the network server (impl.net.server), with the
cores the simulator runs (impl.shardctrler.server, impl.shardkv.server).

Every server is named as the cores name it (impl.net.cluster: `ctrler<i>`, `server-<gid>-<i>`)
and the cluster file says where each name listens. A group's server calls others by those
names — Query to the controller's servers (its controller clerk), Transfer to the servers of
the group a shard moves to — on connections of its own, and their answers are steps of its
core from that name, as in the simulator. Configurations carry the same names, so a Join
needs only the gids: the servers' names come from the cluster file.

Decoding is as strict as the key/value service's (impl.net.wire): every message rebuilt
field by field; a configuration must have one gid per shard, each 0 or one of its groups,
its groups sorted with positive gids; a log entry must be one of the service's commands.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from impl.kv.messages import GetArgs, PutAppendArgs
from impl.net.cluster import Address, Sharded
from impl.net.service import DiskSized, Service, trace_storage_event
from impl.net.wire import (
    CLERK_REPLIES,
    CLERK_REQUESTS,
    MAX_INT,
    RAFT_MESSAGES,
    Decoder,
    WireError,
    _integer,
    _string,
    decode_op,
)
from impl.raft.core import RaftConfig
from impl.raft.effects import HardState
from impl.rsm.effects import Applied
from impl.rsm.server import ReplicatedServer, ServerConfig
from impl.shardctrler.machine import JOIN, KINDS, LEAVE, MOVE, QUERY, CtrlOp
from impl.shardctrler.messages import (
    ChangeReply,
    JoinArgs,
    LeaveArgs,
    MoveArgs,
    QueryArgs,
    QueryReply,
    config_trace,
)
from impl.shardctrler.server import CtrlServer
from impl.shardkv.machine import (
    DELETE,
    INSTALL,
    RECONFIGURE,
    Changed,
    Command,
    Delete,
    Install,
    Reconfigure,
    WrongGroup,
)
from impl.shardkv.messages import TransferArgs, TransferReply, shard_digest
from impl.shardkv.node import STATUS_NAMES, command_trace
from impl.shardkv.server import ShardServer, ShardServerConfig
from impl.storage import RaftStorage
from impl.trace import TraceWriter
from spec.shardctrler import NSHARDS, Configuration
from spec.shardkv import Status

CTRL_REQUESTS: dict[str, type] = {"Join": JoinArgs, "Leave": LeaveArgs, "Move": MoveArgs,
                                  "Query": QueryArgs}
CTRL_REQUESTS_TYPES = frozenset(CTRL_REQUESTS.values())
CTRL_REPLIES: dict[str, type] = {"ChangeReply": ChangeReply, "QueryReply": QueryReply}
TRANSFER: dict[str, type] = {"Transfer": TransferArgs, "TransferReply": TransferReply}


# ---------------------------------------------------------------------------- field checks
def _signed(value: Any) -> int:
    """A configuration number in a Query: -1 asks for the newest."""
    if type(value) is not int or not -1 <= value <= MAX_INT:
        raise WireError(f"expected an integer >= -1, got {value!r:.40}")
    return value


def _list(value: Any, what: str) -> list[Any] | tuple[Any, ...]:
    if type(value) not in (list, tuple):  # msgpack gives lists; the cores' own, tuples
        raise WireError(f"{what} must be a list")
    parts: list[Any] | tuple[Any, ...] = value
    return parts


def _groups(value: Any) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """(gid, servers) pairs, sorted by gid, every gid > 0."""
    groups = []
    for item in _list(value, "groups"):
        pair = _list(item, "a group")
        if len(pair) != 2:
            raise WireError("a group is [gid, [server, ...]]")
        gid = _integer(pair[0])
        if gid == 0:
            raise WireError("gid 0 names no group")
        groups.append((gid, tuple(_string(s) for s in _list(pair[1], "servers"))))
    gids = [gid for gid, _ in groups]
    if gids != sorted(set(gids)):
        raise WireError("groups must be sorted by gid, each once")
    return tuple(groups)


def _configuration(value: Any) -> Configuration | None:
    if value is None:
        return None
    parts = _list(value, "a configuration")
    if len(parts) != 3:
        raise WireError("a configuration is [num, shards, groups]")
    shards = tuple(_integer(g) for g in _list(parts[1], "shards"))
    groups = _groups(parts[2])
    if len(shards) != NSHARDS:
        raise WireError(f"a configuration has {NSHARDS} shards, not {len(shards)}")
    known = {gid for gid, _ in groups}
    if any(g != 0 and g not in known for g in shards):
        raise WireError("a shard is assigned to a group the configuration does not list")
    return Configuration(_integer(parts[0]), shards, groups)


def decode_ctrl_op(value: Any) -> CtrlOp:
    """A controller log entry, `[kind, arg, clerk, seq]`."""
    parts = _list(value, "a controller command")
    if len(parts) != 4 or parts[0] not in KINDS or type(parts[0]) is not str:
        raise WireError(f"a controller command is [kind, arg, clerk, seq], kind one of {KINDS}")
    kind, arg = parts[0], parts[1]
    if kind == JOIN:
        arg = _groups(arg)
    elif kind == LEAVE:
        arg = tuple(_integer(g) for g in _list(arg, "gids"))
    elif kind == MOVE:
        pair = _list(arg, "a move")
        if len(pair) != 2:
            raise WireError("a move is [shard, gid]")
        arg = (_integer(pair[0]), _integer(pair[1]))
    elif kind == QUERY:
        arg = _signed(arg)
    return CtrlOp(kind, arg, _integer(parts[2]), _integer(parts[3]))


def _items(value: Any, key: Any, item: Any) -> tuple[tuple[Any, Any], ...]:
    out = []
    for pair in _list(value, "items"):
        if type(pair) not in (list, tuple) or len(pair) != 2:
            raise WireError("an item is a pair")
        out.append((key(pair[0]), item(pair[1])))
    return tuple(out)


def decode_shard_command(value: Any) -> Command:
    """A shard group's log entry: a clerk call, a configuration, an install or a delete."""
    parts = _list(value, "a shard group command")
    if not parts:
        raise WireError("a shard group command is a list")
    kind = parts[0]
    if kind == RECONFIGURE and len(parts) == 4:
        config = _configuration(list(parts[1:]))
        assert config is not None
        return Reconfigure(RECONFIGURE, config.num, config.shards, config.groups)
    if kind == INSTALL and len(parts) == 6:
        shard = _integer(parts[2])
        if shard >= NSHARDS:
            raise WireError(f"shard {shard} is not 0..{NSHARDS - 1}")
        return Install(INSTALL, _integer(parts[1]), shard, _items(parts[3], _string, _string),
                       _items(parts[4], _integer, _integer), _integer(parts[5]))
    if kind == DELETE and len(parts) == 3:
        shard = _integer(parts[2])
        if shard >= NSHARDS:
            raise WireError(f"shard {shard} is not 0..{NSHARDS - 1}")
        return Delete(DELETE, _integer(parts[1]), shard)
    if kind in (RECONFIGURE, INSTALL, DELETE):
        raise WireError(f"a malformed {kind} command")
    op = decode_op(parts)
    if op.kind == "noop":
        raise WireError("a shard group appends no no-op")
    return op


def _transfer_shard(value: Any) -> int:
    shard = _integer(value)
    if shard >= NSHARDS:
        raise WireError(f"shard {shard} is not 0..{NSHARDS - 1}")
    return shard


def ctrl_decoder() -> Decoder:
    """What a controller server reads: Raft's messages, the controller clerks' requests."""
    return Decoder({**RAFT_MESSAGES, **CTRL_REQUESTS}, decode_ctrl_op,
                   {(QueryArgs, "num"): _signed, (JoinArgs, "groups"): _groups})


def shard_decoder() -> Decoder:
    """What a group's server reads: Raft's messages, clerks' calls, other groups' transfers
    and their answers, the controller's answers to its polls."""
    return Decoder({**RAFT_MESSAGES, **CLERK_REQUESTS, **TRANSFER, **CTRL_REPLIES},
                   decode_shard_command,
                   {(QueryReply, "config"): _configuration,
                    (TransferArgs, "shard"): _transfer_shard,
                    (TransferReply, "shard"): _transfer_shard})


def shard_clerk_decoder() -> Decoder:
    """What a clerk of the sharded service reads: the groups' and the controller's answers."""
    return Decoder({**CLERK_REPLIES, **CTRL_REPLIES}, decode_shard_command,
                   {(QueryReply, "config"): _configuration})


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
        self._digests: dict[int, tuple[int, str]] = {}  # shard -> (version, digest)
        self._machine: Any = None  # whose shards the digests are of

    def names(self, servers: int) -> tuple[str, ...]:
        return self.cluster.names(self.gid)

    def decode_command(self, value: Any) -> Any:
        return decode_shard_command(value)

    def decoder(self) -> Decoder:
        return shard_decoder()

    def build(self, node: int, peers: range, storage: RaftStorage, maxraftstate: int,
              raft: RaftConfig, read_index: bool, restored: HardState | None,
              snapshot: bytes) -> ReplicatedServer[Any, Any]:
        config = ShardServerConfig(rsm=ServerConfig(maxraftstate=maxraftstate, raft=raft),
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
        machine = core.machine
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
        return "shardkv", {"gid": self.gid, "num": machine.num, "applied": machine.applied,
                           "shards": shards}

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
