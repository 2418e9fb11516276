"""The Raft spec's properties: state invariants, one transition invariant, and "sometimes"
properties (theory of operation: `spec/raft.py`).

Every state invariant is a plain predicate `State -> bool`; Leader Append-Only is a property of
a step, `(State, State) -> bool`. They are stated over what a state holds (no history
variables), so where the paper's property quantifies over the past, the docstring says which
state form is checked and why it follows from the paper's.
"""

from __future__ import annotations

from collections.abc import Callable

from spec.raft_types import (
    AppendEntries,
    AppendEntriesReply,
    InstallSnapshot,
    RequestVote,
    RequestVoteReply,
    Role,
    State,
    last_index,
    last_term,
    term_at,
    value_at,
)


def type_ok(state: State) -> bool:
    """Type correctness: every per-server variable has one well-typed value per server, indexes
    are within the log, roles and votes name real servers, and log terms never exceed the
    holder's term (an entry is created in, or received from a leader of, a term ≤ ours); and
    every message in flight is an RPC between real servers."""
    return (
        servers_well_typed(state)
        and state.restarts >= 0
        and all(message_well_typed(m, state.servers) for m in state.network)
    )


def servers_well_typed(state: State) -> bool:
    """TypeOK's conjuncts about the servers' variables (not the network or restart count)."""
    n = state.servers
    per_server = (
        state.role,
        state.voted_for,
        state.log,
        state.snapshot,
        state.commit_index,
        state.votes_responded,
        state.votes_granted,
        state.next_index,
        state.match_index,
    )
    if any(len(v) != n for v in per_server):
        return False
    ids = range(n)
    for i in ids:
        snapshot = state.snapshot[i]
        if not (
            state.term[i] >= 0
            and isinstance(state.role[i], Role)
            and (state.voted_for[i] is None or state.voted_for[i] in ids)
            and state.commit_index[i] >= 0
            and len(snapshot.values) == snapshot.index
            and all(e.term <= state.term[i] for e in state.log[i])
            and snapshot.term <= state.term[i]
            and state.votes_granted[i] <= state.votes_responded[i]
            and all(j in ids for j in state.votes_responded[i])
            and len(state.next_index[i]) == n
            and len(state.match_index[i]) == n
            and all(x >= 1 for x in state.next_index[i])
            and all(x >= 0 for x in state.match_index[i])
        ):
            return False
    return True


_MESSAGE_TYPES = (
    RequestVote,
    RequestVoteReply,
    AppendEntries,
    AppendEntriesReply,
    InstallSnapshot,
)


def message_well_typed(m: object, servers: int) -> bool:
    """TypeOK's conjunct about one message in flight: an RPC between real servers."""
    return isinstance(m, _MESSAGE_TYPES) and 0 <= m.src < servers and 0 <= m.dst < servers


def commit_index_in_log(state: State) -> bool:
    """A server has every entry it has committed: snapshot index ≤ commit_index ≤ last index.
    (Figure 2 never lets a follower drop an entry below its commit_index: rule 3 only deletes
    conflicting entries, and committed entries never conflict.)"""
    return all(
        state.snapshot[i].index <= state.commit_index[i] <= last_index(state, i)
        for i in range(state.servers)
    )


def election_safety(state: State) -> bool:
    """§5.2, Figure 3: at most one leader can be elected in a given term. State form: no two
    servers are leaders of the same term at the same time (the paper's form quantifies over
    history; this one is what a state shows, and it is what the bug flags break)."""
    leaders = [state.term[i] for i in range(state.servers) if state.role[i] == Role.LEADER]
    return len(leaders) == len(set(leaders))


def log_matching(state: State) -> bool:
    """§5.3, Figure 3: if two logs contain an entry with the same index and term, the logs are
    identical in all entries up through that index (values everywhere, terms where both
    servers still know them; a snapshot keeps values but only its last term, §7)."""
    n = state.servers
    for i in range(n):
        for j in range(i + 1, n):
            top = min(last_index(state, i), last_index(state, j))
            for k in range(top, 0, -1):
                t = term_at(state, i, k)
                if t is not None and t == term_at(state, j, k):
                    if not _same_prefix(state, i, j, k):
                        return False
                    break  # the prefix through k is identical, so every smaller k is too
    return True


def _same_prefix(state: State, i: int, j: int, k: int) -> bool:
    for x in range(1, k + 1):
        if value_at(state, i, x) != value_at(state, j, x):
            return False
        ti, tj = term_at(state, i, x), term_at(state, j, x)
        if ti is not None and tj is not None and ti != tj:
            return False
    return True


def leader_completeness(state: State) -> bool:
    """§5.4, Figure 3: if an entry is committed in a term, it is present in the logs of the
    leaders of all higher terms. State form: an entry at index k ≤ commit_index[i] was
    committed in a term ≤ term[i] (commit_index only ever comes from a leader of the
    server's current term, and terms only grow), so every leader l with term[l] >
    term[i] must hold the same entry at k."""
    n = state.servers
    for leader in range(n):
        if state.role[leader] != Role.LEADER:
            continue
        for i in range(n):
            if state.term[leader] <= state.term[i]:
                continue
            if not _same_prefix(state, leader, i, state.commit_index[i]):
                return False
    return True


