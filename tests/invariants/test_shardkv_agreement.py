"""Each sharded KV invariant's meanings agree: its one definition evaluated concretely equals the
spec's own predicate, its Z3 formula evaluated on the same state equals both, and every
auxiliary lemma holds on every reachable state (else no proof could use it)."""

from __future__ import annotations

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.invariants import CONCRETE, Z3
from checker.invariants.shardkv import ALL, BY_NAME, CONFIGURATIONS_IN_ORDER, SAFETY
from checker.invariants.shardkv_view import ShardView, from_spec
from checker.proofs.shardkv.symbolic import SymState
from spec.shardkv import INVARIANTS, TRANSITION_INVARIANTS, Config, State, successors
from tests.shardkv.naive import naive_search
from tests.shardkv.strategies import CONFIGS, SMALL, states, walk_states

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def test_every_spec_invariant_has_one_definition() -> None:
    assert [inv.name for inv in SAFETY] == list(INVARIANTS)
    assert [CONFIGURATIONS_IN_ORDER.name] == list(TRANSITION_INVARIANTS)


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "small", "three-groups"])
@SETTINGS
@given(data=st.data())
def test_concrete_evaluation_agrees_with_the_spec(config: Config, data: st.DataObject) -> None:
    state = data.draw(states(config))
    view = from_spec(config, state)
    for inv in SAFETY:
        assert inv.holds(view, CONCRETE) == INVARIANTS[inv.name](config, state), inv.name
    after = data.draw(states(config))
    expected = TRANSITION_INVARIANTS[CONFIGURATIONS_IN_ORDER.name](config, state, after)
    got = CONFIGURATIONS_IN_ORDER.holds(view, from_spec(config, after), CONCRETE)
    assert got == expected


def test_agreement_on_reachable_states_and_steps() -> None:
    """Generated states rarely satisfy the invariants; reachable ones always do, and bug flags
    reach states that break them: both sides must agree there too."""
    seen_false = set()
    for config in [*CONFIGS, *(Config(bugs=frozenset({b})) for b in
                               ("serve-after-handoff", "delete-before-install",
                                "dup-table-not-migrated", "unordered-configs"))]:
        for state in walk_states(config, walks=6, steps=40, seed=3):
            view = from_spec(config, state)
            for inv in SAFETY:
                value = INVARIANTS[inv.name](config, state)
                assert inv.holds(view, CONCRETE) == value, inv.name
                if not value:
                    seen_false.add(inv.name)
            for _, after in successors(config, state):
                expected = TRANSITION_INVARIANTS["ConfigurationsInOrder"](config, state, after)
                got = CONFIGURATIONS_IN_ORDER.holds(view, from_spec(config, after), CONCRETE)
                assert got == expected
                if not expected:
                    seen_false.add("ConfigurationsInOrder")
    assert seen_false >= {"AtMostOneServer", "ConfigurationsInOrder"}


def _z3_values(config: Config, states_: list[State]) -> None:
    sym = SymState(config, "s")
    formulas = {inv.name: inv.holds(sym, Z3) for inv in ALL}
    solver = z3.Solver()
    solver.add(sym.domain())
    for state in states_:
        solver.push()
        solver.add(sym.is_concrete(state))
        assert solver.check() == z3.sat, state
        model = solver.model()
        view = from_spec(config, state)
        for inv in ALL:
            symbolic = z3.is_true(model.eval(formulas[inv.name], model_completion=True))
            assert symbolic == bool(inv.holds(view, CONCRETE)), (inv.name, state)
        solver.pop()


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "small", "three-groups"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_z3_formula_agrees_with_the_concrete_evaluation(config: Config,
                                                        data: st.DataObject) -> None:
    _z3_values(config, [data.draw(states(config)) for _ in range(5)])


def test_z3_formula_agrees_on_reachable_states() -> None:
    for config in CONFIGS:
        _z3_values(config, walk_states(config, walks=3, steps=30, seed=7))


def test_every_lemma_holds_on_every_reachable_state() -> None:
    for config in (SMALL, Config(clerks=1, calls=2, max_messages=2)):
        reachable, violation = naive_search(config)
        assert violation is None
        for state in reachable:
            view = from_spec(config, state)
            broken = [inv.name for inv in ALL if not inv.holds(view, CONCRETE)]
            assert not broken, (broken, state)


def _trace_view(status: list[list[int]], data: list[list[list[int]]], acked: list[int],
                num: list[int]) -> ShardView:
    """A state as a trace checker would rebuild it: group records and client returns, no
    messages (2 groups, 2 shards, 1 clerk with 2 calls, the default configurations)."""
    dup = [[[max((q for q in (1, 2) if d[q - 1]), default=0)] for d in row] for row in data]
    return ShardView(G=2, S=2, C=1, Q=2, configs=Config().configs, published=max(num),
                     num=num, status=status, data=data, dup=dup, acked=acked, messages=[])


def test_traceable_invariants_judge_a_view_without_messages() -> None:
    from checker.invariants.shardkv import TRACEABLE

    names = {inv.name for inv in TRACEABLE}
    assert {inv.name for inv in SAFETY} <= names
    # Configuration 2: g1 serves s0 (with call 1) and hands off s1 (call 2) to g2, which
    # has installed it: healthy.
    healthy = _trace_view([[1, 3], [0, 1]], [[[1, 0], [0, 1]], [[0, 0], [0, 1]]], [2], [2, 2])
    assert all(inv.holds(healthy, CONCRETE) for inv in TRACEABLE)
    # g1 still serves s1 after the handoff: two servers.
    two = _trace_view([[1, 1], [0, 1]], [[[1, 0], [0, 1]], [[0, 0], [0, 1]]], [2], [2, 2])
    assert not BY_NAME["AtMostOneServer"].holds(two, CONCRETE)
    # g1 deleted s1 before g2 installed it, and call 2 was acknowledged: lost.
    lost = _trace_view([[1, 0], [0, 2]], [[[1, 0], [0, 0]], [[0, 0], [0, 0]]], [2], [2, 2])
    assert not BY_NAME["NoAckedWriteLost"].holds(lost, CONCRETE)
