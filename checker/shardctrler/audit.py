"""Auditing a shard controller run: its clerks' calls, checked for linearizability against
the controller's own spec taken one call at a time (spec.sequential_shardctrler's `shardctrler` model:
the state is the history of configurations, a call is applied by spec.shardctrler.apply).

A controller whose Query(-1) misses a Join that completed before it was received, or whose
replicas rebalanced differently, or that applied a change twice, produces a history no
sequential controller explains. Calls still in flight at the end of a run have unknown
outcomes: they may take effect at any time after their invoke, or never.

As for the key/value service (checker/kv_audit.py), two exact procedures decide a history:
the search, and — only if the search runs out of its budget — the order in which the
controller applied the calls (their log indexes), verified as a linearization: every call
that returned is in it, none is placed after a call that was invoked after it returned, and
the model, replayed along it, gives every recorded output. The search struggles when many
changes overlap (a clerk stuck on a crashed server for a whole time-out while others make
dozens of calls): until a query pins the configuration down, the orders of the changes give
different histories and nothing prunes them. A violation comes only from the search; an
exhausted budget with a witness that does not verify is UNKNOWN.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from checker.linearizability import LinResult, Operation, check
from checker.linearizability import history as numbered
from checker.verdict import Verdict
from impl.shardctrler.labtester import CtrlCall
from spec.sequential_shardctrler import SHARDCTRLER

SEARCH = "search"
WITNESS = "witness"


def operations(calls: Sequence[CtrlCall]) -> list[Operation]:
    """The calls as operations of the shardctrler model, in invocation order, numbered."""
    return list(numbered([Operation(client=c.clerk, input=(c.f, None, c.arg), output=c.output,
                                    call=c.invoked, ret=c.returned,
                                    output_known=c.returned is not None)
                          for c in calls]))


def verify_order(ops: Sequence[Operation], position: Sequence[int | None]) -> str | None:
    """Is placing each operation with a position in that order (the others nowhere) a
    linearization of `ops` under the shardctrler model? None if so, else why not."""
    for op, pos in zip(ops, position, strict=True):
        if pos is None and op.ret is not None:
            return f"{op.describe()} returned but is not in the order"
    placed = sorted((pos, i) for i, pos in enumerate(position) if pos is not None)
    state = SHARDCTRLER.init()
    latest_call: Operation | None = None
    for _pos, i in placed:
        op = ops[i]
        if latest_call is not None and op.ret is not None and op.ret < latest_call.call:
            return (f"{op.describe()} is placed after {latest_call.describe()}, which was "
                    "called after it returned")
        if latest_call is None or op.call > latest_call.call:
            latest_call = op
        state, output = SHARDCTRLER.step(state, op.input)
        if op.output_known and output != op.output:
            return f"{op.describe()}: the model returns {output!r} at its place"
    return None


@dataclass(frozen=True, slots=True)
class Audit:
    verdict: Verdict
    how: str  # SEARCH: the search decided; WITNESS: the budget ran out, the witness held
    result: LinResult  # the search's result (UNKNOWN when its budget ran out)
    witness_problem: str | None  # why the witness did not verify, if it was tried and failed
    operations: int
    seconds: float


def audit(calls: Sequence[CtrlCall], witness: Mapping[tuple[int, int], int] | None = None,
          search_budget: float | None = None) -> Audit:
    """Check the calls against the shardctrler model: the search, within `search_budget`
    seconds (None: no limit); then, if it ran out, the `witness` ((clerk, seq) -> index)."""
    started = time.perf_counter()
    ops = operations(calls)
    result = check(ops, SHARDCTRLER, timeout=search_budget)
    verdict, how, problem = result.verdict, SEARCH, None
    if verdict is Verdict.UNKNOWN and witness is not None:
        problem = verify_order(ops, [witness.get((c.clerk, c.seq)) for c in calls])
        if problem is None:
            verdict, how = Verdict.OK, WITNESS
    return Audit(verdict=verdict, how=how, result=result, witness_problem=problem,
                 operations=len(ops), seconds=time.perf_counter() - started)
