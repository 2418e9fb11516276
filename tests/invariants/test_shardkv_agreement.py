"""Each sharded KV invariant's meanings agree: its one definition evaluated concretely equals the
spec's own predicate, its Z3 formula evaluated on the same state equals both, and every
auxiliary lemma holds on every reachable state (else no proof could use it)."""

from __future__ import annotations

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.invariants import CONCRETE, Z3
from checker.invariants.shardkv import ALL, CONFIGURATIONS_IN_ORDER, SAFETY
from checker.invariants.shardkv_view import from_spec
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
