"""The controller spec: Join/Leave/Move/Query semantics, the lab's checks (sections 5.2–5.4) on
the configurations the spec makes, and the rebalancing rule — balanced, minimal (against a
brute force over every assignment), deterministic, and the two "minimal transfers" properties
as intended."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.shardctrler import (
    INVARIANTS,
    STEP_PROPERTIES,
    Configuration,
    Join,
    Leave,
    Move,
    Query,
    apply,
    balanced,
    change,
    initial,
    joins_give_old_groups_nothing,
    leaves_keep_survivors_shards,
    min_moves,
    minimal_movement,
    moved,
    query,
    rebalance,
    run,
)
from tests.shardctrler.strategies import brute_minimum, sequences


def join(*gids: int) -> Join:
    return Join.of({g: (f"x{g}", f"y{g}", f"z{g}") for g in gids})


def check(config: Configuration, gids: list[int]) -> None:
    """Section 5.2's check(groups)."""
    assert sorted(config.gids) == sorted(gids)
    if gids:
        assert all(g in gids for g in config.shards)
    assert balanced(config)


def test_basic_leave_join() -> None:
    history = run([join(1)])
    check(history[0], [])
    check(history[1], [1])
    history = run([join(1), join(2), Leave.of([1]), Leave.of([2])])
    check(history[2], [1, 2])
    assert history[2].servers(1) == ("x1", "y1", "z1")  # server lists in order
    check(history[3], [2])
    check(history[4], [])
    assert history[4].shards == (0,) * 10
    assert [c.num for c in history] == [0, 1, 2, 3, 4]


def test_historical_queries() -> None:
    history = run([join(1), join(2), Leave.of([1])])
    for config in history:
        assert query(history, config.num) == config
    assert query(history, -1) == history[-1]
    assert query(history, 99) == history[-1]
    _, reply = apply(history, Query(1))
    assert reply == history[1]
    with pytest.raises(ValueError):
        apply(history, Query(-2))


def test_move() -> None:
    history = run([join(503, 504)])
    for shard in range(10):
        gid = 503 if shard < 5 else 504
        before = history[-1]
        history, _ = apply(history, Move(shard, gid))
        if before.shards[shard] != gid:
            assert history[-1].num > before.num  # "Move should increase Config.Num"
        assert moved(before.shards, history[-1].shards) == (before.shards[shard] != gid)
    assert history[-1].shards == (503,) * 5 + (504,) * 5


def test_ten_groups_get_one_shard_each() -> None:
    ops = [op for i in range(10) for op in (join(100 + 10 * i + 1000), join(100 + 10 * i),
                                            Leave.of([100 + 10 * i + 1000]))]
    last = run(ops)[-1]
    check(last, [100 + 10 * i for i in range(10)])
    assert sorted(last.shards) == [100 + 10 * i for i in range(10)]


@pytest.mark.parametrize("start", [[1], [1, 2], [1, 2, 3], list(range(100, 200, 10))])
def test_minimal_transfers_after_joins_and_leaves(start: list[int]) -> None:
    """Sections 5.3 #5–#6 with the intended checks (the Go suite's iterate over absent gids)."""
    history = run([join(*start)])
    c1 = history[-1]
    for gid in range(11, 16):
        history, _ = apply(history, join(gid))
    c2 = history[-1]
    assert joins_give_old_groups_nothing(c1, c2)
    for gid in c1.gids:  # spelled out: an old group's shards in c2 are among its c1 shards
        assert set(c2.shards_of(gid)) <= set(c1.shards_of(gid))
    for gid in range(11, 16):
        history, _ = apply(history, Leave.of([gid]))
    c3 = history[-1]
    assert leaves_keep_survivors_shards(c2, c3)
    for shard, gid in enumerate(c2.shards):
        if gid < 11 or gid > 15:
            assert c3.shards[shard] == gid


@pytest.mark.parametrize("start", [[1], [1, 2], [1, 2, 3]])
def test_minimal_transfers_after_multijoin_and_multileave(start: list[int]) -> None:
    """Sections 5.4 #3–#4: one Join of five groups, one Leave of them."""
    c1 = run([join(*start)])[-1]
    c2 = change(c1, join(11, 12, 13, 14, 15))
    c3 = change(c2, Leave.of([11, 12, 13, 14, 15]))
    assert joins_give_old_groups_nothing(c1, c2)
    assert leaves_keep_survivors_shards(c2, c3)
    check(c2, [*start, 11, 12, 13, 14, 15])
    check(c3, start)


