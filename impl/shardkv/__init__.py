"""The sharded key/value service (6.5840 lab 4B, with its three challenges): replica groups,
each a replicated state machine on Raft (impl.rsm), that poll the shard controller
(impl.shardctrler), apply its configurations one at a time through their logs, and hand
shards to each other by RPC with their duplicate tables.

* `ShardServer` (impl.shardkv.server) — one server of a group: clerk calls, polling, pushing
  shards and receiving them; `ShardMachine` (impl.shardkv.machine) — what a group's replicas
  apply: configuration, shard statuses, data and duplicate tables.
* `ShardClerk` (impl.shardkv.clerk) — a client that routes by `key2shard` and refreshes its
  configuration from the controller.
* messages (impl.shardkv.messages) — `TransferArgs`, `TransferReply`, `key2shard`.
* `ShardServerNode`, `ShardClerkNode` (impl.shardkv.node) — the simulator's drivers;
  `ShardTester` (impl.shardkv.labtester) and `SCENARIOS` (impl.shardkv.scenarios) — the lab's
  tester in virtual time and its 13 tests.
"""

from impl.shardkv.clerk import ShardClerk
from impl.shardkv.machine import BUGS, ShardMachine
from impl.shardkv.messages import TransferArgs, TransferReply, key2shard
from impl.shardkv.server import ShardServer, ShardServerConfig

__all__ = ["BUGS", "ShardClerk", "ShardMachine", "ShardServer", "ShardServerConfig",
           "TransferArgs", "TransferReply", "key2shard"]
