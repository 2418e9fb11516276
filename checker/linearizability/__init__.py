"""Linearizability checking: Wing & Gong's search with Lowe's memoisation, per independent part.

from checker.linearizability import Operation, check, KV
result = check(history, KV, timeout=1.0)
assert result.verdict is Verdict.OK, render_text(result)
"""

from checker.linearizability.check import check, partitions
from checker.linearizability.history import Operation, history
from checker.linearizability.models import (
    FIFO_QUEUE,
    MODELS,
    MULTI_REGISTER,
    MUTEX,
    SET,
    UNORDERED_QUEUE,
    model_named,
)
from checker.linearizability.record import Recorder
from checker.linearizability.render import render_text
from checker.linearizability.result import LinResult, PartitionResult, Placed, Refusal
from spec.sequential import CAS_REGISTER, ILLEGAL, KV, LOG, REGISTER, Input, Model

__all__ = [
    "CAS_REGISTER",
    "FIFO_QUEUE",
    "ILLEGAL",
    "KV",
    "LOG",
    "MODELS",
    "MULTI_REGISTER",
    "MUTEX",
    "REGISTER",
    "SET",
    "UNORDERED_QUEUE",
    "Input",
    "LinResult",
    "Model",
    "Operation",
    "PartitionResult",
    "Placed",
    "Recorder",
    "Refusal",
    "check",
    "history",
    "model_named",
    "partitions",
    "render_text",
]
