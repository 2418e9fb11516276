"""What `dscheck model-check impl-raft` does with a counterexample: replay it on the
simulator (`impl_raft_replay.confirm`), write it as a schedule and as a trace, and say how to
replay it."""

from __future__ import annotations

from pathlib import Path

from checker.files import write_output
from checker.modelcheck import ModelCheckResult
from checker.modelcheck.models.impl_raft import ImplRaftModel
from checker.modelcheck.models.impl_raft_replay import confirm


def replay_counterexample(model: ImplRaftModel, schedule_path: Path | None,
                          trace_path: Path | None, result: ModelCheckResult) -> dict[str, str]:
    trace = result.counterexample
    if trace is None:
        return {}
    if model.config.parallel_write:
        # The simulator's scripted runs have no step for a disk write finishing.
        return {"confirmed": "not replayed: the simulator's schedules have no `Durable` step"}
    schedule, run = confirm(model, trace)
    notes = {"confirmed": f"the simulator replayed all {len(trace.steps)} steps and reached "
                          "the model's state after each"}
    if schedule_path is None:
        notes["replay"] = ("add --schedule-out FILE to write the steps, then "
                           "dscheck sim raft --schedule FILE")
    else:
        write_output(schedule_path, schedule.text(), "the counterexample's schedule")
        notes["replay"] = f"dscheck sim raft --schedule {schedule_path}"
    if trace_path is not None:
        write_output(trace_path, run.trace.text(), "the counterexample's trace")
        notes["trace"] = f"{trace_path} (dscheck check-trace {trace_path})"
    return notes
