"""Trace checking: every state of a recorded Raft trace judged by the invariant layer."""

from checker.trace_check.check import TraceResult, Violation, check_trace

__all__ = ["TraceResult", "Violation", "check_trace"]
