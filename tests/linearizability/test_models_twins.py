"""Every model, its search and its shortcuts, against the naive twins (tests/linearizability/
naive_models.py: plain-Python replays of each object and every order consistent with real
time) on small generated histories (Hypothesis).

What is held to the twin: the verdict of `check` (partitioned where the model splits); the
cheap refutation of each model (when it fires, the twin finds no order); the calls a model
calls needless (leaving them out changes no verdict of the twin); and the evidence of each
verdict (an OK linearization, or a VIOLATION's longest prefix, replays through the model).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.linearizability import MODELS, Operation, check
from checker.linearizability.check import in_model_terms, partitions
from checker.linearizability.confirm import replay_prefix
from checker.verdict import Verdict
from tests.linearizability.naive_models import generated, naive_linearizable, tampered

NAMES = sorted(MODELS)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def histories(draw: st.DrawFn, model: str, tamper: bool | None = None) -> list[Operation]:
    ops = draw(generated(model))
    if tamper if tamper is not None else draw(st.booleans()):
        ops = tampered(draw, model, ops)
    return ops


@pytest.mark.parametrize("proofs", [True, False], ids=["with-refutation", "search-only"])
@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_check_agrees_with_the_naive_twin(name: str, proofs: bool, data: st.DataObject) -> None:
    """With the model's cheap proofs, and without them (so that the search itself meets the
    violations they would catch first: every log violation here, for one)."""
    ops = data.draw(histories(name))
    model = MODELS[name] if proofs else replace(MODELS[name], refute=None)
    expected = naive_linearizable(ops, name)
    result = check(ops, model)
    assert result.verdict is (Verdict.OK if expected else Verdict.VIOLATION), ops
    for part in result.partitions:
        left_out = {id(op) for op in part.ignored}
        rest = [op for op in part.operations if id(op) not in left_out]  # in model terms
        replay_prefix([p.op for p in part.linearization], rest, model)
        if part.verdict is Verdict.OK:  # every call that returned is placed
            placed = {id(p.op) for p in part.linearization}
            assert all(id(op) in placed for op in rest if op.ret is not None)
    if not expected:
        assert all(p.refusals or p.must_precede or p.refutation for p in result.failing)


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_an_untampered_history_is_linearizable(name: str, data: st.DataObject) -> None:
    ops = data.draw(histories(name, tamper=False))
    assert naive_linearizable(ops, name)
    assert check(ops, MODELS[name]).verdict is Verdict.OK


@pytest.mark.parametrize("name", [n for n in NAMES if MODELS[n].refute is not None])
@SETTINGS
@given(data=st.data())
def test_a_refutation_is_a_proof(name: str, data: st.DataObject) -> None:
    model = MODELS[name]
    assert model.refute is not None
    ops = in_model_terms(data.draw(histories(name)), model)
    for _key, part in partitions(ops, model):
        live = [op for op in part
                if (op.output_known and op.ret is not None) or not model.drops(op.input)]
        found = model.refute(live)
        if found is not None:
            assert not naive_linearizable(list(part), name), found[0]
            assert found[1] and all(0 <= i < len(live) for i in found[1])


@pytest.mark.parametrize("name", [n for n in NAMES if MODELS[n].needless is not None])
@SETTINGS
@given(data=st.data())
def test_needless_calls_change_no_verdict(name: str, data: st.DataObject) -> None:
    model = MODELS[name]
    assert model.needless is not None
    ops = in_model_terms(data.draw(histories(name)), model)
    for _key, part in partitions(ops, model):
        needless = model.needless(part)  # the checker leaves out only those never returned
        kept = [op for i, op in enumerate(part) if not (i in needless and op.ret is None)]
        assert naive_linearizable(kept, name) == naive_linearizable(list(part), name)


def _op(client: int, inp: tuple[str, Any, Any], out: Any, call: float, ret: float | None,
        known: bool = True) -> Operation:
    return Operation(client=client, input=inp, output=out, call=call, ret=ret, output_known=known)


def test_two_holders_of_a_mutex_are_not_linearizable() -> None:
    a = _op(0, ("acquire", None, None), None, 0, 1)
    b = _op(1, ("acquire", None, None), None, 2, 3)
    assert check([a, b], MODELS["mutex"]).verdict is Verdict.VIOLATION
    r = _op(0, ("release", None, None), None, 1.5, 1.8)
    assert check([a, r, b], MODELS["mutex"]).verdict is Verdict.OK


def test_a_pending_acquire_may_never_have_happened() -> None:
    a = _op(0, ("acquire", None, None), None, 0, None, known=False)
    b = _op(1, ("acquire", None, None), None, 2, 3)
    assert check([a, b], MODELS["mutex"]).verdict is Verdict.OK


def test_multi_register_splits_into_the_groups_of_keys_transactions_join() -> None:
    w = _op(0, ("txn", None, (("w", "x", 1), ("w", "y", 1))), (("w", "x", 1), ("w", "y", 1)), 0, 1)
    r = _op(1, ("txn", None, (("r", "z", None),)), (("r", "z", None),), 0, 1)
    parts = partitions([w, r], MODELS["multi-register"])
    assert [key for key, _ops in parts] == [("x", "y"), ("z",)]


def test_a_fifo_queue_hands_out_its_head_first() -> None:
    e1 = _op(0, ("enqueue", None, 1), None, 0, 1)
    e2 = _op(0, ("enqueue", None, 2), None, 2, 3)
    d = _op(1, ("dequeue", None, 2), 2, 4, 5)
    assert check([e1, e2, d], MODELS["fifo-queue"]).verdict is Verdict.VIOLATION
    assert check([e1, e2, d], MODELS["unordered-queue"]).verdict is Verdict.OK


def test_a_set_read_recorded_as_a_list_is_a_set() -> None:
    add = _op(0, ("add", None, 1), None, 0, 1)
    add2 = _op(1, ("add", None, 2), None, 0, 1)
    read = _op(2, ("read", None, None), (2, 1), 2, 3)
    assert check([add, add2, read], MODELS["set"]).verdict is Verdict.OK


def test_a_queue_refutes_an_element_never_enqueued() -> None:
    e = _op(0, ("enqueue", None, 1), None, 0, 1)
    d = _op(1, ("dequeue", None, 2), 2, 2, 3)
    for name in ("fifo-queue", "unordered-queue"):
        part = check([e, d], MODELS[name]).partitions[0]
        assert part.verdict is Verdict.VIOLATION
        assert part.refutation == "2 was dequeued but it was never enqueued"
        assert part.witnesses == (d,)


def test_replaying_a_prefix_that_breaks_real_time_is_a_checker_bug() -> None:
    from checker.linearizability.confirm import CheckerBug

    first = _op(0, ("write", None, 1), None, 0, 1)
    second = _op(1, ("write", None, 2), None, 2, 3)
    replay_prefix([first, second], [first, second], MODELS["register"])
    with pytest.raises(CheckerBug, match="which returned first"):
        replay_prefix([second, first], [first, second], MODELS["register"])
    read = _op(2, ("read", None, None), 5, 4, 5)
    with pytest.raises(CheckerBug, match="the model returns 2"):
        replay_prefix([first, second, read], [first, second, read], MODELS["register"])
