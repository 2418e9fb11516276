"""Auditing a key/value run: its clients' history, checked for linearizability (kv model).

A run of the key/value service on the simulator (impl.kv) records every clerk call. Calls
still in flight when the run ended were settled from what the servers executed where
possible (impl.kv.history); the rest have unknown outcomes: they may take effect at any time
after their invoke, or never (`ret=None`, any output).

Two exact procedures decide a history:

1. The search (checker.linearizability, Wing & Gong with Lowe's memo) over the kv model.
   It decides almost every history of the lab's scenarios in milliseconds.
2. A witness: the order the servers applied the calls in (their log indexes), verified as a
   linearization — every call that returned is in it, no call is placed after one that was
   called after it returned, and replaying the kv model along it gives every recorded
   output. A verified witness proves linearizability; it is checked, never trusted.

The search is hopeless on some histories that are plainly fine: TestUnreliableOneKey3A has
five clients appending 50 values to one key and a single get at the end, so until that get
nothing prunes the orders of the appends (the lab leaves those calls out of its Porcupine
check). So `audit` runs the search within `search_budget` seconds and, only if that budget
runs out, verifies the witness. A violation comes only from the search; an exhausted budget
with a witness that does not verify is UNKNOWN — which a scenario test treats as a failure,
never as a pass.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checker.linearizability import KV, LinResult, Operation, check
from checker.linearizability import history as numbered
from checker.verdict import Verdict
from impl.kv.history import History

SEARCH = "search"
WITNESS = "witness"


def operations(history: History) -> list[Operation]:
    """The history's calls as operations of the `kv` model, in invocation order, numbered."""
    return list(numbered([Operation(client=call.clerk, input=(call.f, call.key, call.value),
                                    output=call.output, call=call.invoked, ret=call.returned,
                                    output_known=call.returned is not None)
                          for call in history.calls]))


def verify_order(ops: Sequence[Operation], position: Sequence[int | None]) -> str | None:
    """Is placing each operation with a position in that order (the others nowhere) a
    linearization of `ops` under the kv model? None if so, else the first reason why not."""
    for op, pos in zip(ops, position, strict=True):
        if pos is None and op.ret is not None:
            return f"{op.describe()} returned but is not in the order"
    placed = sorted((pos, i) for i, pos in enumerate(position) if pos is not None)
    states: dict[Hashable, Any] = {}
    latest_call: Operation | None = None
    for _pos, i in placed:
        op = ops[i]
        if latest_call is not None and op.ret is not None and op.ret < latest_call.call:
            return (f"{op.describe()} is placed after {latest_call.describe()}, which was "
                    "called after it returned")
        if latest_call is None or op.call > latest_call.call:
            latest_call = op
        assert KV.partition is not None
        key = KV.partition(op.input)
        state, output = KV.step(states.get(key, KV.init()), op.input)
        if op.output_known and output != op.output:
            return f"{op.describe()}: the model returns {output!r} at its place"
        states[key] = state
    return None


@dataclass(frozen=True, slots=True)
class Audit:
    verdict: Verdict
    how: str  # SEARCH: the search decided; WITNESS: the budget ran out, the witness held
    result: LinResult  # the search's result (UNKNOWN when its budget ran out)
    witness_problem: str | None  # why the witness did not verify, if it was tried and failed
    operations: int
    unknown: int  # calls with unknown outcomes (in flight at the end, never executed)
    settled: int  # calls in flight at the end whose outcome the servers established
    seconds: float  # wall time of the whole audit


def audit(history: History, witness: Mapping[tuple[int, int], int] | None = None,
          search_budget: float | None = None) -> Audit:
    """Check `history` against the kv model: the search, within `search_budget` seconds
    (None: no limit); then, if it ran out, the `witness` ((clerk, seq) -> its place in the
    servers' order: impl.kv.labtester.KVTester.witness)."""
    started = time.perf_counter()
    ops = operations(history)
    result = check(ops, KV, timeout=search_budget)
    verdict, how, problem = result.verdict, SEARCH, None
    if verdict is Verdict.UNKNOWN and witness is not None:
        position = [witness.get((call.clerk, call.seq)) for call in history.calls]
        problem = verify_order(ops, position)
        if problem is None:
            verdict, how = Verdict.OK, WITNESS
    return Audit(verdict=verdict, how=how, result=result, witness_problem=problem,
                 operations=len(ops),
                 unknown=sum(1 for c in history.calls if c.returned is None),
                 settled=sum(1 for c in history.calls if c.settled),
                 seconds=time.perf_counter() - started)
