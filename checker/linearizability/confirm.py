"""Re-validating a reported violation before it is reported (DESIGN.md section 4).

The longest prefix is replayed through the model with its real-time order checked, and a
failing part small enough is re-decided by a naive search over every order consistent with
real time (no memo, no bitsets, no pruning). A disagreement is a bug of the checker, never a
verdict: it raises instead of reporting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.linearizability.history import Operation
from checker.linearizability.result import PartitionResult
from spec.sequential import Model

NAIVE_LIMIT = 8  # operations: 8! orders at most


class CheckerBug(AssertionError):
    """The fast search and its naive twin disagree."""


def confirm_violation(part: PartitionResult, model: Model) -> None:
    ignored = {op.index for op in part.ignored}
    ops = [op for op in part.operations if op.index not in ignored]
    _replay_prefix([p.op for p in part.linearization], ops, model)
    if len(ops) <= NAIVE_LIMIT and _naive_linearizable(ops, model):
        raise CheckerBug(
            f"part {part.key!r}: reported not linearizable, but a naive search linearizes it"
        )


def _replay_prefix(prefix: Sequence[Operation], ops: Sequence[Operation], model: Model) -> None:
    state = model.init()
    placed: set[int] = set()
    for op in prefix:
        state, out = model.step(state, op.input)
        if op.output_known and op.ret is not None and out != op.output:
            raise CheckerBug(f"prefix places {op.describe()} where the model returns {out!r}")
        placed.add(op.index)
        for other in ops:
            if other.index not in placed and other.ret is not None and other.ret < op.call:
                raise CheckerBug(f"prefix places {op.describe()} before {other.describe()}")


def _naive_linearizable(ops: Sequence[Operation], model: Model) -> bool:
    def extend(remaining: frozenset[int], state: Any) -> bool:
        if all(ops[i].ret is None for i in remaining):
            return True
        for i in remaining:
            op = ops[i]
            if any(_returned_before(ops[j], op.call) for j in remaining if j != i):
                continue
            new_state, out = model.step(state, op.input)
            if op.output_known and op.ret is not None and out != op.output:
                continue
            if extend(remaining - {i}, new_state):
                return True
        return False

    return extend(frozenset(range(len(ops))), model.init())


def _returned_before(op: Operation, time: float) -> bool:
    return op.ret is not None and op.ret < time
