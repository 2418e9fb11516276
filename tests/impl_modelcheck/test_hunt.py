"""`checker.hunt`: random fault schedules find a flag, shrink it, and the shrunk schedule
replays to the same failure; a hunt out of time says so instead of passing."""

from __future__ import annotations

import dataclasses

from checker.hunt import hunt, run_schedule


def _faults(schedule: object) -> int:
    return sum(1 for f in schedule.items if f["op"] != "skip")  # type: ignore[attr-defined]


def test_a_hunt_finds_shrinks_and_its_schedule_replays_to_the_same_failure() -> None:
    result = hunt("apply-before-commit", servers=3, duration_ms=2_000, max_faults=3,
                  max_examples=3, budget_s=30)
    assert result.found and result.schedule is not None and result.outcome is not None
    assert result.outcome.failure and result.outcome.core_events > 0
    assert result.first is not None and _faults(result.schedule) <= _faults(result.first)
    again = run_schedule(result.schedule)  # deterministic: the seed's draws and the faults
    assert again == result.outcome
    # and it is the flag that fails it: the correct core passes the same schedule
    clean = dataclasses.replace(result.schedule, bugs=())
    assert run_schedule(clean).failure is None


def test_a_hunt_out_of_time_is_not_a_pass() -> None:
    result = hunt("figure8-commit", max_examples=5, budget_s=1e-9)
    assert not result.found and not result.shrink_complete and result.runs == 0
