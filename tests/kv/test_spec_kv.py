"""spec/kv.py: the configuration is checked when built; the one execution rule is the sequential
kv model under exactly-once, and the implementation's state machine applies exactly it; each
property, written once over a `View`, judges hand-made states as its words say."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.kv.machine import Op as ImplOp
from impl.kv.machine import StateMachine
from spec import kv
from spec.kv import APPEND, GET, NOOP_OP, PUT, Call, Effect, Machine, Op, State
from spec.sequential import KV


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"replicas": 0}, "replicas is 0; expected 1..3"),
    ({"max_log": 9}, "max_log is 9; expected 1..6"),
    ({"calls": ()}, "expected 1..3 clerks"),
    ({"calls": (((GET, "k", "v"),),)}, r"expected a get \(value None\)"),
    ({"calls": ((("cas", "k", "v"),),)}, r"expected a get \(value None\)"),
    ({"bugs": frozenset({"nope"})}, "unknown bug flag"),
    ({"bugs": frozenset({"stale-read"})}, "needs read_index"),
    ({"bugs": frozenset({"dup-not-in-snapshot"}), "snapshots": False}, "needs snapshots"),
])
def test_config_is_checked_when_built(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        kv.Config(**kwargs)  # type: ignore[arg-type]


calls = st.tuples(st.sampled_from([GET, PUT, APPEND]), st.sampled_from(["a", "b"]),
                  st.sampled_from(["x", "y", ""]), st.integers(1, 2), st.integers(1, 4))


def as_op(kind: str, key: str, value: str, clerk: int, seq: int) -> Op:
    return Op(kind, key, None if kind == GET else value, clerk, seq)


@given(st.lists(st.one_of(calls.map(lambda c: as_op(*c)), st.just(NOOP_OP)), max_size=12))
def test_the_implementations_state_machine_applies_the_specs_rule(ops: list[Op]) -> None:
    machine = StateMachine()
    store: kv.Store = ()
    dup: kv.Dup = ()
    for index, op in enumerate(ops, start=1):
        store, dup, outcome = kv.execute(store, dup, op)
        got = machine.apply(index, ImplOp(*op))
        assert (got.executed, got.output) == (outcome.executed, outcome.output)
    assert tuple(sorted(machine.data.items())) == store
    assert tuple(sorted(machine.last_seq.items())) == dup
    assert kv.replay(tuple(ops), len(ops)) == (store, dup)


@given(st.lists(calls.map(lambda c: as_op(*c)), max_size=10))
def test_fresh_calls_follow_the_sequential_kv_model(ops: list[Op]) -> None:
    # Number the calls so that each is fresh: execution is then the sequential model itself.
    numbered = [op._replace(clerk=1, seq=i) for i, op in enumerate(ops, start=1)]
    store: kv.Store = ()
    dup: kv.Dup = ()
    model: dict[str, str] = {}
    for op in numbered:
        store, dup, outcome = kv.execute(store, dup, op)
        state, output = KV.step(model.get(op.key, ""), (op.kind, op.key, op.value))
        assert outcome.executed
        assert outcome.output == output
        if op.kind != GET:
            model[op.key] = state
    assert dict(store) == model


def test_a_retried_call_changes_nothing_and_a_retried_get_reads_again() -> None:
    store, dup, first = kv.execute((), (), Op(APPEND, "k", "x", 7, 1))
    again, dup2, second = kv.execute(store, dup, Op(APPEND, "k", "x", 7, 1))
    assert first.executed and not second.executed and (again, dup2) == (store, dup)
    _, dup3, read = kv.execute(store, dup, Op(GET, "k", None, 7, 2))
    _, _, reread = kv.execute(store, dup3, Op(GET, "k", None, 7, 2))
    assert read == kv.Outcome(True, "x") and reread == kv.Outcome(False, "x")
    assert kv.execute((), (), Op(GET, "absent", None, 1, 1))[2].output == ""
    assert kv.execute(store, dup, NOOP_OP) == (store, dup, kv.Outcome(False, None))


def run_state() -> State:
    """A small behaviour: c0 appends 'x' (a retry puts it in the log twice), c1 reads it;
    replica 0 applied all three entries, replica 1 the first two."""
    log = (Op(APPEND, "k", "x", 0, 1), Op(APPEND, "k", "x", 0, 1), Op(GET, "k", None, 1, 1))
    m1 = Machine(1, (("k", "x"),), ((0, 1),))
    m3 = Machine(3, (("k", "x"),), ((0, 1), (1, 1)))
    return State(
        log=log, replicas=(m3, Machine(2, m1.store, m1.dup)), clerks=(
            kv.Clerk(1, False, -1), kv.Clerk(1, False, -1)), replies=frozenset(),
        seen=((m1.store, m1.dup), (m1.store, m1.dup), (m3.store, m3.dup)),
        calls=(Call(log[0], 0, True, None), Call(log[2], 2, True, "x")),
        effects=frozenset({Effect(0, 1, 1, True), Effect(0, 1, 2, False),
                           Effect(1, 1, 3, True)}))


CONFIG = kv.Config(calls=(((APPEND, "k", "x"),), ((GET, "k", None),)))


def broken(state: State) -> list[str]:
    return [name for name, holds in kv.INVARIANTS.items() if not holds(CONFIG, state)]


def test_each_property_judges_hand_made_states_as_its_words_say() -> None:
    good = run_state()
    assert broken(good) == []
    # A replica at index 2 whose store differs from the first replica's there.
    diverged = replace(good, replicas=(good.replicas[0], Machine(2, (("k", "xx"),), ((0, 1),))))
    assert broken(diverged) == ["ReplicasAgree"]
    # The retry executed as well.
    twice = replace(good, effects=good.effects - {Effect(0, 1, 2, False)}
                    | {Effect(0, 1, 2, True)})
    assert broken(twice) == ["NoCallAppliedTwice"]
    # The read answered something the log never made at index 3.
    wrong = replace(good, calls=(good.calls[0], Call(good.log[2], 2, True, "xx")))
    assert broken(wrong) == ["ReplyMatchesState"]
    # A write acknowledged but applied nowhere.
    unapplied = replace(good, effects=frozenset({Effect(1, 1, 3, True)}))
    assert "ReplyMatchesState" in broken(unapplied)
    # A replica that applied past the acknowledged write, without it in its table.
    lost = replace(good, replicas=(good.replicas[0], Machine(2, (("k", "x"),), ())))
    assert set(broken(lost)) == {"ReplicasAgree", "NoAckedWriteLost"}
    # The read took effect at index 1, below the commit index (2) when it was invoked.
    stale = replace(good, effects=good.effects | {Effect(1, 1, 1, False, read=True)})
    assert broken(stale) == ["NoStaleRead"]


def test_the_view_of_a_state_is_the_log_replayed() -> None:
    state = run_state()
    view = kv.StateView(CONFIG, state)
    assert view.value_at(0, "k") is None and view.value_at(3, "k") == "x"
    assert view.first_at(0) == ((), ()) and view.first_at(4) is None
    assert view.acked_through(0, 0) == 0 and view.acked_through(0, 1) == 1
    assert [e.index for e in sorted(view.effects_of(0, 1))] == [1, 2]
