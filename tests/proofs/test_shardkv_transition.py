"""The symbolic sharded KV relation is the spec's: on states the spec reaches, the successors Z3
allows are exactly `spec.shardkv.successors`, with and without each bug flag; Z3's Init is the
spec's initial state."""

from __future__ import annotations

import pytest
import z3

from checker.proofs.shardkv.enumerate import SymbolicSuccessors
from checker.proofs.shardkv.symbolic import SymState, decode
from checker.proofs.shardkv.transition import init
from spec.shardkv import BUGS, Config, State, initial_states, successors
from tests.shardkv.strategies import CONFIGS, walk_states


def compare(config: Config, *, walks: int, steps: int, seed: int) -> list[State]:
    oracle = SymbolicSuccessors(config)
    seen = []
    for state in walk_states(config, walks=walks, steps=steps, seed=seed):
        expected = {nxt for _, nxt in successors(config, state)}
        assert oracle.of(state) == expected, state
        seen.append(state)
    return seen


def test_successors_agree_at_the_default_bounds() -> None:
    seen = compare(Config(), walks=3, steps=40, seed=1)
    # Not vacuous: the walks reach handoffs in progress and acknowledged calls.
    assert any(any(st == 3 for g in s.groups for st in g.status) for s in seen)
    assert any(sum(s.acked) > 0 for s in seen)


@pytest.mark.parametrize("config", CONFIGS[1:], ids=["small", "three-groups"])
def test_successors_agree_at_other_bounds(config: Config) -> None:
    compare(config, walks=3, steps=40, seed=2)


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_successors_agree_under_each_bug_flag(bug: str) -> None:
    compare(Config(clerks=1, max_messages=2, bugs=frozenset({bug})), walks=2, steps=40, seed=3)


def test_without_drops_or_duplicates() -> None:
    compare(Config(clerks=1, drops=False, duplicates=False), walks=2, steps=40, seed=4)


def test_the_symbolic_initial_condition_is_the_spec_initial_state() -> None:
    config = Config()
    s = SymState(config, "s")
    solver = z3.Solver()
    solver.add(init(s))
    assert solver.check() == z3.sat
    assert decode(solver.model(), s) == initial_states(config)[0]
    solver.add(z3.Not(s.is_concrete(initial_states(config)[0])))
    assert solver.check() == z3.unsat  # and it is the only one
