"""Consecution checks split into parts and run in worker processes: the parts are the goal,
the schedule is slowest-first, and the verdicts do not depend on the number of workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import z3

from checker.invariants import ALL, Z3
from checker.invariants.symbolic import Bounds, SymState
from checker.proofs.consecution import PARTS, Task, conjuncts, goals, split, with_ghost
from checker.proofs.ghost_invariants import GHOST_INVARIANTS
from checker.proofs.induction import ProofResult, prove
from checker.proofs.parallel import COST_HINTS, longest_first
from spec.raft import Config

ROOT = Path(__file__).resolve().parents[2]


def _equivalent(a: z3.BoolRef, b: z3.BoolRef) -> bool:
    solver = z3.Solver()
    solver.add(a != b)
    return solver.check() == z3.unsat


def test_the_parts_of_every_goal_are_exactly_the_goal() -> None:
    config = Config()
    post = with_ghost(SymState(Bounds.of(config), "post"), "post")
    candidates = {inv.name: inv for inv in ALL + GHOST_INVARIANTS}
    for name, parts in goals(config, ALL + GHOST_INVARIANTS, max_parts=4).items():
        assert 1 <= len(parts) <= max(4, *PARTS.values())
        if name in candidates:
            assert _equivalent(z3.And(parts), candidates[name].holds(post, Z3)), name


def test_conjuncts_distribute_an_implication_over_its_consequent() -> None:
    a, b, c = z3.Bools("a b c")
    assert len(conjuncts(z3.And(a, z3.Implies(a, z3.And(b, c))))) == 3
    assert conjuncts(z3.BoolVal(True)) == []
    assert len(split(z3.And(a, b, c), 2)) == 2


def test_longest_first_puts_measured_and_hinted_costs_first() -> None:
    standing = ("TypeOK",)
    heavy = max(COST_HINTS, key=lambda n: COST_HINTS[n])
    tasks = [Task("TypeOK", 0, standing), Task(heavy, 0, standing), Task("LogMatching", 0, standing)]
    parts = {"TypeOK": 1, heavy: 1, "LogMatching": 1}
    assert longest_first(tasks, parts, {})[0].invariant == heavy
    # A part measured in an earlier round is ordered by what it took.
    order = longest_first(tasks, parts, {("LogMatching", 0): 100.0})
    assert [t.invariant for t in order][:2] == ["LogMatching", heavy]


def _verdicts(r: ProofResult) -> list[tuple[str, str, str]]:
    return sorted((c.invariant, c.kind, c.verdict.value) for c in r.checks)


def test_verdicts_are_the_same_with_one_and_two_workers() -> None:
    # stale-append-truncates at 2 servers: three Houdini rounds, CTIs in two of them (State
    # Machine Safety and ghost lemmas dropped), split checks (EntryTermsElected) included.
    config = Config(servers=2, max_term=2, bugs=frozenset({"stale-append-truncates"}))
    one = prove(config, invariants=ALL + GHOST_INVARIANTS, workers=1)
    two = prove(config, invariants=ALL + GHOST_INVARIANTS, workers=2)
    assert one.rounds == two.rounds >= 2
    assert one.proved == two.proved
    assert not two.safety_proved
    assert _verdicts(one) == _verdicts(two)
    assert all(c.cti is not None and c.cti.confirmed for c in two.not_proved())
    assert two.workers == 2 and two.cpu_seconds > 0


def test_workers_option_is_checked() -> None:
    proc = subprocess.run([sys.executable, "-m", "checker", "prove", "raft", "--workers", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
