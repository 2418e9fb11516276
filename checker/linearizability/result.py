"""Result objects: the verdict with its evidence (DESIGN.md section 4). Rendering is separate."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from checker.linearizability.history import Operation
from checker.verdict import Verdict


@dataclass(frozen=True, slots=True)
class Placed:
    """One linearization point: the operation and the model state right after it."""

    op: Operation
    state_after: Any


@dataclass(frozen=True, slots=True)
class Refusal:
    """An operation that cannot be placed next after the longest linearizable prefix.

    `model_output` is what the model would have returned there (None when the model accepts
    the operation but every continuation after it fails further on).
    """

    op: Operation
    model_output: Any
    output_mismatch: bool

    def describe(self, describe_value: Any = repr) -> str:
        if self.output_mismatch:
            return (
                f"{self.op.describe()}: the model returns {describe_value(self.model_output)} here"
            )
        return f"{self.op.describe()}: fits here, but nothing can follow it"


@dataclass(frozen=True, slots=True)
class PartitionResult:
    """The check of one independent part of a history (one key for key/value)."""

    key: Hashable
    verdict: Verdict
    operations: tuple[Operation, ...]
    # OK: a full linearization. VIOLATION: the longest linearizable prefix found.
    # UNKNOWN: the longest prefix reached before the time limit.
    linearization: tuple[Placed, ...]
    state: Any  # model state after `linearization`
    refusals: tuple[Refusal, ...] = ()  # VIOLATION: the operations that cannot be placed next
    must_precede: Operation | None = None  # VIOLATION: the earliest return still pending
    seconds: float = 0.0  # CPU seconds
    explored: int = 0  # search nodes visited
    # Calls left out of the search: those the model says constrain nothing with an unknown
    # output (reads), and calls that never returned whose effect nobody could have seen.
    ignored: tuple[Operation, ...] = ()
    note: str = ""  # why an UNKNOWN part stopped
    # VIOLATION proved before any search by the model's cheap check: why, and on what calls.
    refutation: str = ""
    witnesses: tuple[Operation, ...] = ()


@dataclass(frozen=True, slots=True)
class LinResult:
    """The whole check: the worst verdict over the parts and every part's evidence."""

    verdict: Verdict
    model: str
    operations: int
    seconds: float  # CPU seconds summed over the parts (and worker processes)
    partitions: tuple[PartitionResult, ...] = field(default=())
    timed_out: bool = False  # some part is UNKNOWN (a time or memory limit, or stopped)
    peak_memory: int = 0  # bytes: the most resident memory the check's processes held

    @property
    def failing(self) -> tuple[PartitionResult, ...]:
        return tuple(p for p in self.partitions if p.verdict is Verdict.VIOLATION)

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK
