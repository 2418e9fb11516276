"""Histories: the operations a concurrent object was asked to perform, with their time spans.

An operation is one client call: its input, the output it returned, when it was called and
when it returned. Times are any comparable numbers (nanoseconds, line numbers); only their
order matters. Where a call and a return carry the same time, the call is taken to come first
(as Porcupine does): the two operations are then concurrent, which is the weaker claim.

Unknown outcomes (Jepsen's `:info`, a client time-out) are sound in two ways:
- `output_known=False`: the checker accepts any output for the operation;
- `ret=None`: the operation never returned, so it may take effect at any point after its
  call, or never observably (it can always be placed after everything else).

An operation's input is an `Input` of the sequential models (`spec.sequential`): an
`(f, key, value)` triple such as `("append", "k1", "x")`. It must be hashable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Named again here (`as Input`, an explicit re-export) for formats.py, which another branch
# is rewriting; new code imports it from spec.sequential.
from spec.sequential import Input as Input


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """One client call. `ret is None`: no return was seen; `output_known=False`: any output."""

    client: int | str
    input: Input
    output: Any
    call: float
    ret: float | None
    output_known: bool = True
    index: int = -1  # position in the history as read (line order); set by `history(...)`
    line: int | None = None  # line of the file the call came from, for messages

    @property
    def f(self) -> str:
        return self.input[0]

    @property
    def pending(self) -> bool:
        return self.ret is None

    def describe(self) -> str:
        f, key, value = self.input
        args = [] if value is None else [_show(value)]
        where = "" if key is None else f"[{key!r}]"
        out = _show(self.output) if self.output_known else "?"
        if self.ret is None:
            out = "? (no return)"
        return f"c{self.client} {f}{where}({', '.join(args)}) -> {out}"


def _show(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, tuple):
        return "[" + " ".join(_show(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def history(operations: Sequence[Operation]) -> tuple[Operation, ...]:
    """Number operations in the given order and validate their time spans."""
    numbered = []
    for i, op in enumerate(operations):
        if op.ret is not None and op.ret < op.call:
            raise ValueError(f"operation {i} returns ({op.ret}) before it is called ({op.call})")
        numbered.append(op if op.index == i else renumbered(op, i))
    return tuple(numbered)


def renumbered(op: Operation, index: int) -> Operation:
    return Operation(
        client=op.client,
        input=op.input,
        output=op.output,
        call=op.call,
        ret=op.ret,
        output_known=op.output_known,
        index=index,
        line=op.line,
    )
