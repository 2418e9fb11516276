"""A replicated state machine on Raft: the pieces every service on the Raft core shares — the
key/value service (impl.kv), the shard controller (impl.shardctrler) and the shard key/value
groups (impl.shardkv).

* `ReplicatedServer`, `ServerConfig`, `Waiter` (impl.rsm.server) — a server core owning a
  `RaftCore` and the service's state machine: calls go through the log and are answered once
  applied at their index; snapshots when Raft's state approaches `maxraftstate`.
* `RetryingClerk`, `ClerkConfig` (impl.rsm.clerk) — a clerk core: one call at a time, retried
  server after server until one answers.
* `dedup` (impl.rsm.dedup) — the duplicate table that makes each clerk call execute once.
* `ServerEffects`, `ClerkEffects` and the events (impl.rsm.effects) — the output bundles and
  the order a driver carries them out in.
"""

from impl.rsm import dedup
from impl.rsm.clerk import NOT_DONE, RETRY, RPC, ClerkConfig, RetryingClerk
from impl.rsm.effects import (
    Applied,
    ClerkEffects,
    Compacted,
    Done,
    Installed,
    Outgoing,
    Read,
    ServerEffects,
    ServiceEvent,
)
from impl.rsm.server import Machine, ReplicatedServer, ServerConfig, Waiter

__all__ = [
    "NOT_DONE",
    "RETRY",
    "RPC",
    "Applied",
    "ClerkConfig",
    "ClerkEffects",
    "Compacted",
    "Done",
    "Installed",
    "Machine",
    "Outgoing",
    "Read",
    "ReplicatedServer",
    "RetryingClerk",
    "ServerConfig",
    "ServerEffects",
    "ServiceEvent",
    "Waiter",
    "dedup",
]