def state_machine_safety(state: State) -> bool:
    """§5.4.3, Figure 3: if a server has applied an entry at an index, no other server ever
    applies a different entry at that index. State form: committed prefixes agree (a server
    may apply exactly the entries up to its commit_index; a snapshot holds applied values)."""
    n = state.servers
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(1, min(state.commit_index[i], state.commit_index[j]) + 1):
                if value_at(state, i, k) != value_at(state, j, k):
                    return False
                ti, tj = term_at(state, i, k), term_at(state, j, k)
                if ti is not None and tj is not None and ti != tj:
                    return False
    return True


def committed_entries_outvote_rivals(state: State) -> bool:
    """Auxiliary invariant (the core of §5.4.3's argument): a server that lacks a committed
    entry cannot win an election, because a quorum of servers has logs strictly more
    up-to-date than its own (§5.4.1's order: last term, then last index), and each of them
    would refuse it a vote.

    Why it holds: the entry at k became committed when a leader of some term c had an entry of
    term c at an index N ≥ k replicated on a quorum Q; committed entries are never removed, so
    every server of Q keeps a log whose last entry is at least (c, N). A server j without the
    entry at k has no entry of term ≥ c at an index ≥ k (by Leader Completeness and Log
    Matching that entry would carry the committed one along), so j's log is less up-to-date
    than (c, N). This is what an implementation that commits an earlier term's entry by
    counting replicas breaks (Figure 8), and it breaks at the commit, before any later
    election exposes it."""
    n = state.servers
    rank = [(last_term(state, j), last_index(state, j)) for j in range(n)]
    quorum = n // 2 + 1
    for i in range(n):
        for k in range(1, state.commit_index[i] + 1):
            value, term = value_at(state, i, k), term_at(state, i, k)
            for j in range(n):
                tj = term_at(state, j, k)
                holds = value_at(state, j, k) == value and (
                    tj is None or term is None or tj == term
                )
                if holds:
                    continue
                if sum(1 for m in range(n) if rank[m] > rank[j]) < quorum:
                    return False
    return True


def leader_append_only(before: State, after: State) -> bool:
    """§5.3, Figure 3: a leader never overwrites or deletes entries in its log; it only
    appends. A property of a step: a server that is leader of the same term before and after
    keeps every entry it had (values, and terms where known; compaction keeps values)."""
    if Role.LEADER not in before.role:
        return True
    for i in range(before.servers):
        if not (
            before.role[i] == Role.LEADER
            and after.role[i] == Role.LEADER
            and before.term[i] == after.term[i]
        ):
            continue
        if last_index(after, i) < last_index(before, i):
            return False
        for k in range(1, last_index(before, i) + 1):
            if value_at(before, i, k) != value_at(after, i, k):
                return False
            tb, ta = term_at(before, i, k), term_at(after, i, k)
            if tb is not None and ta is not None and tb != ta:
                return False
    return True


def leader_elected(state: State) -> bool:
    """Sometimes: some server is a leader."""
    return Role.LEADER in state.role


def entry_committed_everywhere(state: State) -> bool:
    """Sometimes: an entry is committed on every server."""
    return min(state.commit_index) >= 1


StateInvariant = Callable[[State], bool]
TransitionInvariant = Callable[[State, State], bool]

INVARIANTS: dict[str, StateInvariant] = {
    "TypeOK": type_ok,
    "CommitIndexInLog": commit_index_in_log,
    "ElectionSafety": election_safety,
    "LogMatching": log_matching,
    "LeaderCompleteness": leader_completeness,
    "StateMachineSafety": state_machine_safety,
    "CommittedEntriesOutvoteRivals": committed_entries_outvote_rivals,
}

TRANSITION_INVARIANTS: dict[str, TransitionInvariant] = {
    "LeaderAppendOnly": leader_append_only,
}

# The properties above that read no variable but the servers' own (not the network): a
# checker may evaluate them once per distinct combination of server variables. TypeOK is the
# one exception, and it splits into `servers_well_typed` and a per-message conjunct.
# (tests/spec/test_invariants.py checks this declaration.)
SERVER_ONLY: frozenset[str] = frozenset(
    {
        "CommitIndexInLog",
        "ElectionSafety",
        "LogMatching",
        "LeaderCompleteness",
        "StateMachineSafety",
        "CommittedEntriesOutvoteRivals",
        "LeaderAppendOnly",
        "LeaderElected",
        "EntryCommittedEverywhere",
    }
)

SOMETIMES: dict[str, StateInvariant] = {
    "LeaderElected": leader_elected,
    "EntryCommittedEverywhere": entry_committed_everywhere,
}
