"""Pairing invoke and return events into operations, for every input format.

Every format is a sequence of events: a client (a Jepsen process) invokes an operation, then
the same client sees it return `ok`, `fail` or `info`. What `fail` and `info` mean is the
format's choice, passed in as a `Semantics`:
- Knossos/Jepsen (`DROP_FAILED`): `fail` = the operation certainly did not happen, so it is
  left out; `info` = unknown outcome, the call may take effect at any time after its
  invocation (its return is put after the end of the history).
- Jepsen etcd logs (`ETCD`, see ../shared/data/README.md): a `fail` of a cas means the
  comparison failed (the register held another value), an observed outcome; a `fail` of a
  read (`:timed-out`) is an unknown outcome at that moment.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from checker.linearizability.history import Operation, renumbered
from spec.errors import BadInput
from spec.sequential import Input


class Semantics(enum.Enum):
    DROP_FAILED = "drop-failed"
    ETCD = "etcd"


# Operations whose return carries the value read; other returns carry no output (writes) or
# a success flag (cas).
READS = frozenset({"read", "get"})
# In Jepsen's convention, the calls whose :ok value is their output: reads, a dequeue's
# element, a transaction with its reads filled in. Other :ok values repeat the argument.
CARRIES_OUTPUT = READS | {"dequeue", "txn"}


@dataclass(slots=True)
class _Pending:
    input: Input
    call: float
    line: int


class Pairing:
    """Feed events in file order; `operations()` gives the history."""

    def __init__(self, path: str, semantics: Semantics, *, literal_outputs: bool = False) -> None:
        """`literal_outputs`: an ok's value is the output as it is (our formats, any model);
        otherwise Jepsen's convention: reads carry the value read, writes repeat their
        argument (no output), a cas's ok means it swapped."""
        self.path = path
        self.semantics = semantics
        self.literal_outputs = literal_outputs
        self.pending: dict[Any, _Pending] = {}
        self.ops: list[Operation] = []

    def invoke(self, client: Any, inp: Input, time: float, line: int) -> None:
        if client in self.pending:
            first = self.pending[client].line
            raise BadInput(
                f"client {client} invokes again while its call of line {first} has not "
                "returned (expected an :ok, :fail or :info for it first)",
                self.path,
                line,
            )
        self.pending[client] = _Pending(inp, time, line)

    def complete(
        self, client: Any, kind: str, f: str | None, value: Any, time: float, line: int
    ) -> None:
        """A return; `f=None` when the format does not repeat the function name."""
        call = self.pending.pop(client, None)
        if call is None:
            raise BadInput(
                f"{kind} for client {client} that has no pending call (expected an :invoke first)",
                self.path,
                line,
            )
        f = call.input[0] if f is None else f
        if f != call.input[0]:
            raise BadInput(
                f"{kind} of {f} for client {client}, whose pending call (line {call.line}) "
                f"is a {call.input[0]}",
                self.path,
                line,
            )
        if kind == "info":
            self._add(client, call, None, None, known=False)
        elif kind == "ok":
            output: Any = None
            if self.literal_outputs or f in CARRIES_OUTPUT:
                output = value
            elif f == "cas":
                output = True
            # Knossos completes an invocation's missing value from its :ok (the element a
            # dequeue took; a write invoked without its value).
            if call.input[2] is None and value is not None and f not in READS and (
                f == "dequeue" or not self.literal_outputs
            ) and f != "txn":
                call = _Pending((f, call.input[1], value), call.call, call.line)
            self._add(client, call, output, time, known=True)
        elif kind == "fail":
            if self.semantics is Semantics.ETCD and f in READS:
                self._add(client, call, None, time, known=False)
            elif self.semantics is Semantics.ETCD and f == "cas":
                self._add(client, call, False, time, known=True)
            # otherwise: the operation did not happen; leave it out.
        else:
            raise BadInput(
                f"unknown event type {kind!r} (expected invoke, ok, fail or info)",
                self.path,
                line,
            )

    def _add(
        self, client: Any, call: _Pending, output: Any, ret: float | None, *, known: bool
    ) -> None:
        self.ops.append(
            Operation(
                client=client if isinstance(client, int | str) else repr(client),
                input=call.input,
                output=output,
                call=call.call,
                ret=ret,
                output_known=known,
                index=len(self.ops),
                line=call.line,
            )
        )

    def operations(self) -> list[Operation]:
        """The history; calls still pending at the end never returned (unknown outcome)."""
        for client, call in sorted(self.pending.items(), key=lambda item: item[1].line):
            self._add(client, call, None, None, known=False)
        self.pending.clear()
        self.ops.sort(key=lambda op: (op.call, op.line or 0))
        return [renumbered(op, i) for i, op in enumerate(self.ops)]

