"""Hunting a fault flag with random fault schedules, and shrinking what fails (`dscheck hunt`).

Theory of operation
-------------------
A candidate is a `faults` schedule (impl/sim/schedule.py): a seed, whose draws decide the
network's delays, drops and reordering, the election timeouts and the clients' commands, and
up to `max_faults` faults (crash, restart, disconnect, connect, partition, heal) at virtual
times. Hypothesis draws candidates (`find`, a strategy over schedules) and runs each on the
simulator with the flag on; a candidate fails when a lab check fails, the core raises, or the
run's trace breaks an invariant (`dscheck check-trace`'s judgement, the most sensitive of
the three). On the first failure Hypothesis shrinks it: fewer faults, earlier times, smaller
seeds — a minimal schedule by its order, a shortest one in practice.

Shrinking is bounded in time: once `budget_s` has passed, no candidate is run any more and
the search ends at once, and the report says so, with how many shrink
steps it took and the best schedule it had. Outcomes are memoised by schedule, so Hypothesis's
final replay of its minimum sees the same verdict it saw before.

Hypothesis's minimum is minimal by its order over the draws, not the shortest run: a
post-pass (checker/hunt_tighten.py) then looks for a shorter failing run near it — clients
off, faults removed or moved earlier, other seeds — within the same budget. Both are
reported, measured alike (core events up to the failure).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as hs
from hypothesis.errors import NoSuchExample

from checker.hunt_tighten import tighten as tighten_schedule
from checker.invariants.raft import SAFETY
from checker.trace_check.check import check_trace
from checker.verdict import Verdict
from impl.raft.labtester import ELECTION_TIMEOUT_MS
from impl.raft.scenarios.chaos import simulate
from impl.sim.schedule import CLIENTS, Schedule
from impl.trace import TraceWriter

OPS = ("crash", "restart", "disconnect", "connect", "partition", "heal")  # timed singles
# the unreliable network's drop rates a schedule is drawn with: None is the lab's (and what
# a schedule shrinks to); lossier ones make elections contested (see `schedules`)
DROP_RATES: tuple[float | None, ...] = (None, 0.25, 0.45)
# The trace checker leaves this invariant to the proofs (O(commit index) per pair of servers
# and state: slow on long traces); the model checker finds figure8-commit by it (a leader
# commits an old entry that a rival's log can still outvote), and a hunt's runs are short,
# so the hunt's judgement adds it. Without it, the run must go on until the rival wins and
# overwrites the entry, which random timing rarely does.
# Its definition walks every committed index of every ordered pair, on every state: on a
# run whose logs grow to thousands of entries that is minutes. `_rivals_fast` decides the
# common cases in C-speed slices and O(servers), and leaves the rest to the definition.
_RIVALS = next(inv for inv in SAFETY if inv.name == "CommittedEntriesOutvoteRivals")


def _rivals_fast(v: Any, o: Any, i: int, j: int) -> Any:
    """The invariant for (i, j) on a trace's concrete state: it holds when a quorum of
    logs outranks j's, or when j holds every entry i has committed (known terms equal, no
    values recorded); otherwise the definition decides."""
    ri, rj = v.recs[i], v.recs[j]
    c = ri.commit_index
    if c == 0:
        return True
    last_j, term_j = rj.last_index, v.last_term(j)
    rivals = sum(1 for m in range(v.n)
                 if (v.last_term(m), v.last_index[m]) > (term_j, last_j))
    if rivals >= v.n // 2 + 1:
        return True
    if ri.values is None and rj.values is None and ri.last_index >= c and last_j >= c:
        lo = max(ri.snapshot_index, rj.snapshot_index, 1)
        if lo > c or ri.terms(lo, c) == rj.terms(lo, c):
            return True
    return _RIVALS.body(v, o, i, j)


RIVALS = (dataclasses.replace(_RIVALS, body=_rivals_fast),)
# core inputs a trace records, counted to compare a run with a model checker's steps
_CORE_EVENTS = {"receive", "timer", "restart", "crash"}


class _OutOfTime(Exception):
    """The hunt's budget is spent: ends Hypothesis's search from inside the predicate."""


@dataclass(frozen=True)
class Outcome:
    """One candidate's run: why it failed (None: it passed), and how many core inputs
    (deliveries, timers, starts, crashes, restarts) the run took up to the failure."""

    failure: str | None
    core_events: int


@dataclass
class HuntResult:
    bug: str | None
    found: bool
    schedule: Schedule | None
    outcome: Outcome | None
    runs: int
    seconds_to_first_failure: float | None
    shrink_seconds: float
    shrink_steps: int
    shrink_complete: bool
    first: Schedule | None = None
    notes: list[str] = field(default_factory=list)
    cpu_to_first_failure: float | None = None  # this process's CPU seconds (the machine
    cpu_seconds: float = 0.0                   # is shared: wall seconds depend on its load)
    wall_to_first_failure: float | None = None  # wall seconds, whichever clock the budget uses
    wall_seconds: float = 0.0
    # Hypothesis's shrunk schedule and its run, before the post-pass (checker/hunt_tighten.py)
    # made `schedule` shorter; both are reported, measured the same way
    shrunk: Schedule | None = None
    shrunk_outcome: Outcome | None = None
    tighten_seconds: float = 0.0
    tighten_runs: int = 0
    tighten_steps: int = 0
    tighten_complete: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "bug": self.bug, "found": self.found, "runs": self.runs,
            "seconds_to_first_failure": _round(self.seconds_to_first_failure),
            "shrink_seconds": round(self.shrink_seconds, 3), "shrink_steps": self.shrink_steps,
            "shrink_complete": self.shrink_complete,
            "cpu_to_first_failure": _round(self.cpu_to_first_failure),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "wall_to_first_failure": _round(self.wall_to_first_failure),
            "wall_seconds": round(self.wall_seconds, 3),
            "faults": None if self.schedule is None else self.schedule.faults,
            "first_faults": None if self.first is None else self.first.faults,
            "core_events": None if self.outcome is None else self.outcome.core_events,
            "failure": None if self.outcome is None else self.outcome.failure,
            "shrunk_faults": None if self.shrunk is None else self.shrunk.faults,
            "shrunk_core_events": (None if self.shrunk_outcome is None
                                   else self.shrunk_outcome.core_events),
            "tighten_seconds": round(self.tighten_seconds, 3),
            "tighten_runs": self.tighten_runs, "tighten_steps": self.tighten_steps,
            "tighten_complete": self.tighten_complete,
            "schedule": None if self.schedule is None else [self.schedule.header(),
                                                            *self.schedule.items],
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def run_schedule(schedule: Schedule) -> Outcome:
    """Run a `faults` schedule; its failure by the lab's checks, the core, or the trace's
    invariants."""
    with tempfile.TemporaryDirectory(prefix="dscheck-hunt-") as folder:
        path = Path(folder) / "trace.jsonl"
        with path.open("w", encoding="utf-8") as stream:
            run = simulate(seed=schedule.seed, servers=schedule.servers,
                           unreliable=schedule.unreliable, snapshots=schedule.snapshots,
                           duration_ms=schedule.duration_ms, drop_rate=schedule.drop_rate,
                           trace=TraceWriter(stream), bugs=frozenset(schedule.bugs),
                           faults=list(schedule.items), clients=schedule.clients)
        judged = check_trace(path, max_violations=1, also=RIVALS)
        lines = path.read_text(encoding="utf-8").splitlines()
    failure = run.failure
    stop = len(lines)
    if judged.verdict is Verdict.VIOLATION:
        v = judged.violations[0]
        failure = f"{v.invariant} at trace line {v.line}: {v.detail}"
        stop = v.line
    if failure is None:
        return Outcome(None, 0)
    events = sum(1 for text in lines[1:stop] if _event(text) in _CORE_EVENTS)
    return Outcome(failure, events)


def _event(line: str) -> str:
    start = line.find('"event":"')
    return line[start + 9:line.find('"', start + 9)] if start >= 0 else ""


def schedules(bug: str | None, servers: int, duration_ms: int, max_faults: int,
              unreliable: bool, snapshots: bool | None = None) -> hs.SearchStrategy[Schedule]:
    """Hypothesis's strategy: a seed, a drop rate, snapshots on or off, the churn clients
    on or off, and up to `max_faults` faults in time order, drawn as episodes (see
    `episodes`). The drop rate is the lab's or a lossier one (`DROP_RATES`): lost
    RequestVotes and heartbeats make split votes, candidates of one term that never heard
    of each other, and logs left behind — the states most flags need — far more common
    than the lab's rate does. Snapshots are on or off: with them on, a leader whose
    follower is behind its snapshot sends InstallSnapshot, never an AppendEntries, so a
    flag that shows on an AppendEntries to a follower back from a long absence
    (commit-to-last-index) cannot show; with them off it can, and the snapshot flags need
    them on (`snapshots`: None draws it, else fixed). The lab's three churn clients, or
    none: without them every log stays equal until the settling's command, so that votes
    are decided by terms alone — a leader holding its clients' newest entries refuses every
    candidate that lacks them, which hides the vote flags (grant-before-persist) — and a
    run takes a hundredth of the CPU time. Shrinking tends to the clients on, the lab's
    setting: a flag that shows on entries shows sooner with them (apply-before-commit, with
    none, waits for the settling's command: 218 core events instead of 8); the post-pass
    (checker/hunt_tighten.py) tries fewer, judging by the run's length."""
    return hs.builds(
        lambda seed, rate, snapshots, clients, drawn: Schedule(
            kind="faults", servers=servers, bugs=() if bug is None else (bug,), seed=seed,
            duration_ms=duration_ms, unreliable=unreliable,
            drop_rate=rate if unreliable else None, snapshots=snapshots, clients=clients,
            items=_in_order(drawn, max_faults)),
        hs.integers(0, 10_000), hs.sampled_from(DROP_RATES),
        hs.booleans() if snapshots is None else hs.just(snapshots),
        hs.sampled_from((CLIENTS, 0)),
        hs.lists(episodes(servers, duration_ms), max_size=max_faults))


def episodes(servers: int, duration_ms: int) -> hs.SearchStrategy[list[dict[str, Any]]]:
    """One episode: a single fault, or a pair that undoes itself soon after — a crash and
    the restart of the same server, an isolated server (a one-against-the-rest partition,
    or a disconnect) and its return. Flag bugs show in the window a pair opens: a voter
    that forgets its vote between two candidates' requests, a leader cut off while the
    others move on, a server back with a stale log. Uniformly drawn single faults rarely
    make such windows (a restart of the crashed server lands seconds later, if at all);
    drawing the pair as one item with a short gap makes them common, and the shrinker
    keeps or drops the pair whole. A third of the episodes are faults aimed at a role
    (`aimed`), a third election races (`race`)."""
    node = hs.integers(0, servers - 1)
    at = hs.integers(0, duration_ms)
    gap = hs.integers(0, 2 * ELECTION_TIMEOUT_MS)

    def then(t: int, dt: int) -> int:
        return min(t + dt, duration_ms)

    def single(op: str) -> hs.SearchStrategy[list[dict[str, Any]]]:
        if op == "heal":
            return hs.builds(lambda t: [{"t": t, "op": op}], at)
        if op == "partition":
            return hs.builds(lambda t, mask: [{"t": t, "op": op,
                                               "groups": _split(mask, servers)}],
                             at, hs.integers(1, 2 ** servers - 2))
        return hs.builds(lambda t, i: [{"t": t, "op": op, "node": i}], at, node)

    crash_restart = hs.builds(
        lambda t, dt, i: [{"t": t, "op": "crash", "node": i},
                          {"t": then(t, dt), "op": "restart", "node": i}], at, gap, node)
    isolate = hs.builds(
        lambda t, dt, i: [{"t": t, "op": "partition", "groups": _split(1 << i, servers)},
                          {"t": then(t, dt), "op": "heal"}], at, gap, node)
    disconnect = hs.builds(
        lambda t, dt, i: [{"t": t, "op": "disconnect", "node": i},
                          {"t": then(t, dt), "op": "connect", "node": i}], at, gap, node)
    # a third of the episodes aimed, a third races: as one of ten alternatives, an aimed
    # fault came once in ten episodes, and the flags that need two of them met rarely
    timed = hs.one_of(crash_restart, isolate, disconnect, *(single(op) for op in OPS))
    return hs.one_of(timed, aimed(servers, duration_ms), race(duration_ms))


# how long an aimed fault lasts before it is undone: 0 (a crash and an immediate restart,
# what the vote flags need) first, so that shrinking tends to it; then a heartbeat, an
# election timeout, and longer absences
FOR_MS = (0, 50, 150, 400, 1000, 2000)
SLOW_MS = 60  # a slowed server's requests: past the network's 0-27 ms, so replies overtake them
# The aimed faults drawn: (op, role, trigger, peer role). Not the whole product of ops,
# roles and triggers (4 × 5 × 4 × 5, most of it meaningless: crash a candidate when some
# server votes), but the moves the flags' counterexamples are made of, so that two or three
# of them meet in one schedule often enough.
AIMS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("crash", "voter", "elected", None),       # a voter forgets its vote (restarted at once)
    ("cut", "candidate", "candidate", "nonvoter"),  # a candidate unheard by one server
    ("isolate", "leader", None, None),         # a leader cut off while the others move on
    ("isolate", "leader", "elected", None),    # ... a new leader, cut off before it replicates
    ("crash", "leader", None, None),
    ("cut", "leader", None, "follower"),       # one follower stops hearing the leader
    ("cut", "leader", "elected", "nonvoter"),  # a new leader unheard by a server (a rival)
    ("crash", "leader", "elected", None),
    ("disconnect", "follower", None, None),
    ("slow", "candidate", "candidate", None),  # its RequestVotes overtaken by replies
)


