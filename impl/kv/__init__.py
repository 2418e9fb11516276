"""The fault-tolerant key/value service (6.5840 lab 3A–3B): sans-I/O cores and their driver,
built on the replicated state machine every service on Raft shares (impl.rsm).

* `KVServer` (impl.kv.server) — one server: a `ReplicatedServer` whose machine is the store
  and the duplicate table; every call goes through the log, replies only after the call is
  applied at its index.
* `Clerk` (impl.kv.clerk) — one client: the shared `RetryingClerk` with get, put and append:
  one call at a time, retried until some server answers.
* `StateMachine`, `Op` (impl.kv.machine) — what replicas apply, and the snapshot encoding.
* messages (impl.kv.messages) — `GetArgs`, `GetReply`, `PutAppendArgs`, `PutAppendReply`.
* `ServerEffects`, `ClerkEffects` (impl.kv.effects, from impl.rsm.effects) — the output
  bundles and their order.
* `ServerNode`, `ClerkNode` (impl.kv.node) — the simulator's drivers of the two cores (the
  shared drivers of impl.rsm.node, with the key/value trace state).
* `KVTester` (impl.kv.labtester), `SCENARIOS` (impl.kv.scenarios) — the lab's tester in
  virtual time and its 23 scenarios; `History` (impl.kv.history) — what the clerks saw.
"""

from impl.kv.clerk import Clerk, ClerkConfig
from impl.kv.effects import ClerkEffects, ServerEffects
from impl.kv.history import Call, Execution, History
from impl.kv.machine import Op, StateMachine
from impl.kv.messages import GetArgs, GetReply, PutAppendArgs, PutAppendReply
from impl.kv.server import KVServer, ServerConfig

__all__ = [
    "Call",
    "Clerk",
    "ClerkConfig",
    "ClerkEffects",
    "Execution",
    "GetArgs",
    "GetReply",
    "History",
    "KVServer",
    "Op",
    "PutAppendArgs",
    "PutAppendReply",
    "ServerConfig",
    "ServerEffects",
    "StateMachine",
]
