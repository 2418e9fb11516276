"""Faults aimed at a role and triggered by elections (impl/raft/scenarios/roles.py): the
schedule format round-trips them, a replay gives the same trace, they hit the server the
role names, and they reach the windows the vote and Figure 8 flags need."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from checker.hunt import run_schedule
from impl.sim.schedule import Schedule, parse_schedule

ROOT = Path(__file__).resolve().parents[2]

# crash a voter of each new leader at once (restarted in the same instant), and cut each new
# candidate from one server that has not voted for it, for 400 ms
VOTES: tuple[dict[str, Any], ...] = (
    {"t": 0, "op": "cut", "node": "candidate", "peer": "nonvoter", "on": "candidate",
     "for": 400},
    {"t": 0, "op": "crash", "node": "voter", "on": "elected", "for": 0},
)
# the leader cut off for a second, and the leader elected meanwhile cut off for two
FIGURE8: tuple[dict[str, Any], ...] = (
    {"t": 500, "op": "isolate", "node": "leader", "for": 1000},
    {"t": 500, "op": "isolate", "node": "leader", "on": "elected", "for": 2000},
)


def _schedule(bug: str | None, seed: int, items: tuple[dict[str, Any], ...],
              snapshots: bool = False) -> Schedule:
    return Schedule(kind="faults", servers=3, bugs=() if bug is None else (bug,), seed=seed,
                    duration_ms=4000, unreliable=True, snapshots=snapshots, items=items)


def test_aimed_faults_round_trip_through_the_file_format() -> None:
    schedule = _schedule("unpersisted-vote", 13, (*VOTES, {"t": 900, "op": "restart",
                                                           "node": "crashed", "pick": 1},
                                                  {"t": 900, "op": "slow", "node": "leader",
                                                   "ms": 60, "for": 100}))
    again = parse_schedule(schedule.text().splitlines())
    assert again == schedule and again.text() == schedule.text()


def test_a_schedule_with_aimed_faults_replays_to_the_same_trace(tmp_path: Path) -> None:
    path = tmp_path / "s.schedule"
    path.write_text(_schedule(None, 3, (*VOTES, *FIGURE8)).text())
    traces = []
    for k in range(2):
        trace = tmp_path / f"{k}.jsonl"
        run = subprocess.run([sys.executable, "-m", "checker", "sim", "raft", "--schedule",
                              str(path), "--trace", str(trace)], capture_output=True, text=True,
                             cwd=ROOT, check=False, timeout=300)
        assert run.returncode == 0, run.stderr
        traces.append(trace.read_bytes())
    assert traces[0] == traces[1]
    events = [json.loads(line) for line in traces[0].decode().splitlines()[1:]]
    actions = {e.get("action") for e in events if e["event"] == "network"}
    assert {"cut", "uncut", "partition"} <= actions  # the aimed faults did happen


def test_a_crash_aimed_at_a_voter_hits_a_server_that_voted_for_the_new_leader(
        tmp_path: Path) -> None:
    items = ({"t": 0, "op": "crash", "node": "voter", "on": "elected", "for": 50},)
    path = tmp_path / "s.schedule"
    path.write_text(_schedule(None, 1, items).text())
    trace = tmp_path / "t.jsonl"
    subprocess.run([sys.executable, "-m", "checker", "sim", "raft", "--schedule", str(path),
                    "--trace", str(trace)], capture_output=True, cwd=ROOT, check=True,
                   timeout=300)
    events = [json.loads(line) for line in trace.read_text().splitlines()[1:]]
    state: dict[int, dict[str, Any]] = {}
    for e in events:
        if e["event"] == "crash" and e["time"] > 0:
            leaders = [n for n, s in state.items() if s["role"] == "leader"]
            assert leaders, "crashed before any election"
            leader = max(leaders, key=lambda n: state[n]["term"])
            voter = state[e["node"]]
            assert e["node"] != leader and voter["voted_for"] == leader
            assert voter["term"] == state[leader]["term"]
            restart = next(r for r in events if r["event"] == "restart"
                           and r["node"] == e["node"] and r["time"] > 0)
            assert restart["time"] == e["time"] + 50
            return
        if "state" in e and isinstance(e["node"], int):
            state[e["node"]] = e["state"]
    raise AssertionError("the aimed crash never happened")


def test_aimed_faults_reach_the_vote_flags_window_and_the_correct_core_survives_it() -> None:
    schedule = _schedule("unpersisted-vote", 13, VOTES)
    outcome = run_schedule(schedule)
    assert outcome.failure is not None and "ElectionSafety" in outcome.failure
    assert run_schedule(dataclasses.replace(schedule, bugs=())).failure is None


def test_aimed_faults_reach_figure_8_and_the_correct_core_survives_it() -> None:
    schedule = _schedule("figure8-commit", 26, FIGURE8)
    outcome = run_schedule(schedule)
    assert outcome.failure is not None and "CommittedEntriesOutvoteRivals" in outcome.failure
    assert run_schedule(dataclasses.replace(schedule, bugs=())).failure is None