def aimed(servers: int, duration_ms: int) -> hs.SearchStrategy[list[dict[str, Any]]]:
    """A fault aimed at a role and undone after a while (impl/raft/scenarios/roles.py), at
    time t or at the first election event after t ("crash a voter of the new leader as
    soon as it is elected, and restart it at once"; "cut the new candidate from a server
    that has not voted for it"). Server numbers cost a factor of the cluster size per role
    a flag needs; roles resolved at run time do not."""
    def build(t: int, aim: tuple[str, str, str | None, str | None], pick: int, ms: int,
              peer_pick: int) -> list[dict[str, Any]]:
        op, node, on, peer = aim
        fault: dict[str, Any] = {"t": t, "op": op, "node": node}
        if pick:
            fault["pick"] = pick
        if peer is not None:
            fault["peer"] = peer
            if peer_pick:
                fault["peer_pick"] = peer_pick
        if op == "slow":
            fault["ms"] = SLOW_MS
        if on is not None:
            fault["on"] = on
        fault["for"] = ms
        return [fault]

    pick = hs.integers(0, servers - 1)
    return hs.builds(build, hs.integers(0, duration_ms), hs.sampled_from(AIMS), pick,
                     hs.sampled_from(FOR_MS), pick)


# A raced candidate's requests are this much slower: a heartbeat period (100 ms) and a round
# trip (2 × 27 ms at most) more, so that the leader's next heartbeat is answered, with the
# candidate's new term, before its RequestVote arrives.
RACE_SLOW_MS = 160


