"""Each invariant's two meanings agree: the concrete evaluation of the one definition equals
the spec's own Python predicate, and its Z3 encoding evaluated on the same state equals both."""

from __future__ import annotations

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.invariants import CONCRETE, LEADER_APPEND_ONLY, SAFETY, Z3, from_spec
from checker.invariants.raft import ALL, LONG_LOG_AUXILIARY, SNAPSHOT_AUXILIARY
from checker.invariants.symbolic import Bounds, encode
from spec.raft import (
    INVARIANTS,
    TRANSITION_INVARIANTS,
    AppendEntries,
    InstallSnapshot,
    State,
)
from tests.invariants.strategies import states

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_every_spec_invariant_has_one_definition() -> None:
    assert [inv.name for inv in SAFETY] == list(INVARIANTS)


@SETTINGS
@given(states())
def test_concrete_evaluation_agrees_with_the_spec(state: State) -> None:
    view = from_spec(state)
    for inv in SAFETY:
        assert inv.holds(view, CONCRETE) == INVARIANTS[inv.name](state), inv.name


@SETTINGS
@given(states(), states())
def test_leader_append_only_agrees_with_the_spec(before: State, after: State) -> None:
    if before.servers != after.servers:
        after = before
    expected = TRANSITION_INVARIANTS["LeaderAppendOnly"](before, after)
    assert LEADER_APPEND_ONLY.holds(from_spec(before), from_spec(after), CONCRETE) == expected


def _bounds(*ss: State, snapshots: bool = False) -> Bounds:
    # Every log (by absolute index) and every message fragment must fit the encoded arrays.
    longest = max(max(snap.index + len(log) for snap, log in zip(s.snapshot, s.log, strict=True))
                  for s in ss)
    for s in ss:
        for m in s.network:
            if isinstance(m, AppendEntries):
                longest = max(longest, m.prev_index + len(m.entries))
            if isinstance(m, InstallSnapshot):
                longest = max(longest, m.last_index)
    return Bounds(ss[0].servers, 3, max(longest, 1), 2, max(len(s.network) for s in ss) + 1, 1,
                  snapshots)


def _z3_value(formula: z3.ExprRef) -> bool:
    value = z3.simplify(formula)
    assert z3.is_true(value) or z3.is_false(value), value
    return bool(z3.is_true(value))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(states(snapshots=False))
def test_z3_encoding_agrees_with_the_concrete_evaluation(state: State) -> None:
    sym = encode(state, _bounds(state))
    view = from_spec(state)
    for inv in ALL + LONG_LOG_AUXILIARY:
        assert _z3_value(inv.holds(sym, Z3)) == inv.holds(view, CONCRETE), inv.name


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(states(snapshots=True))
def test_z3_encoding_agrees_on_states_with_snapshots(state: State) -> None:
    # The symbolic view reads logs through snapshots as the concrete one does (§7): compacted
    # terms unknown, values kept; the InstallSnapshot lemma included.
    sym = encode(state, _bounds(state, snapshots=True))
    view = from_spec(state)
    for inv in ALL + LONG_LOG_AUXILIARY + SNAPSHOT_AUXILIARY:
        assert _z3_value(inv.holds(sym, Z3)) == inv.holds(view, CONCRETE), inv.name


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(states(snapshots=False), st.data())
def test_z3_leader_append_only_agrees(before: State, data: st.DataObject) -> None:
    after = data.draw(states(servers=(before.servers,), snapshots=False))
    bounds = _bounds(before, after)
    formula = LEADER_APPEND_ONLY.holds(encode(before, bounds), encode(after, bounds), Z3)
    assert _z3_value(formula) == TRANSITION_INVARIANTS["LeaderAppendOnly"](before, after)


def test_the_strategy_reaches_both_verdicts() -> None:
    """Guard against a vacuous agreement test: each invariant is seen true and false."""
    seen: dict[str, set[bool]] = {name: set() for name in INVARIANTS}

    @settings(max_examples=300, deadline=None, database=None)
    @given(states())
    def collect(state: State) -> None:
        for name, pred in INVARIANTS.items():
            seen[name].add(pred(state))

    collect()
    assert all(v == {True, False} for v in seen.values()), seen
