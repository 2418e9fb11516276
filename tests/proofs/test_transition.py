"""The symbolic transition relation is the spec's: on states the spec reaches, the successors
Z3 allows are exactly those `spec.raft.successors` computes — every action of the spec, with
Compact and InstallSnapshot when snapshots are on."""

from __future__ import annotations

import pytest
import z3

from checker.invariants.symbolic import Bounds, SymState, decode
from checker.proofs.enumerate import SymbolicSuccessors
from checker.proofs.transition import init
from spec.raft import (
    BUGS,
    Config,
    InstallSnapshot,
    Role,
    State,
    initial_states,
    successors,
)
from tests.proofs.walks import PREFERRED, walk_states

BIGGER = Config(max_log=2, values=2, max_messages=3, drops=True, duplicates=True, max_restarts=1)


def compare(config: Config, *, walks: int, steps: int, seed: int,
            prefer: frozenset[str] = PREFERRED) -> list[State]:
    oracle = SymbolicSuccessors(config)
    seen = []
    for state in walk_states(config, walks=walks, steps=steps, seed=seed, prefer=prefer):
        expected = {nxt for _, nxt in successors(state, config)}
        assert oracle.of(state) == expected, state
        seen.append(state)
    return seen


def test_successors_agree_at_the_default_bounds() -> None:
    seen = compare(Config(), walks=4, steps=25, seed=2)
    # Not vacuous: the walks reach leaders and committed entries.
    assert any(Role.LEADER in s.role for s in seen)
    assert any(max(s.commit_index) > 0 for s in seen)


def test_successors_agree_with_drops_duplicates_restarts_and_longer_logs() -> None:
    seen = compare(BIGGER, walks=2, steps=25, seed=2)
    assert any(max(len(log) for log in s.log) == 2 for s in seen)


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_successors_agree_under_each_bug_flag(bug: str) -> None:
    config = Config(max_log=2, max_restarts=1, bugs=frozenset({bug}))
    compare(config, walks=1, steps=25, seed=3)


SNAPSHOTS = Config(max_log=2, snapshots=True, max_messages=3, max_restarts=1)
# Walks that compact and send snapshots often enough to reach followers behind a snapshot.
SNAPSHOT_STEPS = frozenset({"Receive", "ClientRequest", "Compact", "InstallSnapshot"})


def _has_install_snapshot(s: State) -> bool:
    return any(isinstance(m, InstallSnapshot) for m in s.network)


def test_successors_agree_with_snapshots() -> None:
    seen = compare(SNAPSHOTS, walks=3, steps=40, seed=5, prefer=SNAPSHOT_STEPS)
    # Not vacuous: compacted logs, and InstallSnapshot messages to deliver.
    assert sum(1 for s in seen if any(x.index for x in s.snapshot)) >= 5
    assert sum(1 for s in seen if _has_install_snapshot(s)) >= 5


@pytest.mark.campaign
@pytest.mark.parametrize("bug", sorted(BUGS))
def test_successors_agree_with_snapshots_under_each_bug_flag(bug: str) -> None:
    config = Config(max_log=2, snapshots=True, max_messages=3, max_restarts=1, drops=True,
                    duplicates=True, bugs=frozenset({bug}))
    for seed in range(3):
        compare(config, walks=2, steps=40, seed=seed,
                prefer=SNAPSHOT_STEPS | {"Duplicate"})


@pytest.mark.campaign
@pytest.mark.parametrize("seed", range(10))
def test_successors_agree_campaign(seed: int) -> None:
    compare(Config(), walks=10, steps=40, seed=100 + seed)
    compare(BIGGER, walks=4, steps=40, seed=200 + seed)
    compare(SNAPSHOTS, walks=4, steps=40, seed=300 + seed, prefer=SNAPSHOT_STEPS)


def test_the_symbolic_initial_condition_is_the_spec_initial_state() -> None:
    config = Config()
    s = SymState(Bounds.of(config), "s")
    solver = z3.Solver()
    solver.add(init(s))
    assert solver.check() == z3.sat
    assert decode(solver.model(), s) == initial_states(config)[0]
    solver.add(z3.Not(s.is_concrete(initial_states(config)[0])))
    assert solver.check() == z3.unsat  # and it is the only one