def race(duration_ms: int) -> hs.SearchStrategy[list[dict[str, Any]]]:
    """An election race at time t: a follower's election timer runs out while its leader
    is alive (the `timeout` op, on the follower `pick`), and, each drawn on or off:
    the new candidate's requests slowed so that replies overtake them (the leader learns
    the new term from its heartbeat's refusal before the RequestVote arrives: it is then
    in the term without a vote, and its grant is a step that raises nothing — what
    grant-before-persist needs); the new candidate cut from the other follower for a while
    (it wins with the old leader's vote alone, and the cut-off server, hearing from no
    leader, times out into the same term later); and a server that voted for the winner
    crashed as soon as it is elected and restarted at once (it forgets what it did not
    persist: a vote, under the vote flags). The slow and the cut are armed `on` candidate
    just before the timeout, so that they meet its RequestVotes. Random timers make such
    races when heartbeats are lost; a fault makes them at a time Hypothesis chooses, and
    shrinks like any other (shrinking tends to each part off, but for the slow)."""
    def build(t: int, pick: int, slow: bool, cut: int, restart: bool) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = []
        if restart:
            faults.append({"t": t, "op": "crash", "node": "voter", "on": "elected", "for": 0})
        if slow:
            faults.append({"t": t, "op": "slow", "node": "candidate", "ms": RACE_SLOW_MS,
                           "on": "candidate", "for": RACE_SLOW_MS})
        if cut:
            faults.append({"t": t, "op": "cut", "node": "candidate", "peer": "follower",
                           "on": "candidate", "for": cut})
        faults.append({"t": t, "op": "timeout", "node": "follower", "pick": pick})
        return faults

    # the slow is drawn on first, so that shrinking keeps it: without it the leader's
    # heartbeat overtakes the RequestVote by luck (one seed in ten or twenty), and a shrunk
    # schedule that fails only under its own seed's luck cannot be made shorter
    # (checker/hunt_tighten.py removes the slow where the run fails without it)
    # A race is against a leader: the lab's tester expects the first one within its election
    # timeout of the start, so a race is drawn from then on. Hypothesis draws small numbers
    # far more often than large ones, and races drawn from 0 came mostly before any leader
    # existed: ordinary first elections (of 19 full races without clients or extra drops
    # among 3,000 schedules, none failed grant-before-persist).
    start = min(ELECTION_TIMEOUT_MS, duration_ms)
    return hs.builds(build, hs.integers(start, duration_ms), hs.integers(0, 1),
                     hs.sampled_from((True, False)), hs.sampled_from((0, *FOR_MS[3:])),
                     hs.booleans())


