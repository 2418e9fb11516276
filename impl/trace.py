"""The trace writer: `dscheck-trace` version 1, JSON Lines (see traces/README.md).

The writer owns the sequence numbers and the clock reading of every event, and serialises
with a fixed key order and no whitespace, so the same run always gives the same bytes.
Drivers call `event(...)`; with no sink (`TraceWriter.disabled()`) every call is a cheap
no-op, which is what tests that do not record use. Values must be JSON-representable;
`bytes` (a command or a snapshot) are written as `{"$bytes": "<hex>"}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO, Any

FORMAT = "dscheck-trace"
VERSION = 1

Node = int | str


def _default(value: object) -> object:
    if isinstance(value, bytes | bytearray):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, tuple | frozenset):
        return list(value)
    raise TypeError(f"not JSON-representable in a trace: {type(value).__name__}")


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default)


class TraceWriter:
    """Writes one trace; `lines` keeps them in memory too when no stream is given."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        clock: Callable[[], int] = lambda: 0,
        enabled: bool = True,
        keep: bool = False,
    ) -> None:
        self.enabled = enabled
        self._stream = stream
        self._clock = clock
        self._keep = keep or stream is None
        self.lines: list[str] = []
        self.seq = 0
        self._calls = 0

    @classmethod
    def disabled(cls) -> TraceWriter:
        return cls(enabled=False)

    def set_clock(self, clock: Callable[[], int]) -> None:
        self._clock = clock

    def next_call(self) -> int:
        """A fresh id for an invoke/return pair, unique within the trace."""
        self._calls += 1
        return self._calls

    def header(self, system: str, config: dict[str, Any], seed: int | None, **extra: Any) -> None:
        if not self.enabled:
            return
        record: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "system": system,
            "config": config,
            "seed": seed,
            "time_unit": "ms",
        }
        record.update(extra)
        self._write(record)

    def event(self, node: Node, event: str, **fields: Any) -> None:
        """One event line: seq, time, node, event, then `fields` in the order given."""
        if not self.enabled:
            return
        self.seq += 1
        record: dict[str, Any] = {"seq": self.seq, "time": self._clock(), "node": node, "event": event}
        record.update(fields)
        self._write(record)

    def _write(self, record: dict[str, Any]) -> None:
        line = dumps(record)
        if self._keep:
            self.lines.append(line)
        if self._stream is not None:
            self._stream.write(line + "\n")

    def text(self) -> str:
        """The whole trace as written so far (kept lines only)."""
        return "".join(line + "\n" for line in self.lines)
