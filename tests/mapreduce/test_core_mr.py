"""The coordinator's sans-I/O core, in virtual time: hand-out order, re-issue, commits, done."""

from __future__ import annotations

import random

import pytest

from impl.mapreduce.core import (
    Commit,
    CoordinatorCore,
    Discard,
    Exit,
    MapAssignment,
    ProtocolError,
    ReduceAssignment,
    TaskState,
    Wait,
)

TIMEOUT = 10.0


def make(n_map: int = 2, n_reduce: int = 2) -> CoordinatorCore:
    return CoordinatorCore([f"in-{i}" for i in range(n_map)], n_reduce, TIMEOUT)


def test_maps_first_then_reduces_then_exit_mr() -> None:
    core = make()
    first, second = core.request(0.0), core.request(0.0)
    assert isinstance(first, MapAssignment) and isinstance(second, MapAssignment)
    assert {first.task, second.task} == {0, 1}
    # No reduce while a map is unfinished: reduces read every map's output.
    assert isinstance(core.request(1.0), Wait)
    assert core.complete("map", first.task, first.attempt) == Commit(
        kind="map", task=first.task, attempt=0
    )
    assert isinstance(core.request(1.0), Wait)
    core.complete("map", second.task, second.attempt)
    reduces = [core.request(2.0), core.request(2.0)]
    assert all(isinstance(r, ReduceAssignment) for r in reduces)
    assert not core.done
    for assignment in reduces:
        assert isinstance(assignment, ReduceAssignment)
        core.complete("reduce", assignment.task, assignment.attempt)
    assert core.done
    assert isinstance(core.request(3.0), Exit)


@pytest.mark.parametrize("timeout", [0.5, 2.0, 10.0])
def test_never_reissued_before_the_timeout_mr(timeout: float) -> None:
    """A task handed out at t is re-issued at t + timeout, and at no earlier request."""
    core = CoordinatorCore(["only"], 1, timeout)
    assert isinstance(core.request(100.0), MapAssignment)
    rng = random.Random(7)
    for now in sorted(100.0 + rng.uniform(0, timeout) for _ in range(500)):
        if now < 100.0 + timeout:
            assert isinstance(core.request(now), Wait), now
    assert core.attempts_issued("map", 0) == 1
    again = core.request(100.0 + timeout)
    assert isinstance(again, MapAssignment) and again.attempt == 1


def test_default_cli_timeout_is_the_labs_ten_seconds_mr() -> None:
    from impl.mapreduce.coordinator import DEFAULT_TASK_TIMEOUT

    assert DEFAULT_TASK_TIMEOUT == 10.0


def test_first_completion_wins_even_a_late_one_mr() -> None:
    core = make(n_map=1, n_reduce=1)
    slow = core.request(0.0)
    backup = core.request(TIMEOUT)  # the first worker looks dead: re-issued
    assert isinstance(slow, MapAssignment) and isinstance(backup, MapAssignment)
    assert (slow.attempt, backup.attempt) == (0, 1)
    # The "dead" worker was only slow: its complete output is accepted first ...
    assert core.complete("map", 0, slow.attempt) == Commit(kind="map", task=0, attempt=0)
    # ... and the backup's is discarded, so the final file holds exactly one execution.
    assert core.complete("map", 0, backup.attempt) == Discard(kind="map", task=0, attempt=1)
    assert core.state_of("map", 0) is TaskState.DONE


def test_reports_of_unissued_tasks_are_protocol_errors_mr() -> None:
    core = make()
    with pytest.raises(ProtocolError):
        core.complete("map", 0, 0)  # never handed out
    core.request(0.0)
    with pytest.raises(ProtocolError):
        core.complete("map", 0, 1)  # attempt 1 was never handed out
    with pytest.raises(ProtocolError):
        core.complete("reduce", 7, 0)
    with pytest.raises(ProtocolError):
        core.complete("merge", 0, 0)  # type: ignore[arg-type]


def test_next_deadline_is_the_oldest_attempt_plus_timeout_mr() -> None:
    core = make()
    assert core.next_deadline() is None
    core.request(1.0)
    core.request(3.0)
    assert core.next_deadline() == 1.0 + TIMEOUT


def test_random_schedules_commit_each_task_exactly_once_mr() -> None:
    """Random interleavings of requests, completions and clock jumps: rules 1-4 of core.py."""
    for seed in range(200):
        rng = random.Random(seed)
        core = make(n_map=3, n_reduce=2)
        now = 0.0
        running: list[MapAssignment | ReduceAssignment] = []
        commits: dict[tuple[str, int], int] = {}
        for _ in range(400):
            now += rng.choice([0.0, 0.1, 3.0, TIMEOUT])
            if running and rng.random() < 0.5:
                assignment = running.pop(rng.randrange(len(running)))
                if rng.random() < 0.2:
                    continue  # the worker crashed: its attempt never reports
                kind = "map" if isinstance(assignment, MapAssignment) else "reduce"
                decision = core.complete(kind, assignment.task, assignment.attempt)
                if isinstance(decision, Commit):
                    key = (kind, assignment.task)
                    commits[key] = commits.get(key, 0) + 1
            else:
                reply = core.request(now)
                if isinstance(reply, ReduceAssignment):
                    assert all(core.state_of("map", m) is TaskState.DONE for m in range(3))
                if isinstance(reply, MapAssignment | ReduceAssignment):
                    running.append(reply)
                if isinstance(reply, Exit):
                    break
        assert all(count == 1 for count in commits.values()), (seed, commits)
        if core.done:
            assert len(commits) == 5
