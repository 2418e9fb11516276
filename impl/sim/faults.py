"""What ended a simulated run early: an exception raised by the implementation, or the
event loop's watchdog (`Stalled`, `Flooded`), described as a finding a user can act on.

A broken core is the common case while someone debugs their own changes, and the run up to
the fault usually holds the diagnosis: so a fault is not a crash of the simulator but a
result — which exception, at which event, on which node, raised where — and the partial
trace stays readable (every trace line is whole when it is written).

The event number is the trace's `seq` of the first event the trace does not hold: a node's
step is recorded after the core returns, so the step that raised is event N and the trace
ends at N-1. Without a trace, the number counts the loop's events instead.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from impl.sim.loop import EventLoop, Flooded, Runaway, Stalled
from impl.trace import Node, TraceWriter

_ROOT = Path(__file__).resolve().parents[2]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Fault:
    """An implementation fault that ended a run. `kind`: exception, stalled or flooded."""

    kind: str
    error: str  # "ZeroDivisionError: division by zero", or the watchdog's message
    time_ms: int
    event: int
    traced: bool  # `event` is a trace seq (True) or a count of the loop's events (False)
    node: Node | None  # the node whose step was running, when one was
    where: str | None  # the innermost frame of the exception: "impl/raft/core.py:412 in f"

    def describe(self) -> str:
        at = f"event {self.event}" if self.traced else f"simulator event {self.event:,}"
        node = f"node {self.node}" if self.node is not None else ""
        if self.kind == "exception":
            context = [part for part in (node, f"t={self.time_ms} ms") if part]
            if self.where:
                context.append(f"in {self.where}")
            return f"the implementation raised {self.error} at {at} ({', '.join(context)})"
        return f"the watchdog stopped the run at {at}{f' ({node})' if node else ''}: {self.error}"

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "error": self.error, "time_ms": self.time_ms,
                "event": self.event, "event_is_trace_seq": self.traced, "node": self.node,
                "where": self.where}


def fault_of(error: BaseException, loop: EventLoop, trace: TraceWriter,
             node_of: Callable[[object], Node | None]) -> Fault:
    """Describe `error`, raised out of `loop`; `node_of(obj)` names the node a driver object
    (a frame's `self`) stands for, or None: the innermost such frame is the failing node."""
    node: Node | None = None
    innermost = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        innermost = (frame, line)
        owner = frame.f_locals.get("self")
        if owner is not None:
            found = node_of(owner)
            if found is not None:
                node = found
    where = None
    if innermost is not None:
        frame, line = innermost
        where = f"{_shown(frame.f_code.co_filename)}:{line} in {frame.f_code.co_name}"
    kind = "exception"
    if isinstance(error, Stalled):
        kind = "stalled"
    elif isinstance(error, Flooded):
        kind = "flooded"
    if isinstance(error, Runaway):
        text = str(error)
    else:
        text = " ".join("".join(traceback.format_exception_only(type(error), error)).split())
    traced = trace.enabled
    event = trace.seq + 1 if traced else loop.events_run
    return Fault(kind, text, loop.now, event, traced, node, None if isinstance(error, Runaway)
                 else where)


def run_judged(run: Callable[[], R], lab_failure: type[Exception],
               fault: Callable[[Exception], Fault]) -> tuple[R | None, str | None, Fault | None]:
    """Run a scenario's task: (its result, None, None) when every check held; (None, the
    message, None) when a lab check failed; (None, the fault's description, the fault) when
    the implementation raised — a broken core is a finding, not a crash of the simulator."""
    try:
        return run(), None, None
    except lab_failure as error:
        return None, str(error), None
    except Exception as error:
        found = fault(error)
        return None, found.describe(), found


def _shown(filename: str) -> str:
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(_ROOT))
    except ValueError:
        return filename
