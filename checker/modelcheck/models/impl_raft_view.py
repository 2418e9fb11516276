"""The spec-visible projection of the Raft cores' states, and the properties judged on it.

One mapping from an implementation state to a `spec.raft.State`, written once here (the trace
validator's mapping, on the `validate` branch, had not landed when this was written; it maps
trace records, this maps core images — the rules are the same):

- a live server: its core's term, role, vote, log (values are the client commands, which the
  model keeps as the spec's integer values), snapshot (its bytes hold the applied (term,
  value) pairs, so its values are known) and commit index; the vote tally of a candidate
  (the core keeps only votes granted, so the responded set is taken to be the granted one);
  a leader's next_index/match_index, 1 and 0 at its own position;
- a crashed server: what it persisted, as a follower whose commit index is back at its
  snapshot — exactly how the trace checker judges a crashed server (`reader.crashed_rec`);
- the network: each message in flight as the spec's message of the same kind (an
  InstallSnapshotReply as the spec's AppendEntriesReply, as the spec answers InstallSnapshot).

The properties are the spec's own definitions (`spec.raft.INVARIANTS`,
`TRANSITION_INVARIANTS`, `SOMETIMES`) evaluated on that projection, plus the checks the trace
checker makes of what it alone sees of an implementation: its format rules on each live core's
visible state (`WellFormedState`: log indexes consecutive, last_applied ≤ commit_index), and
State Machine Safety judged on what the services were actually handed
(`AppliedStateMachineSafety`), with the lab's in-order check (`AppliedInOrder`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from checker.modelcheck.models.impl_raft_state import (
    AE,
    AER,
    IS,
    ISR,
    RV,
    RVR,
    Packed,
    snapshot_pairs,
)
from checker.trace_check.reader import format_rules
from spec import raft
from spec.raft_invariants import SERVER_ONLY, servers_well_typed
from spec.raft_types import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    InstallSnapshot,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
    Snapshot,
    State,
)

_ROLES = (Role.FOLLOWER, Role.CANDIDATE, Role.LEADER)


def spec_state(state: Packed) -> State:
    """The spec-visible projection of a model state (see the module docstring)."""
    servers, network, restarts, _ = state
    return dataclasses.replace(servers_view(servers),
                               network=frozenset(spec_message(m) for m, _ in network),
                               restarts=restarts)


@functools.lru_cache(maxsize=1 << 16)
def servers_view(servers: Packed) -> State:
    """The projection of the servers alone (empty network, no restarts): what the spec's
    properties that read only the servers' variables (`SERVER_ONLY`) see. Memoised: a search
    meets the same servers under many networks."""
    n = len(servers)
    columns = zip(*(_server(server[0], server[2], i, n) for i, server in enumerate(servers)),
                  strict=True)
    (term, role, voted_for, log, snapshot, commit, responded, granted, next_index,
     match_index) = (tuple(c) for c in columns)
    return State(term=term, role=role, voted_for=voted_for, log=log, snapshot=snapshot,
                 commit_index=commit, votes_responded=responded, votes_granted=granted,
                 next_index=next_index, match_index=match_index, network=frozenset(),
                 restarts=0)


def _server(core: Packed, persisted: Packed, i: int, n: int) -> tuple[Any, ...]:
    ones, zeros = (1,) * n, (0,) * n
    if not core:  # crashed: judged by what it persisted (as the trace checker does)
        term, voted, snap_index, snap_term, entries, data = persisted
        snapshot = Snapshot(snap_index, snap_term, _values(data))
        return (term, Role.FOLLOWER, _unid(voted), _entries(entries), snapshot, snap_index,
                frozenset(), frozenset(), ones, zeros)
    (term, voted, role, _, snap_index, snap_term, entries, data, commit, _, granted,
     next_index, match_index) = core[:13]
    votes = frozenset(granted) if role == 1 else frozenset()
    if role == 2 and next_index:
        nxt = tuple(1 if j == i else next_index[j] for j in range(n))
        match = tuple(0 if j == i else match_index[j] for j in range(n))
    else:
        nxt, match = ones, zeros
    return (term, _ROLES[role], _unid(voted), _entries(entries),
            Snapshot(snap_index, snap_term, _values(data)), commit, votes, votes, nxt, match)


def _entries(pairs: tuple[tuple[int, int], ...]) -> tuple[Entry, ...]:
    return tuple(Entry(t, v) for t, v in pairs)


def _values(data: bytes) -> tuple[int, ...]:
    return tuple(v for _, v in snapshot_pairs(data))


def _unid(code: int) -> int | None:
    return None if code == 0 else code - 1


def spec_message(p: Packed) -> Message:
    kind, src, dst, term = p[0], p[1], p[2], p[3]
    if kind == RV:
        return RequestVote(src, dst, term, p[5], p[6])
    if kind == RVR:
        return RequestVoteReply(src, dst, term, bool(p[4]))
    if kind == AE:
        return AppendEntries(src, dst, term, p[5], p[6], tuple(Entry(t, v) for _, t, v in p[7]),
                             p[8])
    if kind == AER:
        return AppendEntriesReply(src, dst, term, bool(p[4]), p[6])
    if kind == IS:
        return InstallSnapshot(src, dst, term, p[5], p[6], _values(p[7]))
    assert kind == ISR
    return AppendEntriesReply(src, dst, term, True, p[4])


# ---------------------------------------------------------------- what only the cores show


def well_formed(state: Packed) -> bool:
    """The trace format's rules (`reader.format_rules`) on every live core's visible state."""
    for server in state[0]:
        core = server[0]
        if not core:
            continue
        snap_index, entries, commit, applied = core[4], core[6], core[8], core[9]
        visible = {"snapshot_index": snap_index, "commit_index": commit, "last_applied": applied,
                   "log": [[snap_index + k + 1, t] for k, (t, _) in enumerate(entries)]}
        if format_rules(visible):
            return False
    return True


def applied_state_machine_safety(state: Packed) -> bool:
    """State Machine Safety on what the services were handed: no two servers' services hold
    different entries (term and value) at one index."""
    applied = [server[3] for server in state[0]]
    for i, mine in enumerate(applied):
        for theirs in applied[i + 1:]:
            common = min(len(mine), len(theirs))
            if mine[:common] != theirs[:common]:
                return False
    return True


def applied_in_order(state: Packed) -> bool:
    """Every service was handed entries in index order with no gap (the lab's applier check
    "apply out of order")."""
    return not any(server[4] for server in state[0])


def _through(holds: Callable[[State], bool], name: str) -> Callable[[Packed], bool]:
    if name in SERVER_ONLY:
        return lambda state: holds(servers_view(state[0]))
    return lambda state: holds(spec_state(state))


def _through2(holds: Callable[[State, State], bool],
              name: str) -> Callable[[Packed, Packed], bool]:
    # A step property is defined on well-typed states only (a buggy core can reach one whose
    # snapshot claims entries its data does not hold); TypeOK reports such a state itself,
    # when the search checks it right after the step.
    def view(state: Packed) -> State:
        return servers_view(state[0]) if name in SERVER_ONLY else spec_state(state)

    def check(before: Packed, after: Packed) -> bool:
        b, a = view(before), view(after)
        if not (servers_well_typed(b) and servers_well_typed(a)):
            return True
        return holds(b, a)

    return check


INVARIANTS: dict[str, Callable[[Packed], bool]] = {
    **{name: _through(holds, name) for name, holds in raft.INVARIANTS.items()},
    "WellFormedState": well_formed,
    # in-order first: a service handed an entry past a gap holds a placeholder there
    "AppliedInOrder": applied_in_order,
    "AppliedStateMachineSafety": applied_state_machine_safety,
}
TRANSITION_INVARIANTS: dict[str, Callable[[Packed, Packed], bool]] = {
    name: _through2(holds, name) for name, holds in raft.TRANSITION_INVARIANTS.items()
}
SOMETIMES: dict[str, Callable[[Packed], bool]] = {
    name: _through(holds, name) for name, holds in raft.SOMETIMES.items()
}
