"""The naive twin of the search: try every order consistent with real time (STYLE.md 9).

No memo, no bitsets, no pruning: an operation may go next iff no other remaining operation
returned before it was called; a known output must equal the model's; calls that never
returned may be left out. Exponential, so only for histories of a handful of operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.linearizability import Model, Operation


def linearizable(ops: Sequence[Operation], model: Model) -> bool:
    def extend(remaining: frozenset[int], state: Any) -> bool:
        if all(ops[i].ret is None for i in remaining):
            return True  # the rest never returned: they may never take effect
        for i in remaining:
            op = ops[i]
            if any(
                ops[j].ret is not None and ops[j].ret < op.call for j in remaining if j != i
            ):
                continue
            new_state, out = model.step(state, op.input)
            if op.output_known and op.ret is not None and out != op.output:
                continue
            if extend(remaining - {i}, new_state):
                return True
        return False

    return extend(frozenset(range(len(ops))), model.init())


def check_prefix(prefix: Sequence[Operation], history: Sequence[Operation], model: Model) -> Any:
    """Assert that `prefix` is a legal start of a linearization of `history`; its end state."""
    placed = {op.index for op in prefix}
    state = model.init()
    for op in prefix:
        state, out = model.step(state, op.input)
        if op.output_known and op.ret is not None:
            assert out == op.output, f"{op.describe()} placed where the model returns {out!r}"
        for other in history:
            if other.index not in placed and other.ret is not None:
                assert not other.ret < op.call, (
                    f"{op.describe()} placed before {other.describe()}, which returned first"
                )
    return state