def test_join_order_does_not_matter() -> None:
    """Deterministic: no dependence on a mapping's order (every controller replica must agree)."""
    base = run([join(1, 2), join(3)])[-1]
    groups = {7: ("a",), 4: ("b",), 9: ("c",), 5: ("d",)}
    results = {change(base, Join.of(dict(p))) for p in itertools.permutations(groups.items())}
    assert len(results) == 1
    assert rebalance(base.shards, [9, 1, 3]) == rebalance(base.shards, [1, 3, 9])


def test_configurations_are_values() -> None:
    history = run([join(1), join(2)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        history[1].num = 5  # type: ignore[misc]
    again = run([join(1), join(2)])
    assert again == history and hash(again) == hash(history)


@pytest.mark.parametrize(("config_ops", "op", "words"), [
    ([], Join(()), "at least one group"),
    ([], Join.of({0: ("a",)}), "positive"),
    ([[1]], Join.of({1: ("a",)}), "already joined"),
    ([], Join.of({1: ()}), "at least one server"),
    ([[1]], Leave.of([2]), "not present"),
    ([[1]], Leave.of([]), "at least one group"),
    ([[1]], Move(10, 1), "out of range"),
    ([[1]], Move(0, 2), "not present"),
    ([], Move(0, 0), "not present"),
])
def test_invalid_operations_are_refused(config_ops: list[list[int]], op: object,
                                        words: str) -> None:
    history = run([join(*gids) for gids in config_ops])
    with pytest.raises(ValueError, match=words):
        apply(history, op)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(sequences())
def test_every_step_keeps_the_invariants_and_step_properties(ops: list) -> None:  # type: ignore[type-arg]
    history = run(ops)
    for before, op, after in zip(history[:-1], ops, history[1:], strict=True):
        assert after.num == before.num + 1
        for name, holds in INVARIANTS.items():
            if name != "Balanced" or not isinstance(op, Move):
                assert holds(after), name
        if isinstance(op, Move):
            assert after.shards == change(before, op).shards
            assert moved(before.shards, after.shards) <= 1
        else:
            for name, step_holds in STEP_PROPERTIES.items():
                assert step_holds(before, after), name


@settings(max_examples=200, deadline=None)
@given(sequences(moves=False, max_steps=3), st.lists(st.integers(1, 20), min_size=1,
                                                      max_size=5, unique=True))
def test_joins_then_leaves_keep_the_minimal_transfer_properties(ops: list,  # type: ignore[type-arg]
                                                                extra: list[int]) -> None:
    c1 = run(ops)[-1]
    new = [g + 100 for g in extra]
    history = (c1,)
    for gid in new:
        history, _ = apply(history, Join.of({gid: ("s",)}))
    c2 = history[-1]
    assert joins_give_old_groups_nothing(c1, c2)
    for gid in new:
        history, _ = apply(history, Leave.of([gid]))
    assert leaves_keep_survivors_shards(c2, history[-1])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6).flatmap(
    lambda n: st.tuples(st.lists(st.integers(0, 5), min_size=n, max_size=n),
                        st.lists(st.integers(1, 4), max_size=4, unique=True))))
def test_rebalance_moves_the_brute_force_minimum(case: tuple[list[int], list[int]]) -> None:
    """The naive twin: every assignment enumerated (small shard counts)."""
    before, gids = case
    least = brute_minimum(before, gids)
    assert min_moves(before, gids) == least
    after = rebalance(before, gids)
    assert moved(before, after) == least
    config = Configuration(1, after, tuple((g, ("s",)) for g in sorted(gids)))
    assert balanced(config)
    assert minimal_movement(Configuration(0, tuple(before), ()), config)


def test_an_unbalanced_configuration_is_seen() -> None:
    config = Configuration(3, (1,) * 9 + (2,), ((1, ("a",)), (2, ("b",))))
    assert not balanced(config)
    assert not balanced(Configuration(3, (1,) * 5 + (3,) * 5, ((1, ("a",)), (2, ("b",)))))
    assert minimal_movement(initial(), Configuration(1, (1,) * 10, ((1, ("a",)),)))


def test_step_properties_catch_a_wasteful_rule() -> None:
    """The properties are not vacuous: a rule that re-deals every shard breaks them."""
    c1 = run([join(1, 2)])[-1]
    dealt = Configuration(2, (1, 2, 3) * 3 + (1,), (*c1.groups, (3, ("c",))))
    assert balanced(dealt)
    assert not minimal_movement(c1, dealt)
    assert not joins_give_old_groups_nothing(c1, dealt)
    shuffled = Configuration(3, (2,) * 5 + (1,) * 5, c1.groups)
    assert not leaves_keep_survivors_shards(dealt, Configuration(3, shuffled.shards,
                                                                 c1.groups))
