"""The search against the brute-force oracle on small generated histories (Hypothesis).

Histories are built from a sequential run with a linearization point inside each call's
span (so many are linearizable), then sometimes one output is changed (so many are not).
Calls may never return or return with an unknown output.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.linearizability import CAS_REGISTER, KV, REGISTER, Model, Operation, check
from checker.verdict import Verdict

from .oracle import check_prefix, linearizable

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


@st.composite
def histories(draw: st.DrawFn, model: Model, max_ops: int = 7) -> list[Operation]:
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
    if draw(st.booleans()):  # tamper with one output
        i = draw(st.integers(0, n - 1))
        op = ops[i]
        wrong = draw(st.sampled_from([None, 0, 1, 2, True, False, "", "a", "ab", "ba", "1"]))
        ops[i] = Operation(
            client=op.client, input=op.input, output=wrong, call=op.call, ret=op.ret,
            output_known=op.output_known, index=i,
        )
    return ops


def _agrees(ops: list[Operation], model: Model, **options: Any) -> None:
    expected = linearizable(ops, model.unpartitioned())
    result = check(ops, model, **options)
    assert result.verdict is (Verdict.OK if expected else Verdict.VIOLATION), ops
    for part in result.partitions:
        ignored = {op.index for op in part.ignored}
        constraining = [op for op in part.operations if op.index not in ignored]
        check_prefix([p.op for p in part.linearization], constraining, model.unpartitioned() if not options.get("partitioned", True) else model)
    if not expected:
        # The evidence: in some failing part, nothing can follow the longest prefix.
        assert result.failing and all(p.refusals or p.must_precede for p in result.failing)


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


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_generated_history_without_tampering_is_linearizable(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from([REGISTER, CAS_REGISTER, KV]))
    ops = data.draw(histories(model))
    if linearizable(ops, model.unpartitioned()):
        assert check(ops, model).verdict is Verdict.OK


@pytest.mark.campaign
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_campaign_larger_histories_agree_with_the_oracle(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from([REGISTER, CAS_REGISTER, KV]))
    ops = data.draw(histories(model, max_ops=9))
    _agrees(ops, model)
