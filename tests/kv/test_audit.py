"""The audit of key/value histories: the witness check (a claimed order verified as a
linearization) against the search, its naive twin (STYLE.md point 9), and the rule that a
witness never stands in for a search that found a violation."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.kv_audit import SEARCH, WITNESS, audit, verify_order
from checker.linearizability import KV, Operation, check, history
from checker.verdict import Verdict
from impl.kv.history import History


def op(client: int, f: str, key: str, value: str | None, call: int, ret: int | None,
       output: str | None = None) -> Operation:
    return Operation(client=client, input=(f, key, value), output=output, call=call, ret=ret,
                     output_known=ret is not None)


@st.composite
def histories(draw: st.DrawFn) -> list[Operation]:
    """Up to 6 calls on two keys, with overlapping spans and arbitrary read outputs."""
    ops = []
    for client in range(draw(st.integers(1, 6))):
        f = draw(st.sampled_from(["get", "put", "append"]))
        key = draw(st.sampled_from("ab"))
        call = draw(st.integers(0, 20))
        ret = None if draw(st.integers(0, 5)) == 0 else call + draw(st.integers(0, 10))
        value = None if f == "get" else draw(st.sampled_from(["x", "y"]))
        output = draw(st.sampled_from(["", "x", "y", "xy", "yx"])) if f == "get" else None
        ops.append(op(client, f, key, value, call, ret, output))
    return list(history(ops))  # numbered, as the checker expects


@settings(max_examples=300, deadline=None)
@given(histories(), st.data())
def test_a_verified_order_means_the_search_finds_the_history_linearizable(
        ops: list[Operation], data: st.DataObject) -> None:
    position = data.draw(st.permutations(range(len(ops))))
    placed: list[int | None] = list(position)
    for i, o in enumerate(ops):  # a call that never returned may be left out
        if o.ret is None and data.draw(st.booleans()):
            placed[i] = None
    if verify_order(ops, placed) is None:
        assert check(ops, KV).verdict is Verdict.OK


@settings(max_examples=200, deadline=None)
@given(histories())
def test_the_search_finds_ok_iff_some_order_verifies(ops: list[Operation]) -> None:
    """The naive twin: try every order (and every subset of unreturned calls)."""
    n = len(ops)
    unreturned = [i for i, o in enumerate(ops) if o.ret is None]
    found = False
    for drop in itertools.product([False, True], repeat=len(unreturned)):
        left_out = {i for i, d in zip(unreturned, drop, strict=True) if d}
        for order in itertools.permutations([i for i in range(n) if i not in left_out]):
            position: list[int | None] = [None] * n
            for rank, i in enumerate(order):
                position[i] = rank
            if verify_order(ops, position) is None:
                found = True
                break
        if found:
            break
    assert (check(ops, KV).verdict is Verdict.OK) == found


def test_verify_order_names_what_is_wrong() -> None:
    ops = list(history([op(0, "put", "k", "a", 0, 10),
                        op(1, "get", "k", None, 20, 30, output="a"),
                        op(2, "append", "k", "b", 40, None)]))
    assert verify_order(ops, [1, 2, None]) is None
    assert "returned but is not in the order" in (verify_order(ops, [1, None, None]) or "")
    writes = list(history([op(0, "put", "k", "a", 0, 10), op(1, "put", "k", "b", 20, 30)]))
    assert "called after it returned" in (verify_order(writes, [2, 1]) or "")
    wrong = [op(0, "put", "k", "a", 0, 10), op(1, "get", "k", None, 20, 30, output="b")]
    assert "the model returns 'a'" in (verify_order(wrong, [1, 2]) or "")


def history_of(calls: list[tuple[int, str, str, str | None, int, int | None, str | None]]
               ) -> History:
    h = History()
    events = []
    for clerk, f, key, value, call, ret, output in calls:
        events.append((call, 0, clerk, f, key, value, output))
        if ret is not None:
            events.append((ret, 1, clerk, f, key, value, output))
    for time, kind, clerk, f, key, value, output in sorted(events):
        if kind == 0:
            h.invoke(clerk, 1, f, key, value, time=time)
        else:
            h.complete(clerk, output, time=time)
    return h


def test_the_witness_decides_only_when_the_search_runs_out_and_only_if_it_verifies() -> None:
    ok = history_of([(0, "put", "k", "a", 0, 10, None), (1, "get", "k", None, 20, 30, "a")])
    good = {(0, 1): 1, (1, 1): 2}
    bad = {(0, 1): 2, (1, 1): 1}  # the get before the put: does not explain "a"
    assert audit(ok, good).how == SEARCH  # the search decided: no need for a witness
    # A budget too small for any search: the witness is tried, and verified.
    ran_out = audit(ok, good, search_budget=1e-9)
    if ran_out.result.verdict is Verdict.UNKNOWN:
        assert (ran_out.verdict, ran_out.how) == (Verdict.OK, WITNESS)
        bad_witness = audit(ok, bad, search_budget=1e-9)
        assert bad_witness.verdict is Verdict.UNKNOWN and bad_witness.witness_problem
    # A violation stands, whatever witness is offered.
    stale = history_of([(0, "put", "k", "a", 0, 10, None), (1, "put", "k", "b", 20, 30, None),
                        (2, "get", "k", None, 40, 50, "a")])
    assert audit(stale, {(0, 1): 1, (1, 1): 2, (2, 1): 3}).verdict is Verdict.VIOLATION
