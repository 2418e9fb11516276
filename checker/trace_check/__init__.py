"""Trace checking: every state of a recorded trace judged — a Raft trace by the invariant
layer (`check_trace`), a MapReduce coordinator's trace by the spec's rules
(`checker.trace_check.mapreduce`) — both read by the one trace reader (`reader`)."""

from pathlib import Path

from checker.trace_check.check import TraceResult, Violation, check_trace
from checker.trace_check.reader import SYSTEMS, read_header
from spec.errors import BadInput

__all__ = ["TraceResult", "Violation", "check_trace", "system_of"]


def system_of(path: Path, systems: tuple[str, ...] = SYSTEMS) -> str:
    """The `system` a trace's header names, one of `systems`; BadInput if it is no trace."""
    try:
        with path.open(encoding="utf-8") as stream:
            return read_header(stream, str(path), systems).system
    except OSError as e:
        raise BadInput(f"cannot read: {e.strerror}", str(path)) from None
    except UnicodeDecodeError:
        raise BadInput("not UTF-8 text; expected JSON Lines", str(path)) from None
