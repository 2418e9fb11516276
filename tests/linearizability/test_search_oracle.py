"""The search against its naive twin (`checker.linearizability.confirm`: every order
consistent with real time, tried one by one) on small generated histories (Hypothesis).

Histories are built from a sequential run with a linearization point inside each call's
span, so that, untouched, they are linearizable. The agreement tests then sometimes change
one output to a plausible wrong value (so many are not linearizable); two tests fix the
choice: one never tampers, one always gives an output no model can produce. Calls may never
return or return with an unknown output.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.linearizability import CAS_REGISTER, KV, REGISTER, Model, Operation, check
from checker.linearizability.confirm import naive_linearizable, replay_prefix
from checker.verdict import Verdict

FUNCTIONS = {
    "register": ("read", "write"),
    "cas-register": ("read", "write", "cas"),
    "kv": ("get", "put", "append"),
}


def _input(f: str, key: Any, v: int, w: int) -> tuple[str, Any, Any]:
    if f in ("read", "get"):
        return (f, key, None)
    if f == "cas":
        return (f, key, (v, w))
    if f in ("put", "append"):
        return (f, key, "ab"[v % 2] if f == "append" else str(v))
    return (f, key, v)


SOMETIMES = st.booleans()


@st.composite
def histories(draw: st.DrawFn, model: Model, max_ops: int = 7,
              tamper: st.SearchStrategy[bool] = SOMETIMES) -> list[Operation]:
    """A history of up to `max_ops` calls, linearizable as built; then, if `tamper` draws
    True, one output changed to a plausible value (which may or may not break it)."""
    n = draw(st.integers(1, max_ops))
    spans = []
    for i in range(n):
        call = draw(st.integers(0, 12))
        ret = None if draw(st.integers(0, 9)) == 0 else call + draw(st.integers(0, 8))
        f = draw(st.sampled_from(FUNCTIONS[model.name]))
        key = draw(st.sampled_from(["x", "y"])) if model is KV else None
        inp = _input(f, key, draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        # A linearization point in the span; a call that never returned may never happen.
        point = call + draw(st.integers(0, 8 if ret is None else ret - call)) + i / 100
        happens = ret is not None or draw(st.booleans())
        spans.append((point, happens, i, call, ret, inp))
    outputs: dict[int, Any] = {}
    state: dict[Any, Any] = {}
    for _point, happens, i, _call, _ret, inp in sorted(spans):
        if happens:
            key = inp[1]
            state[key], outputs[i] = model.step(state.get(key, model.init()), inp)
    ops = []
    for _point, _happens, i, call, ret, inp in sorted(spans, key=lambda s: s[2]):
        known = ret is not None and draw(st.integers(0, 7)) > 0
        ops.append(
            Operation(client=i, input=inp, output=outputs.get(i), call=call, ret=ret, output_known=known, index=i)
        )
    if draw(tamper):
        i = draw(st.integers(0, n - 1))
        op = ops[i]
        wrong = draw(st.sampled_from([None, 0, 1, 2, True, False, "", "a", "ab", "ba", "1"]))
        ops[i] = Operation(
            client=op.client, input=op.input, output=wrong, call=op.call, ret=op.ret,
            output_known=op.output_known, index=i,
        )
    return ops


def _agrees(ops: list[Operation], model: Model, **options: Any) -> None:
    expected = naive_linearizable(ops, model.unpartitioned())
    result = check(ops, model, **options)
    assert result.verdict is (Verdict.OK if expected else Verdict.VIOLATION), ops
    for part in result.partitions:
        ignored = {op.index for op in part.ignored}
        constraining = [op for op in part.operations if op.index not in ignored]
        whole = not options.get("partitioned", True)
        replay_prefix([p.op for p in part.linearization], constraining,
                      model.unpartitioned() if whole else model)
    if not expected:
        # The evidence: in some failing part, nothing can follow the longest prefix, or the
        # model's cheap proof names the calls it rests on (each a call of that part).
        assert result.failing and all(
            p.refusals or p.must_precede or (p.refutation and p.witnesses)
            for p in result.failing
        )
        for p in result.failing:
            assert set(p.witnesses) <= set(p.operations)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(histories(REGISTER))
def test_register_agrees_with_the_oracle(ops: list[Operation]) -> None:
    _agrees(ops, REGISTER)


@SETTINGS
@given(histories(CAS_REGISTER))
def test_cas_register_agrees_with_the_oracle(ops: list[Operation]) -> None:
    _agrees(ops, CAS_REGISTER)


@SETTINGS
@given(histories(KV))
def test_kv_partitioned_agrees_with_the_oracle(ops: list[Operation]) -> None:
    _agrees(ops, KV)


@SETTINGS
@given(histories(KV))
def test_kv_partitioned_and_unpartitioned_agree(ops: list[Operation]) -> None:
    whole = check(ops, KV, partitioned=False)
    parts = check(ops, KV)
    assert whole.verdict is parts.verdict
    _agrees(ops, KV, partitioned=False)


# An output none of the models can give: kv values are strings of 0-2, a and b; registers
# hold None or 0-2; cas answers a bool; writes, puts and appends answer None.
IMPOSSIBLE = "no model returns this"


@st.composite
def with_an_impossible_output(draw: st.DrawFn, model: Model) -> list[Operation]:
    """An untampered history in which one call returns IMPOSSIBLE (a call that never returned
    is made to return at once): no order can explain it."""
    ops = draw(histories(model, tamper=st.just(False)))
    i = draw(st.integers(0, len(ops) - 1))
    op = ops[i]
    ops[i] = Operation(
        client=op.client, input=op.input, output=IMPOSSIBLE, call=op.call,
        ret=op.call if op.ret is None else op.ret, output_known=True, index=i,
    )
    return ops


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_generated_history_without_tampering_is_linearizable(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from([REGISTER, CAS_REGISTER, KV]))
    ops = data.draw(histories(model, tamper=st.just(False)))
    assert naive_linearizable(ops, model.unpartitioned())
    assert check(ops, model).verdict is Verdict.OK
    _agrees(ops, model)  # and every part's linearization replays through the model


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_history_with_an_output_no_model_gives_is_not_linearizable(
        data: st.DataObject) -> None:
    model = data.draw(st.sampled_from([REGISTER, CAS_REGISTER, KV]))
    ops = data.draw(with_an_impossible_output(model))
    assert not naive_linearizable(ops, model.unpartitioned())
    assert check(ops, model).verdict is Verdict.VIOLATION
    _agrees(ops, model)  # and the evidence: nothing can follow the longest prefix


@pytest.mark.campaign
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_campaign_larger_histories_agree_with_the_oracle(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from([REGISTER, CAS_REGISTER, KV]))
    ops = data.draw(histories(model, max_ops=9))
    _agrees(ops, model)
