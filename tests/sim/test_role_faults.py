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

import pytest

from checker.hunt import RACE_SLOW_MS, run_schedule
from impl.raft.scenarios.chaos import simulate
from impl.sim.schedule import Schedule, parse_schedule
from impl.trace import TraceWriter
from spec.errors import BadInput

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

# an election race (checker.hunt.race) at 1 s: a follower times out while its leader is
# alive, its RequestVotes slowed so that the leader's heartbeat is refused first, the other
# follower cut from it for a second, and the winner's voter restarted at once
RACE: tuple[dict[str, Any], ...] = (
    {"t": 1000, "op": "crash", "node": "voter", "on": "elected", "for": 0},
    {"t": 1000, "op": "slow", "node": "candidate", "ms": RACE_SLOW_MS, "on": "candidate",
     "for": RACE_SLOW_MS},
    {"t": 1000, "op": "cut", "node": "candidate", "peer": "follower", "on": "candidate",
     "for": 1000},
    {"t": 1000, "op": "timeout", "node": "follower", "pick": 0},
)


def _schedule(bug: str | None, seed: int, items: tuple[dict[str, Any], ...],
              snapshots: bool = False, clients: int = 3) -> Schedule:
    return Schedule(kind="faults", servers=3, bugs=() if bug is None else (bug,), seed=seed,
                    duration_ms=4000, unreliable=True, snapshots=snapshots, items=items,
                    clients=clients)


def test_aimed_faults_round_trip_through_the_file_format() -> None:
    schedule = _schedule("unpersisted-vote", 13, (*VOTES, {"t": 900, "op": "restart",
                                                           "node": "crashed", "pick": 1},
                                                  {"t": 900, "op": "slow", "node": "leader",
                                                   "ms": 60, "for": 100}))
    again = parse_schedule(schedule.text().splitlines())
    assert again == schedule and again.text() == schedule.text()
    quiet = _schedule("grant-before-persist", 1, RACE, clients=0)
    assert parse_schedule(quiet.text().splitlines()) == quiet
    # the default, three clients, is not written: older files and golden copies stay valid
    assert '"clients"' in quiet.text() and '"clients"' not in schedule.text()


@pytest.mark.parametrize(("field", "value"), [("clients", 4), ("clients", "none")])
def test_a_bad_clients_count_is_one_line_naming_it(field: str, value: object) -> None:
    head = json.loads(_schedule(None, 1, ()).text())
    head[field] = value
    with pytest.raises(BadInput, match=f"clients {value!r}; expected an integer 0..3"):
        parse_schedule([json.dumps(head)])


def test_a_timeout_fires_a_followers_election_timer_at_its_time(tmp_path: Path) -> None:
    """`timeout` is the model checker's timer step at a virtual time: the follower becomes
    a candidate of the next term there and then, while its leader is alive."""
    path = tmp_path / "t.jsonl"
    with path.open("w") as stream:
        run = simulate(seed=0, servers=3, unreliable=True, duration_ms=2000,
                       trace=TraceWriter(stream), clients=0,
                       faults=[{"t": 1000, "op": "timeout", "node": "follower", "pick": 1}])
    assert run.failure is None
    state: dict[int, dict[str, Any]] = {}
    for line in path.read_text().splitlines()[1:]:
        e = json.loads(line)
        if e["event"] == "timer" and e["time"] == 1000:
            before = state[e["node"]]
            assert before["role"] == "follower"
            assert any(s["role"] == "leader" for s in state.values())
            assert e["state"]["role"] == "candidate"
            assert e["state"]["term"] == before["term"] + 1
            return
        if "state" in e and isinstance(e["node"], int):
            state[e["node"]] = e["state"]
    raise AssertionError("no election timer fired at 1000 ms")


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


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_an_election_race_reaches_grant_before_persist_and_the_correct_core_survives_it(
        seed: int) -> None:
    """The model checker's counterexample, as faults: the old leader learns the new term
    from its heartbeat's refusal, grants the vote without persisting it, forgets it on the
    restart, and grants it again in that term to the server the winner never reached."""
    schedule = _schedule("grant-before-persist", seed, RACE, clients=0)
    outcome = run_schedule(schedule)
    assert outcome.failure is not None and "ElectionSafety" in outcome.failure
    assert run_schedule(dataclasses.replace(schedule, bugs=())).failure is None


def test_aimed_faults_reach_figure_8_and_the_correct_core_survives_it() -> None:
    schedule = _schedule("figure8-commit", 26, FIGURE8)
    outcome = run_schedule(schedule)
    assert outcome.failure is not None and "CommittedEntriesOutvoteRivals" in outcome.failure
    assert run_schedule(dataclasses.replace(schedule, bugs=())).failure is None
