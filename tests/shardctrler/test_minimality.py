"""Z3's minimality check: it confirms the spec's rule on many generated sequences, finds a
cheaper assignment when one exists, agrees with a brute force over every assignment on small
cases, and the constraints it adds for speed are implied by the definition."""

from __future__ import annotations

import random

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.shardctrler.minimality import Query, cost, is_balanced, judge
from checker.verdict import Verdict
from spec.shardctrler import Move, min_moves, run
from tests.shardctrler.strategies import brute_minimum, sequences


@settings(max_examples=200, deadline=None)
@given(sequences(max_steps=6, max_gid=14))
def test_z3_confirms_every_rebalancing_of_generated_sequences(ops: list) -> None:  # type: ignore[type-arg]
    history = run(ops)
    for before, op, after in zip(history[:-1], ops, history[1:], strict=True):
        if isinstance(op, Move):
            continue
        result = judge(before.shards, after.shards, after.gids)
        assert result.verdict is Verdict.OK, (before, op, after, result)
        assert result.minimum == result.moved == min_moves(before.shards, after.gids)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6).flatmap(
    lambda n: st.tuples(st.lists(st.integers(0, 5), min_size=n, max_size=n),
                        st.lists(st.integers(1, 4), max_size=4, unique=True),
                        st.lists(st.integers(0, 4), min_size=n, max_size=n))))
def test_z3_minimum_and_verdicts_agree_with_brute_force(
        case: tuple[list[int], list[int], list[int]]) -> None:
    """The naive twin: judge an arbitrary assignment; the proven minimum is the enumerated one,
    and the verdict is OK exactly when the assignment is balanced and that cheap."""
    before, gids, after = case
    least = brute_minimum(before, gids)
    result = judge(before, after, gids)
    assert result.minimum == least
    minimal = is_balanced(after, gids) and cost(before, after) == least
    assert (result.verdict is Verdict.OK) == minimal
    if result.better is not None:
        assert is_balanced(result.better, gids)
        assert cost(before, result.better) == least < cost(before, after)


def test_a_wasteful_balanced_assignment_is_refuted_with_a_cheaper_one() -> None:
    before = (1,) * 5 + (2,) * 5
    after = (2,) * 4 + (3,) * 3 + (1,) * 3  # balanced over 1, 2, 3 but moves all 10
    result = judge(before, after, [1, 2, 3])
    assert result.verdict is Verdict.VIOLATION and result.minimum == 3
    assert result.better is not None and cost(before, result.better) == 3


def test_an_unbalanced_assignment_is_a_violation() -> None:
    result = judge((0,) * 10, (1,) * 6 + (2,) * 4, [1, 2])
    assert result.verdict is Verdict.VIOLATION and not result.balanced
    assert result.minimum == 10


def test_no_groups_means_every_shard_on_gid_0() -> None:
    assert judge((1,) * 10, (0,) * 10, []).verdict is Verdict.OK
    assert judge((1,) * 10, (1,) * 10, []).verdict is Verdict.VIOLATION


def test_many_groups_and_shards_answer_quickly_enough() -> None:
    """Cases that time out without the implied constraints (10 groups or more)."""
    for before, gids in [((3, 2, 3, 3, 3, 2, 2, 2, 3, 3), list(range(2, 12))),
                         ((1,) * 10, list(range(1, 11))),
                         (tuple(range(1, 11)), list(range(5, 25)))]:
        result = judge(before, before, gids, timeout_ms=20_000)
        assert result.verdict is not Verdict.UNKNOWN
        assert result.minimum == min_moves(before, gids)


def test_the_added_constraints_are_implied_by_the_definition() -> None:
    """Z3 proves definition ⇒ implied on small cases (the encoding is the same at every size;
    at 10 shards the proof itself is the hard counting problem the constraints help with)."""
    rng = random.Random(5)
    for _ in range(30):
        gall = list(range(1, rng.randint(2, 6)))
        before = tuple(rng.choice([0, *gall]) for _ in range(rng.randint(1, 6)))
        gids = rng.sample(gall, rng.randint(1, len(gall)))
        query = Query(before, gids, 10_000)
        solver = z3.Tactic("smt").solver()
        solver.set("timeout", 60_000)
        solver.add(*query.definition, z3.Not(z3.And(query.implied)))
        assert solver.check() == z3.unsat
