"""The spec-visible projection of the Raft cores' states, and the properties judged on it.

The projection is the trace validator's state mapping (`checker.validation.raft_mapping`),
applied to every server of a model state:

- a live server: its core's visible state (`VisibleState`, the object its trace lines record)
  through `view_of_trace`, exactly as the validator reads a trace's state; a crashed server:
  what it persisted, through `view_of_persisted` — a follower whose commit index is back at its
  snapshot, as the trace checker judges a crashed server (`reader.crashed_rec`);
- what the mapping leaves out because a trace does not record it, the model knows, and passes
  in: the entries' values (the client commands, which the model keeps as the spec's integer
  values) and a snapshot's values (its bytes hold the applied (term, value) pairs); the vote
  tally of a candidate (the core keeps only votes granted, so the responded set is taken to be
  the granted one); a leader's next_index/match_index, 1 and 0 at its own position;
- the network: each message in flight through the mapping's `spec_message` of its trace form
  (an InstallSnapshotReply as the spec's AppendEntriesReply, as the spec answers
  InstallSnapshot), with the values an AppendEntries or InstallSnapshot carries.

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
    IS,
    ROLES,
    Packed,
    snapshot_pairs,
    unpack_hard,
    unpack_message,
)
from checker.trace_check.reader import format_rules
from checker.validation.raft_mapping import (
    spec_log,
    spec_message_of_core,
    spec_snapshot,
    view_of_persisted,
    view_of_trace,
)
from impl.raft.core import VisibleState
from spec import raft
from spec.raft_invariants import SERVER_ONLY, message_well_typed, servers_well_typed
from spec.raft_types import Message, State


def spec_state(state: Packed) -> State:
    """The spec-visible projection of a model state (see the module docstring)."""
    servers, network, restarts = state[:3]
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


@functools.lru_cache(maxsize=1 << 16)
def servers_typed(servers: Packed) -> bool:
    """TypeOK's conjuncts about the servers (`servers_well_typed`) on their projection,
    memoised like `servers_view`: a step property asks it of every step's two ends."""
    return servers_well_typed(servers_view(servers))


def visible(core: Packed) -> VisibleState:
    """A live core's visible state: what its trace lines record of it."""
    snap_index = core[4]
    return VisibleState(term=core[0], voted_for=_unid(core[1]), role=ROLES[core[2]],
                        log=tuple((snap_index + k + 1, t) for k, (t, _) in enumerate(core[6])),
                        snapshot_index=snap_index, snapshot_term=core[5],
                        commit_index=core[8], last_applied=core[9])


@functools.lru_cache(maxsize=1 << 16)
def _server(core: Packed, persisted: Packed, i: int, n: int) -> tuple[Any, ...]:
    ones, zeros = (1,) * n, (0,) * n
    if not core:  # crashed: judged by what it persisted (as the trace checker does)
        hard, data = unpack_hard(persisted)
        view = view_of_persisted(hard)
        values = tuple(v for _, v in persisted[4])
        return (view.term, view.role, view.voted_for, spec_log(view.log_terms, values),
                spec_snapshot(view, _values(data)), view.commit_index, frozenset(),
                frozenset(), ones, zeros)
    view = view_of_trace(visible(core).to_json())
    role, granted, next_index, match_index = core[2], core[10], core[11], core[12]
    votes = frozenset(granted) if role == 1 else frozenset()
    if role == 2 and next_index:
        nxt = tuple(1 if j == i else next_index[j] for j in range(n))
        match = tuple(0 if j == i else match_index[j] for j in range(n))
    else:
        nxt, match = ones, zeros
    values = tuple(v for _, v in core[6])
    return (view.term, view.role, view.voted_for, spec_log(view.log_terms, values),
            spec_snapshot(view, _values(core[7])), view.commit_index, votes, votes, nxt, match)


def _values(data: bytes) -> tuple[int, ...]:
    return tuple(v for _, v in snapshot_pairs(data))


def _unid(code: int) -> int | None:
    return None if code == 0 else code - 1


@functools.lru_cache(maxsize=1 << 16)
def spec_message(p: Packed) -> Message:
    """A packed message in flight through the mapping, with the values it carries."""
    kind, src, dst = p[0], p[1], p[2]
    values = None
    if kind == AE:
        values = tuple(v for _, _, v in p[7])
    elif kind == IS:
        values = _values(p[7])
    mapped = spec_message_of_core(src, dst, unpack_message(p), values)
    assert mapped is not None, "every core message is a Raft message"
    return mapped


@functools.lru_cache(maxsize=1 << 16)
def message_typed(p: Packed, servers: int) -> bool:
    """TypeOK's conjunct about one message in flight, memoised by the packed message."""
    return message_well_typed(spec_message(p), servers)


# ---------------------------------------------------------------- what only the cores show


def well_formed(state: Packed) -> bool:
    """The trace format's rules (`reader.format_rules`) on every live core's visible state."""
    for server in state[0]:
        core = server[0]
        if core and format_rules(visible(core).to_json()):
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
        if not (servers_typed(before[0]) and servers_typed(after[0])):
            return True
        return holds(view(before), view(after))

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
