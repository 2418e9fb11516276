"""`checker.hunt`: random fault schedules find a flag, shrink it, and the shrunk schedule
replays to the same failure; a hunt out of time says so instead of passing."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import pytest

from checker.hunt import _RIVALS, RACE_SLOW_MS, Outcome, _rivals_fast, hunt, run_schedule
from checker.hunt_tighten import tighten
from checker.invariants import CONCRETE, ConcreteView
from checker.modelcheck.models.impl_raft import FLAG_BOUNDS
from checker.trace_check.reader import initial_rec, server_rec
from impl.raft.scenarios.chaos import simulate
from impl.sim.schedule import Schedule
from impl.trace import TraceWriter


def test_a_hunt_finds_shrinks_and_its_schedule_replays_to_the_same_failure() -> None:
    # snapshots fixed on: with them off, the flag's runs grow logs of thousands of entries
    # (its clients see their commands applied at once) and take seconds each
    result = hunt("apply-before-commit", servers=3, duration_ms=2_000, max_faults=3,
                  max_examples=3, budget_s=30, snapshots=True)
    assert result.found and result.schedule is not None and result.outcome is not None
    assert result.outcome.failure and result.outcome.core_events > 0
    assert result.first is not None and result.schedule.faults <= result.first.faults
    again = run_schedule(result.schedule)  # deterministic: the seed's draws and the faults
    assert again == result.outcome
    # and it is the flag that fails it: the correct core passes the same schedule
    clean = dataclasses.replace(result.schedule, bugs=())
    assert run_schedule(clean).failure is None


def test_a_hunt_out_of_time_is_not_a_pass() -> None:
    result = hunt("figure8-commit", max_examples=5, budget_s=1e-9)
    assert not result.found and not result.shrink_complete and result.runs == 0


# The campaign: each flag found by the hunt's own search (no schedule written for it), within
# a budget a campaign affords; the shrunk schedule replays to the same failure. And the
# correct core passes the same search (docs/model-checking.md, "Measured").
HUNTED = tuple(FLAG_BOUNDS)
# CPU seconds of the hunt's own process: ~400 wall s at load 4 on two cores, and the same
# work (the same derandomized schedules) whatever the machine's load
CAMPAIGN_BUDGET_CPU_S = 200.0


@pytest.mark.campaign
@pytest.mark.parametrize("bug", HUNTED)
def test_the_hunt_finds_each_flag_and_its_shrunk_schedule_replays(bug: str) -> None:
    result = hunt(bug, max_examples=100_000, budget_s=CAMPAIGN_BUDGET_CPU_S, cpu_budget=True)
    assert result.found, f"{bug}: no failure in {result.runs} schedules"
    assert result.schedule is not None and result.outcome is not None
    assert run_schedule(result.schedule) == result.outcome
    # the post-pass only ever shortens Hypothesis's shrunk run
    assert result.shrunk_outcome is not None
    assert result.outcome.core_events <= result.shrunk_outcome.core_events


@pytest.mark.campaign
def test_the_correct_core_passes_the_hunts_schedules() -> None:
    result = hunt(None, max_examples=150, budget_s=86_400.0)
    # runs: distinct schedules (Hypothesis may draw one twice)
    assert result.shrink_complete and result.runs >= 140
    assert not result.found, result.outcome


@pytest.mark.parametrize(("bug", "seed"), [(None, 26), ("figure8-commit", 26),
                                           ("commit-past-held", 3)])
def test_the_hunts_fast_rivals_check_agrees_with_the_definition(
        tmp_path: Path, bug: str | None, seed: int) -> None:
    """checker.hunt's shortcut for CommittedEntriesOutvoteRivals gives the definition's
    verdict on every pair of every state of real runs, failing ones included."""
    items = ({"t": 500, "op": "isolate", "node": "leader", "for": 1000},
             {"t": 500, "op": "isolate", "node": "leader", "on": "elected", "for": 2000})
    path = tmp_path / "t.jsonl"
    with path.open("w") as stream:
        simulate(seed=seed, servers=3, unreliable=True, duration_ms=4000,
                 trace=TraceWriter(stream), bugs=frozenset(() if bug is None else (bug,)),
                 faults=items)
    recs = [initial_rec(3)] * 3
    checked = differ = 0
    for line in path.read_text().splitlines()[1:]:
        event = json.loads(line)
        if isinstance(event["node"], int) and "state" in event:
            recs[event["node"]] = server_rec(event["state"], "t", 0, 3)
            view = ConcreteView(recs)
            for i, j in itertools.permutations(range(3), 2):
                fast = bool(_rivals_fast(view, CONCRETE, i, j))
                differ += fast != bool(_RIVALS.body(view, CONCRETE, i, j))
                checked += 1
    assert checked > 100 and differ == 0


def _race_at(t: int) -> tuple[dict[str, object], ...]:
    return ({"t": t, "op": "crash", "node": "voter", "on": "elected", "for": 0},
            {"t": t, "op": "slow", "node": "candidate", "ms": RACE_SLOW_MS, "on": "candidate",
             "for": RACE_SLOW_MS},
            {"t": t, "op": "cut", "node": "candidate", "peer": "follower", "on": "candidate",
             "for": 1000},
            {"t": t, "op": "timeout", "node": "follower", "pick": 0})


def test_the_post_pass_only_shortens_the_run_and_stops_when_told() -> None:
    """checker.hunt_tighten: every schedule it moves to fails with fewer core events (and
    replays to that), the flag is what fails it, and a run out of time ends it with the
    best so far, reported incomplete."""
    start = Schedule(kind="faults", servers=3, bugs=("grant-before-persist",), seed=1,
                     duration_ms=4000, unreliable=True, clients=0, items=_race_at(2000))
    first = run_schedule(start)
    assert first.failure is not None
    runs: list[Outcome] = []

    def run(schedule: Schedule) -> Outcome | None:
        if len(runs) == 120:  # the deadline, as the hunt's budget would end it
            return None
        runs.append(run_schedule(schedule))
        return runs[-1]

    got = tighten(start, first, run)
    assert not got.complete and got.runs == 121 and got.steps >= 1
    assert got.outcome.failure is not None
    assert got.outcome.core_events < first.core_events
    assert run_schedule(got.schedule) == got.outcome
    clean = dataclasses.replace(got.schedule, bugs=())
    assert run_schedule(clean).failure is None