def _in_order(drawn: list[list[dict[str, Any]]], max_faults: int) -> tuple[dict[str, Any], ...]:
    """The episodes' faults in time order (a stable sort: a pair at one time keeps its
    order), the latest cut to keep at most `max_faults` (the settling heals everything)."""
    faults = sorted((f for episode in drawn for f in episode), key=lambda f: f["t"])
    return tuple(faults[:max_faults])


def _split(mask: int, servers: int) -> list[list[int]]:
    return [[j for j in range(servers) if mask >> j & 1],
            [j for j in range(servers) if not mask >> j & 1]]


def _key(schedule: Schedule) -> tuple[Any, ...]:
    return (json.dumps(schedule.items, sort_keys=True), schedule.seed, schedule.drop_rate,
            schedule.snapshots, schedule.clients, schedule.duration_ms)


def hunt(bug: str | None, *, servers: int = 3, duration_ms: int = 4_000, max_faults: int = 8,
         unreliable: bool = True, max_examples: int = 200, budget_s: float = 120.0,
         snapshots: bool | None = None, cpu_budget: bool = False,
         tighten: bool = True) -> HuntResult:
    """Search schedules for a failure with `bug` on (None: the correct core, which must
    pass them all), then shrink it within `budget_s` seconds of the start (see the module
    docstring): wall seconds, or this process's CPU seconds with `cpu_budget` (on a shared
    machine, the same work whatever the load). Times in the result are on that clock.
    With `tighten`, the shrunk schedule is then made shorter still, within the same budget
    (checker/hunt_tighten.py)."""
    memo: dict[tuple[Any, ...], Outcome] = {}
    clock = time.process_time if cpu_budget else time.perf_counter
    started, cpu, wall = clock(), time.process_time(), time.perf_counter()
    state: dict[str, Any] = {"first_at": None, "first": None, "best": None, "steps": 0,
                             "cut": False}

    def outcome_of(schedule: Schedule) -> Outcome | None:
        """The schedule's run, memoised; None once the budget is spent (nothing new runs)."""
        key = _key(schedule)
        if key not in memo:
            if clock() - started > budget_s:
                return None
            memo[key] = run_schedule(schedule)
        return memo[key]

    def fails(schedule: Schedule) -> bool:
        known = _key(schedule) in memo
        outcome = outcome_of(schedule)
        if outcome is None:
            # out of time. Answering "passes" stops the shrinker, but not the generation,
            # which would go on drawing (cheaply, but up to max_examples) — so the search
            # is ended: the best schedule so far stands.
            state["cut"] = True
            raise _OutOfTime
        if known or outcome.failure is None:
            return outcome.failure is not None
        if state["first_at"] is None:
            state["first_at"] = clock() - started
            state["first_cpu"] = time.process_time() - cpu
            state["first_wall"] = time.perf_counter() - wall
            state["first"] = schedule
        else:
            state["steps"] += 1
        best = state["best"]
        if best is None or _size(schedule) < _size(best):
            state["best"] = schedule
        return True

    options = settings(max_examples=max_examples, deadline=None, database=None,
                       derandomize=True, phases=[Phase.generate, Phase.shrink],
                       suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    try:
        shrunk: Schedule | None = find(
            schedules(bug, servers, duration_ms, max_faults, unreliable, snapshots), fails,
            settings=options)
    except (NoSuchExample, _OutOfTime):
        shrunk = None
    seconds = clock() - started
    if shrunk is None and state["best"] is not None:
        shrunk = state["best"]
    outcome = memo.get(_key(shrunk)) if shrunk is not None else None
    final, final_outcome, post = shrunk, outcome, None
    if tighten and shrunk is not None and outcome is not None:
        post = tighten_schedule(shrunk, outcome, outcome_of)
        final, final_outcome = post.schedule, post.outcome
    first_at = state["first_at"]
    return HuntResult(
        bug=bug, found=shrunk is not None, schedule=final, outcome=final_outcome,
        runs=len(memo), shrunk=shrunk, shrunk_outcome=outcome,
        tighten_seconds=0.0 if post is None else clock() - started - seconds,
        tighten_runs=0 if post is None else post.runs,
        tighten_steps=0 if post is None else post.steps,
        tighten_complete=post is None or post.complete,
        seconds_to_first_failure=first_at,
        shrink_seconds=0.0 if first_at is None else seconds - first_at,
        shrink_steps=state["steps"], shrink_complete=not state["cut"], first=state["first"],
        cpu_to_first_failure=state.get("first_cpu"), cpu_seconds=time.process_time() - cpu,
        wall_to_first_failure=state.get("first_wall"), wall_seconds=time.perf_counter() - wall)


def _size(schedule: Schedule) -> tuple[int, int, int]:
    last = max((f["t"] for f in schedule.items), default=0)
    return (schedule.faults, last, schedule.seed)
