"""Raft (the Raft paper; 6.5840 lab 2): a sans-I/O core and its simulator driver.

* `RaftCore` (impl.raft.core) — one server's protocol logic: `boot`, `step`, `timeout`,
  `start`, `snapshot`, `get_state`, `visible_state`; each input returns `Effects`.
* `Effects` and friends (impl.raft.effects) — the output bundle and its ordering contract.
* messages (impl.raft.messages) — frozen message dataclasses with `wire/trace/describe`.
* `Persister` (impl.raft.persister) — the lab's persister; msgpack-encoded Raft state.
* `RaftNode` (impl.raft.node) — the lab's service-facing API on the simulator.
* `RaftTester` (impl.raft.labtester) and `SCENARIOS` (impl.raft.scenarios) — the lab's
  tester in virtual time and its 28 scenarios.
"""

from impl.raft.core import RaftConfig, RaftCore, Role, StartResult, VisibleState
from impl.raft.effects import (
    ApplyCommand,
    ApplyMsg,
    ApplySnapshot,
    CancelTimer,
    Effects,
    HardState,
    Persist,
    Send,
    SetTimer,
)
from impl.raft.messages import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    InstallSnapshot,
    InstallSnapshotReply,
    Message,
    RequestVote,
    RequestVoteReply,
)
from impl.raft.node import RaftNode
from impl.raft.persister import Persister

__all__ = [
    "AppendEntries",
    "AppendEntriesReply",
    "ApplyCommand",
    "ApplyMsg",
    "ApplySnapshot",
    "CancelTimer",
    "Effects",
    "Entry",
    "HardState",
    "InstallSnapshot",
    "InstallSnapshotReply",
    "Message",
    "Persist",
    "Persister",
    "RaftConfig",
    "RaftCore",
    "RaftNode",
    "RequestVote",
    "RequestVoteReply",
    "Role",
    "Send",
    "SetTimer",
    "StartResult",
    "VisibleState",
]
