"""The proof's ghost (history) variables: their update is a deterministic function of the
step, the instrumented relation leaves the spec's variables to the spec's relation, and the
ghost invariants hold on reachable instrumented states."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import z3

from checker.invariants import ALL, CONCRETE, from_spec
from checker.invariants.symbolic import Bounds, SymState, decode
from checker.proofs.consecution import instrumented, with_ghost
from checker.proofs.ghost import Ghost, GhostView, update
from checker.proofs.ghost_invariants import GHOST_INVARIANTS
from checker.proofs.induction import prove
from spec.raft import Config, State, initial_states, successors
from tests.proofs.walks import PREFERRED


def ghost_walk(config: Config, *, walks: int, steps: int, seed: int,
               prefer: frozenset[str] = PREFERRED) -> Iterator[tuple[State, Ghost, State, Ghost]]:
    """Steps (pre, ghost, post, ghost') of random walks, the ghost updated concretely."""
    rng, bounds = random.Random(seed), Bounds.of(config)
    for _ in range(walks):
        state, ghost = initial_states(config)[0], Ghost.initial(bounds)
        for _ in range(steps):
            options = list(successors(state, config))
            if not options:
                break
            weights = [3 if a.name in prefer else 1 for a, _ in options]
            nxt = rng.choices(options, weights=weights)[0][1]
            g2 = update(CONCRETE, from_spec(state), ghost, from_spec(nxt), bounds)
            yield state, ghost, nxt, g2
            state, ghost = nxt, g2


def test_ghost_invariants_hold_on_reachable_instrumented_states() -> None:
    config = Config()
    bounds = Bounds.of(config)
    committed = False
    for _, _, post, g in ghost_walk(config, walks=6, steps=40, seed=5):
        view = GhostView(from_spec(post), g, bounds)
        for inv in GHOST_INVARIANTS:
            assert inv.holds(view, CONCRETE), (inv.name, post, g)
        committed = committed or any(c for row in g.committed_in for c in row)
    assert committed  # not vacuous: the walks commit entries


def test_the_ghost_update_is_determined_by_the_step() -> None:
    """With the pre-state and its ghost pinned, every post-state the instrumented relation
    allows is a spec successor (its projection is the spec's relation), each with exactly one
    ghost' — the one the concrete update computes."""
    config = Config()
    bounds = Bounds.of(config)
    pre = with_ghost(SymState(bounds, "pre"), "pre")
    post = with_ghost(SymState(bounds, "post"), "post")
    relation, _ = instrumented(pre, post, config)
    solver = z3.Solver()
    solver.add(relation)
    checked = 0
    for before, g, _, _ in ghost_walk(config, walks=2, steps=12, seed=11):
        expected = {nxt for _, nxt in successors(before, config)}
        solver.push()
        solver.add(pre.is_concrete(before), pre.ghost.equals(g))
        found = set()
        while solver.check() == z3.sat:
            model = solver.model()
            after = decode(model, post)
            ghost_after = post.ghost.decode(model)
            assert ghost_after.key() == update(CONCRETE, from_spec(before), g, from_spec(after),
                                               bounds).key()
            layout = z3.And([c == model.eval(c, model_completion=True) for c in post.cells()])
            solver.push()  # the same post-state with another ghost' is impossible
            solver.add(layout, z3.Not(post.ghost.equals(ghost_after)))
            assert solver.check() == z3.unsat
            solver.pop()
            solver.add(z3.Not(layout))
            found.add(after)
            checked += 1
        solver.pop()
        assert found == expected
    assert checked > 20


def test_with_the_ghost_lemmas_the_whole_conjunction_is_inductive() -> None:
    # The central claim, at the default bounds (3 servers): State Machine Safety and
    # Leader Completeness included. About 55 s of one core; worth its place in every run.
    result = prove(Config(), invariants=ALL + GHOST_INVARIANTS, timeout_ms=300_000)
    assert result.safety_proved
    assert set(result.proved) == {inv.name for inv in ALL + GHOST_INVARIANTS}


@pytest.mark.campaign
@pytest.mark.parametrize("bug", ["figure8-commit", "vote-without-log-check"])
def test_commit_and_vote_bugs_break_the_ghost_proof_with_a_confirmed_cti(bug: str) -> None:
    result = prove(Config(bugs=frozenset({bug})), invariants=ALL + GHOST_INVARIANTS,
                   timeout_ms=300_000)
    assert not result.safety_proved
    assert any(c.cti is not None and c.cti.confirmed for c in result.not_proved())


def test_every_candidate_holds_on_reachable_states_with_two_entry_logs() -> None:
    # The lemmas used from max_log 2 on (Log Matching for messages, CommitterElected) and all
    # the others are true of reachable instrumented states: a CTI can only come from an
    # unreachable pre-state.
    from checker.proofs.induction import candidate_invariants

    config = Config(max_log=2, max_messages=3)
    bounds, committed = Bounds.of(config), False
    for _, _, post, g in ghost_walk(config, walks=3, steps=50, seed=1):
        view = GhostView(from_spec(post), g, bounds)
        for inv in candidate_invariants(config):
            assert inv.holds(view, CONCRETE), (inv.name, post, g)
        committed = committed or any(c for row in g.committed_in for c in row)
    assert committed
