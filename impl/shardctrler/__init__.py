"""The shard controller (6.5840 lab 4A): a replicated service on Raft that keeps the sequence
of configurations (which replica group serves which shard), built on the replicated state
machine every service on Raft shares (impl.rsm), with the spec's configurations and
rebalancing rule (spec.shardctrler: one definition).

* `CtrlServer` (impl.shardctrler.server) — one server: Join, Leave, Move and Query all go
  through the log; answered once applied at their index.
* `Controller`, `CtrlOp` (impl.shardctrler.machine) — what replicas apply: the history of
  configurations and the duplicate table, and the snapshot encoding.
* `CtrlClerk` (impl.shardctrler.clerk) — a client: one call at a time, retried until a
  server answers.
* messages (impl.shardctrler.messages) — `JoinArgs`, `LeaveArgs`, `MoveArgs`, `QueryArgs`,
  `ChangeReply`, `QueryReply`.
* `CtrlServerNode`, `CtrlClerkNode`, `ControllerCluster` (impl.shardctrler.node) — the
  simulator's drivers; `CtrlTester` (impl.shardctrler.labtester) and `SCENARIOS`
  (impl.shardctrler.scenarios) — the lab's tester in virtual time and its 11 sub-tests.
"""

from impl.shardctrler.clerk import CtrlClerk
from impl.shardctrler.machine import Controller, CtrlOp
from impl.shardctrler.server import CtrlServer

__all__ = ["Controller", "CtrlClerk", "CtrlOp", "CtrlServer"]
