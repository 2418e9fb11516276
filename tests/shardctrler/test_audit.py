"""The controller's history audit (checker/shardctrler/audit.py) against the spec taken one
call at a time: it accepts what a sequential controller could answer, and nothing else."""

from __future__ import annotations

from checker.shardctrler.audit import audit, operations, verify_order
from checker.verdict import Verdict
from impl.shardctrler.labtester import CtrlCall
from spec import shardctrler as spec

JOIN1 = ((1, ("a",)),)
JOIN2 = ((2, ("b",)),)


def test_queries_that_reflect_every_completed_change_are_linearizable() -> None:
    c1 = spec.run([spec.Join(JOIN1)])[-1]
    calls = [CtrlCall(1, 1, "join", JOIN1, 0, 10, None),
             CtrlCall(2, 1, "query", -1, 20, 30, c1),
             CtrlCall(1, 2, "join", JOIN1, 40, 50, "group 1 has already joined")]
    assert audit(calls).verdict is Verdict.OK


def test_a_stale_query_is_a_violation() -> None:
    calls = [CtrlCall(1, 1, "join", JOIN1, 0, 10, None),
             CtrlCall(2, 1, "query", -1, 20, 30, spec.initial())]  # misses the completed join
    assert audit(calls).verdict is Verdict.VIOLATION


def test_a_rebalancing_the_spec_would_not_make_is_a_violation() -> None:
    history = spec.run([spec.Join(JOIN1), spec.Join(JOIN2)])
    wrong = spec.Configuration(2, (2,) * 5 + (1,) * 5, history[-1].groups)
    assert wrong != history[-1]
    calls = [CtrlCall(1, 1, "join", JOIN1, 0, 10, None),
             CtrlCall(1, 2, "join", JOIN2, 20, 30, None),
             CtrlCall(1, 3, "query", -1, 40, 50, wrong)]
    assert audit(calls).verdict is Verdict.VIOLATION


def test_concurrent_joins_may_take_effect_in_either_order_and_a_pending_one_or_not() -> None:
    both = spec.run([spec.Join(JOIN2), spec.Join(JOIN1)])[-1]
    calls = [CtrlCall(1, 1, "join", JOIN1, 0, 30, None),
             CtrlCall(2, 1, "join", JOIN2, 5, 25, None),
             CtrlCall(3, 1, "query", -1, 40, 50, both),
             CtrlCall(4, 1, "leave", (2,), 45, None, None)]  # in flight at the end
    assert audit(calls).verdict is Verdict.OK


def test_the_witness_is_verified_never_trusted() -> None:
    c1 = spec.run([spec.Join(JOIN1)])[-1]
    calls = [CtrlCall(1, 1, "join", JOIN1, 0, 10, None),
             CtrlCall(2, 1, "query", -1, 20, 30, c1)]
    ops = operations(calls)
    assert verify_order(ops, [1, 2]) is None
    problem = verify_order(ops, [2, 1])  # the query placed before the join it reflects
    assert problem is not None and "the model returns" in problem
    overlap = operations([calls[0], CtrlCall(2, 1, "query", -1, 20, 30, spec.initial())])
    backwards = verify_order(overlap, [2, 1])  # a stale read placed first: real time says no
    assert backwards is not None and "placed after" in backwards
    stale = verify_order(operations([calls[0], CtrlCall(2, 1, "query", -1, 20, 30,
                                                        spec.initial())]), [1, 2])
    assert stale is not None and "the model returns" in stale
    assert verify_order(ops, [1, None]) is not None  # a returned call must be placed
