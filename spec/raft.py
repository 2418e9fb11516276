"""An executable specification of Raft: the paper's Figure 2, with persistence, crash/restart,
a lossy network, and snapshots (§7), bounded by a `Config` so that it can be explored
exhaustively.

Theory of operation
-------------------
The spec is a state machine over global states (`State`): per-server variables are tuples
indexed by server id, the network is the set of messages in flight. `initial_states(config)`
gives the start (every server a follower in term 0, empty logs, empty network);
`successors(state, config)` yields every enabled `(Action, next_state)`. The actions:

- `Timeout(i)` — §5.2: a follower or candidate starts an election: term + 1, candidate, votes
  for itself. Disabled at `config.max_term`.
- `RequestVote(i→j)` — §5.2: a candidate sends a RequestVote RPC to a server that has not yet
  answered it in this term.
- `AppendEntries(i→j)` — §5.3: a leader sends the entries from next_index[j] on (or a
  heartbeat) with prev_index/prev_term and its commit_index.
- `InstallSnapshot(i→j)` — §7: sent instead when the leader compacted the entry before
  next_index[j].
- `ClientRequest(i, v)` — §5.3: a leader appends value v as a new entry of its term.
  Disabled once the log holds `config.max_log` entries.
- `Compact(i)` — §7: a server snapshots its committed prefix (only with `config.snapshots`).
- `Restart(i)` — a crash and restart: term, voted_for, log and snapshot persist
  (Figure 2, "Persistent state"), all else is reset. At most `config.max_restarts` in all.
- `Receive(m)` — the destination handles m in one atomic step (see `spec.raft_receive`):
  the term rule (§5.1), the RPC's receiver rules of Figure 2, and its reply put in flight. A
  candidate becomes leader inside the step that counts its majority vote (§5.2); a leader
  advances commit_index inside the step that records a follower's match (§5.3, §5.4.2).
- `Drop(m)` / `Duplicate(m)` — the network loses m, or delivers it while keeping a copy (only
  with `config.drops` / `config.duplicates`). Reordering is free: any message in flight may be
  delivered next.

Bounds are guards (`Config`): a step that would exceed one is not enabled, so every bounded
behaviour is a real behaviour. Messages in flight are a set of at most `config.max_messages`;
a send that would exceed it waits (it is disabled) until something is delivered or dropped.

Properties (`spec.raft_invariants`): state invariants `INVARIANTS` — TypeOK, ElectionSafety,
LogMatching, LeaderCompleteness, StateMachineSafety (Figure 3) — each a predicate
`State -> bool` — plus two auxiliary invariants: CommitIndexInLog (no server has committed
an entry it does not hold) and CommittedEntriesOutvoteRivals (a server lacking a committed
entry faces a quorum of more up-to-date logs, so it cannot be elected: the heart of §5.4.3's
proof, and what the Figure 8 mistake breaks at the moment of the bad commit); `TRANSITION_INVARIANTS` — LeaderAppendOnly, a predicate over a step
`(before, after) -> bool`; and `SOMETIMES` — LeaderElected, EntryCommittedEverywhere — that a
checker reports as reached or not, to show the bounds are not vacuous.

Fault flags (`BUGS`, `Config(bugs=frozenset({...}))`) re-create classic mistakes; each breaks
one of the invariants above within small bounds.

Symmetry: server ids are interchangeable (no action or property treats one specially), so
`permute(state, perm)` gives an equivalent state; a checker may explore one per orbit.
"""

from __future__ import annotations

from spec.raft_invariants import (
    INVARIANTS,
    SOMETIMES,
    TRANSITION_INVARIANTS,
    StateInvariant,
    TransitionInvariant,
    commit_index_in_log,
    committed_entries_outvote_rivals,
    election_safety,
    entry_committed_everywhere,
    leader_append_only,
    leader_completeness,
    leader_elected,
    log_matching,
    state_machine_safety,
    type_ok,
)
from spec.raft_next import (
    append_entries,
    client_request,
    compact,
    initial_states,
    install_snapshot,
    request_vote,
    restart,
    successors,
    timeout,
)
from spec.raft_receive import receive
from spec.raft_symmetry import permute
from spec.raft_types import (
    BOUNDS,
    BUGS,
    NEEDS_RESTART,
    Action,
    AppendEntries,
    AppendEntriesReply,
    Config,
    Entry,
    InstallSnapshot,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
    Snapshot,
    State,
    default_restarts,
    describe_message,
    last_index,
    last_term,
    term_at,
    value_at,
)

__all__ = [
    "BOUNDS",
    "BUGS",
    "INVARIANTS",
    "NEEDS_RESTART",
    "SOMETIMES",
    "TRANSITION_INVARIANTS",
    "Action",
    "AppendEntries",
    "AppendEntriesReply",
    "Config",
    "Entry",
    "InstallSnapshot",
    "Message",
    "RequestVote",
    "RequestVoteReply",
    "Role",
    "Snapshot",
    "State",
    "StateInvariant",
    "TransitionInvariant",
    "append_entries",
    "client_request",
    "commit_index_in_log",
    "committed_entries_outvote_rivals",
    "compact",
    "default_restarts",
    "describe_message",
    "election_safety",
    "entry_committed_everywhere",
    "initial_states",
    "install_snapshot",
    "last_index",
    "last_term",
    "leader_append_only",
    "leader_completeness",
    "leader_elected",
    "log_matching",
    "permute",
    "receive",
    "request_vote",
    "restart",
    "state_machine_safety",
    "successors",
    "term_at",
    "timeout",
    "type_ok",
    "value_at",
]
