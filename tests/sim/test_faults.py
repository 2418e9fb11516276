"""An exception raised by an implementation core is a finding of the run, not a crash of the
simulator: which exception, at which event (the trace's next seq), on which node, and where."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from impl.raft.scenarios.chaos import simulate
from impl.trace import TraceWriter
from tests.broken_cores import raising_at_match


@pytest.fixture
def core_raises_on_commit() -> Iterator[None]:
    """A Raft core that raises once a leader learns that entry 5 is replicated."""
    with raising_at_match(5):
        yield


def test_a_core_exception_is_a_finding_with_event_node_and_place(
        core_raises_on_commit: None) -> None:
    writer = TraceWriter(keep=True)
    run = simulate(seed=3, servers=3, duration_ms=5_000, trace=writer)
    fault = run.fault
    assert fault is not None and fault.kind == "exception"
    assert fault.error == "ZeroDivisionError: commit arithmetic went wrong"
    assert fault.traced and fault.event == writer.seq + 1  # the step the trace never got
    last = json.loads(writer.lines[-1])
    assert last["seq"] == fault.event - 1 and fault.time_ms >= last["time"]
    leaders = {json.loads(line)["node"] for line in writer.lines[1:]
               if '"role":"leader"' in line}
    assert fault.node in leaders  # the leader, whose reply handler raised
    assert fault.where is not None and fault.where.endswith("in broken")
    assert run.failure == fault.describe()
    assert run.failure.startswith(
        f"the implementation raised ZeroDivisionError: commit arithmetic went wrong at event "
        f"{fault.event} (node {fault.node}, t={fault.time_ms} ms, in ")


def test_without_a_trace_the_event_counts_the_loops_events(
        core_raises_on_commit: None) -> None:
    run = simulate(seed=3, servers=3, duration_ms=5_000)
    assert run.fault is not None and not run.fault.traced
    assert run.fault.event == run.tester.loop.events_run
    assert f"at simulator event {run.fault.event:,} (node " in run.failure  # type: ignore[operator]


def test_a_healthy_run_has_neither_failure_nor_fault() -> None:
    run = simulate(seed=1, servers=3, duration_ms=2_000)
    assert run.failure is None and run.fault is None
