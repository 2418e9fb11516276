"""The naive twin of the search, and re-validating a reported violation with it (DESIGN.md
section 5, STYLE.md 9).

Two plain procedures, no memo, no bitsets, no pruning:
- `replay_prefix` steps a claimed linearization through the model: every known output must
  be the model's, and no operation may be placed before one that returned before it was
  called (real-time order);
- `naive_linearizable` tries every order consistent with real time: an operation may go
  next iff no other remaining operation returned before it was called; a known output must
  equal the model's; calls that never returned may be left out. Exponential, so only for
  histories of a handful of operations.

The checker runs both on every violation it is about to report (the longest prefix is
replayed, and a failing part small enough is re-decided): a disagreement is a bug of the
checker, never a verdict, and raises instead of reporting. The tests hold the search to the
same two procedures on generated histories.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.linearizability.history import Operation
from checker.linearizability.result import PartitionResult
from spec.sequential import ILLEGAL, Model

NAIVE_LIMIT = 8  # operations: 8! orders at most


class CheckerBug(AssertionError):
    """The fast search and its naive twin disagree."""


def confirm_violation(part: PartitionResult, model: Model) -> None:
    ignored = {id(op) for op in part.ignored}  # by identity: hand-made ops share index -1
    ops = [op for op in part.operations if id(op) not in ignored]
    replay_prefix([p.op for p in part.linearization], ops, model)
    if len(ops) <= NAIVE_LIMIT and naive_linearizable(ops, model):
        raise CheckerBug(
            f"part {part.key!r}: reported not linearizable, but a naive search linearizes it"
        )


def replay_prefix(prefix: Sequence[Operation], ops: Sequence[Operation], model: Model) -> Any:
    """The model's state after `prefix`, a claimed start of a linearization of `ops`; raises
    `CheckerBug` if it is not one."""
    state = model.init()
    placed: set[int] = set()
    # The calls that returned, earliest return first: the first one not yet placed is the
    # one every later placement must not follow (checking each placement against every
    # call would be quadratic, and prefixes run to thousands of calls).
    by_return = sorted((op for op in ops if op.ret is not None), key=lambda op: op.ret or 0)
    first = 0
    for op in prefix:
        state, out = model.step(state, op.input)
        if out is ILLEGAL or (op.output_known and op.ret is not None and out != op.output):
            raise CheckerBug(f"prefix places {op.describe()} where the model returns {out!r}")
        placed.add(id(op))
        while first < len(by_return) and id(by_return[first]) in placed:
            first += 1
        if first < len(by_return) and _returned_before(by_return[first], op.call):
            raise CheckerBug(f"prefix places {op.describe()} before "
                             f"{by_return[first].describe()}, which returned first")
    return state


def naive_linearizable(ops: Sequence[Operation], model: Model) -> bool:
    def extend(remaining: frozenset[int], state: Any) -> bool:
        if all(ops[i].ret is None for i in remaining):
            return True  # the rest never returned: they may never take effect
        for i in remaining:
            op = ops[i]
            if any(_returned_before(ops[j], op.call) for j in remaining if j != i):
                continue
            new_state, out = model.step(state, op.input)
            if out is ILLEGAL or (op.output_known and op.ret is not None and out != op.output):
                continue
            if extend(remaining - {i}, new_state):
                return True
        return False

    return extend(frozenset(range(len(ops))), model.init())


def _returned_before(op: Operation, time: float) -> bool:
    return op.ret is not None and op.ret < time
