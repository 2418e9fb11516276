"""The replicated service a network server hosts: what differs between the key/value store, the
shard controller and a shard group's server, so that one driver (impl.net.server) runs them
all with the same storage, group commit, links, faults and tracing.

A `Service` builds the sans-I/O core (a `ReplicatedServer`), says how its log entries and
messages are read off the wire (every field checked, impl.net.wire), which messages a client
connection may carry (`requests`) and which come back on the server's own outbound
connections (`replies`), where the core's named destinations are (`destinations`: a shard
group's server calls the controller and other groups), and what its status and trace show.
`KVService` is the key/value store's; impl.net.sharded holds the controller's and the shard
groups'.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import IO, Any, ClassVar

from impl.kv.messages import GetArgs, PutAppendArgs
from impl.kv.node import StoreTrace
from impl.kv.server import KVServer, ServerConfig
from impl.net.cluster import Address
from impl.net.wire import Decoder, decode_op, kv_server_decoder
from impl.raft.core import RaftConfig
from impl.raft.effects import HardState
from impl.rsm.effects import Applied, Compacted, Installed, Read
from impl.rsm.server import ReplicatedServer
from impl.storage import RaftStorage
from impl.trace import Node, TraceWriter


class DiskSized:
    """Mixed into a core: Raft's state measured as the bytes it takes on this disk (the
    simulator's persister encodes the whole state to measure it: far too slow per step)."""

    storage: RaftStorage

    def raft_state_size(self) -> int:
        return self.storage.size()


class Service:
    """The hosted service's part of a network server. Subclasses fill in every hook."""

    system: ClassVar[str]  # the trace format's system
    requests: ClassVar[frozenset[type]]  # what a client connection may send
    replies: ClassVar[frozenset[type]] = frozenset()  # answers to the server's own requests

    def decode_command(self, value: Any) -> Any:
        """A log entry's command off the wire or the disk (WireError if malformed)."""
        raise NotImplementedError

    def decoder(self) -> Decoder:
        """Everything the server reads: Raft's messages, requests, replies."""
        raise NotImplementedError

    def build(self, node: int, peers: range, storage: RaftStorage, maxraftstate: int,
              raft: RaftConfig, read_index: bool, restored: HardState | None,
              snapshot: bytes) -> ReplicatedServer[Any, Any]:
        """The core of server `node`, its Raft state measured on `storage` (DiskSized)."""
        raise NotImplementedError

    def names(self, servers: int) -> tuple[Any, ...]:
        """The group's servers as traces name them, in Raft's peer order (ids by default)."""
        return tuple(range(servers))

    def destinations(self) -> Mapping[str, Address]:
        """Where the core's named destinations listen (none for a service that calls none)."""
        return {}

    def status(self, core: Any) -> dict[str, Any]:
        """The service's figures in `dscheck cluster status` (`keys` at least)."""
        raise NotImplementedError

    def trace_config(self, servers: int, maxraftstate: int, raft: RaftConfig) -> dict[str, Any]:
        raise NotImplementedError

    def trace_state(self, core: Any) -> tuple[str, dict[str, Any]]:
        """The service's part of a trace `state`: its key and object."""
        raise NotImplementedError

    def trace_event(self, trace: TraceWriter, node: Any, event: Any) -> None:
        """Record one of the core's events (an apply, a read, a snapshot)."""
        raise NotImplementedError


class _KV(DiskSized, KVServer):
    pass


class KVService(Service):
    system = "kv"
    requests = frozenset({GetArgs, PutAppendArgs})

    def __init__(self) -> None:
        self._store = StoreTrace()

    def decode_command(self, value: Any) -> Any:
        return decode_op(value)

    def decoder(self) -> Decoder:
        return kv_server_decoder()

    def build(self, node: int, peers: range, storage: RaftStorage, maxraftstate: int,
              raft: RaftConfig, read_index: bool, restored: HardState | None,
              snapshot: bytes) -> ReplicatedServer[Any, Any]:
        config = ServerConfig(maxraftstate=maxraftstate, raft=raft, read_index=read_index)
        core = _KV(node, peers, config, restored=restored, snapshot=snapshot)
        core.storage = storage
        return core

    def status(self, core: Any) -> dict[str, Any]:
        return {"keys": len(core.machine.data)}

    def trace_config(self, servers: int, maxraftstate: int, raft: RaftConfig) -> dict[str, Any]:
        return {"servers": servers, "maxraftstate": maxraftstate,
                "election_timeout_ms": list(raft.election_timeout_ms),
                "heartbeat_ms": raft.heartbeat_ms}

    def trace_state(self, core: Any) -> tuple[str, dict[str, Any]]:
        """As the simulator's key/value servers write it (impl.kv.node)."""
        return "kv", self._store.of(core.machine)

    def trace_event(self, trace: TraceWriter, node: Any, event: Any) -> None:
        if isinstance(event, Applied):
            trace.event(node, "apply", kind="command", index=event.index, term=event.term,
                        command=list(event.op), executed=event.outcome.executed,
                        output=event.outcome.output)
        elif isinstance(event, Read):
            trace.event(node, "read", index=event.index, read_index=event.read_index,
                        command=list(event.op), output=event.outcome.output)
        else:
            trace_storage_event(trace, node, event)


def trace_storage_event(trace: TraceWriter, node: Any, event: Any) -> None:
    """A snapshot installed from the leader, or taken to compact the log: alike in every
    service."""
    if isinstance(event, Installed):
        trace.event(node, "apply", kind="snapshot", index=event.index, term=event.term)
    elif isinstance(event, Compacted):
        trace.event(node, "snapshot", index=event.index, bytes=event.size)


class NamedTrace(TraceWriter):
    """A server's trace whose servers have names (a sharded cluster's): the driver and Raft
    number a group's servers 0..n-1, the trace names them (`node`, a message's `to` and
    `from`), as the simulator's drivers translate them."""

    def __init__(self, stream: IO[str], clock: Callable[[], int],
                 names: tuple[Any, ...]) -> None:
        super().__init__(stream, clock=clock)
        self._names = names

    def event(self, node: Node, event: str, **fields: Any) -> None:
        if type(node) is int:
            node = self._names[node]
        for key in ("to", "from"):
            if type(fields.get(key)) is int:
                fields[key] = self._names[fields[key]]
        super().event(node, event, **fields)
