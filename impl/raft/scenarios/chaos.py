"""A random fault schedule: what `dscheck sim raft` runs when no scenario is named.

For `duration_ms` of virtual time, three clients keep starting commands (as in the lab's
churn test) while, every 0.2–1.5 s, one fault is drawn: disconnect a server, reconnect one,
crash one, restart one, split the cluster into two random groups, or heal everything. Then
everything heals and restarts, and the cluster must agree on a final command on all servers
within the lab's one() budget; every value a client saw committed must be in the final log.
All along, the tester's apply checkers and its Election Safety watch are on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from impl.raft.labtester import ELECTION_TIMEOUT_MS, RaftTester, RaftTestFailure
from impl.raft.scenarios.part2b import rand_int
from impl.raft.scenarios.part2c import _churn_client
from impl.raft.scenarios.roles import RoleFaults
from impl.sim.faults import Fault, run_judged
from impl.sim.loop import Task, TaskHandle
from impl.sim.schedule import CLIENTS
from impl.trace import TraceWriter

if TYPE_CHECKING:
    from impl.raft.scenarios import Scenario

FAULTS = ("disconnect", "connect", "crash", "restart", "partition", "heal")


def random_faults(cfg: RaftTester, duration_ms: int,
                  record: list[dict[str, Any]] | None = None) -> Task[None]:
    """The random fault schedule; every fault slot drawn is appended to `record` (when given)
    as a fault of a `faults` schedule (impl.sim.schedule), so that `scheduled_faults` can
    replay the run draw for draw."""
    n, rng = cfg.n, cfg.rng
    cfg.begin()
    stop = [False]
    clients = [cfg.loop.spawn(_churn_client(cfg, me, stop), f"client{me}") for me in range(3)]
    end = cfg.now + duration_ms
    while cfg.now < end:
        yield min(rng.randint(200, 1500), max(0, end - cfg.now))
        if cfg.now >= end:
            break
        fault = rng.choice(FAULTS)
        i = rng.randrange(n)
        done: dict[str, Any] = {"t": cfg.now, "op": "skip"}
        if fault == "disconnect":
            cfg.disconnect(i)
            done.update(op=fault, node=i)
        elif fault == "connect" and cfg.rafts[i] is not None:
            cfg.connect(i)
            done.update(op=fault, node=i)
        elif fault == "crash" and cfg.rafts[i] is not None:
            cfg.crash1(i)
            done.update(op=fault, node=i)
        elif fault == "restart" and cfg.rafts[i] is None:
            _restart(cfg, i)
            done.update(op=fault, node=i)
        elif fault == "partition" and n > 1:
            done.update(op=fault, groups=_partition(cfg))
        elif fault == "heal":
            _heal(cfg)
            done.update(op=fault)
        if record is not None:
            record.append(done)
    yield from _settle(cfg, stop, clients)


def scheduled_faults(cfg: RaftTester, duration_ms: int,
                     faults: Sequence[dict[str, Any]], clients: int = CLIENTS) -> Task[None]:
    """The random fault schedule's run with its faults read from `faults` (a `faults`
    schedule's items) instead of drawn. The draws `random_faults` makes for each fault slot
    are still made, and discarded, so that a recorded run replays draw for draw: the seed's
    draws then decide everything else (delays, drops, reordering, timeouts, clients) as they
    did. For a schedule edited by hand or shrunk, the run is just as deterministic.
    `clients` churn clients run (fewer than the recorded run's three: its draws differ)."""
    n, rng = cfg.n, cfg.rng
    cfg.begin()
    stop = [False]
    tasks = [cfg.loop.spawn(_churn_client(cfg, me, stop), f"client{me}") for me in range(clients)]
    end = cfg.now + duration_ms
    roles = RoleFaults(cfg, _restart, _heal)
    for fault in faults:
        rng.randint(200, 1500)  # the slot's gap, as random_faults draws it
        yield max(0, min(fault["t"], end) - cfg.now)
        rng.choice(FAULTS)
        rng.randrange(n)
        op = fault["op"]
        if "on" in fault:
            roles.arm(fault)  # carried out at the next such event (impl/raft/scenarios/roles.py)
        elif op == "partition":
            _partition(cfg, fault["groups"])  # with random_faults's draws
            roles.healed()  # the groups replace any isolation
            if "for" in fault:
                cfg.loop.call_later(fault["for"], roles.carry_out, {"op": "heal"})
        elif op != "skip":
            roles.carry_out(fault)  # heal too: it ends the isolations
    while cfg.now < end:
        yield min(rng.randint(200, 1500), max(0, end - cfg.now))
    roles.armed.clear()  # a trigger not met by the end: the settling must run undisturbed
    yield from _settle(cfg, stop, tasks)


def _restart(cfg: RaftTester, i: int) -> None:
    cfg.start1(i)
    cfg.connect(i)


def _partition(cfg: RaftTester, groups: list[list[int]] | None = None) -> list[list[int]]:
    """Split the live servers in two at random (the draws random_faults makes), or into
    `groups` when given (the draws are made all the same)."""
    rng = cfg.rng
    live = [j for j in range(cfg.n) if cfg.rafts[j] is not None]
    rng.shuffle(live)
    cut = rng.randint(1, max(1, len(live) - 1))
    chosen = groups if groups is not None else [sorted(live[:cut]), sorted(live[cut:])]
    cfg.partition(chosen)
    return chosen


def _settle(cfg: RaftTester, stop: list[bool], clients: list[TaskHandle[list[Any]]]) -> Task[None]:
    """After the faults: heal and restart everything; the cluster must agree on a final
    command, and every value a client saw committed must be in the log."""
    n = cfg.n
    _heal(cfg, restart=True)
    stop[0] = True
    while not all(client.done for client in clients):
        yield 1
    values = [v for client in clients for v in (client.result or [])]
    yield ELECTION_TIMEOUT_MS
    last_index = yield from cfg.one(rand_int(cfg), n, True)
    present = set()
    for index in range(1, last_index + 1):
        present.add((yield from cfg.wait(index, n, -1)))
    missing = [v for v in values if v not in present]
    if missing:
        raise cfg.fail(f"didn't find a value: {missing[0]} was seen committed by a client")
    cfg.end()


def _heal(cfg: RaftTester, restart: bool = False) -> None:
    for i in range(cfg.n):
        if cfg.rafts[i] is None and restart:
            cfg.start1(i)
    for i in range(cfg.n):
        cfg.disconnect(i)
    for i in range(cfg.n):
        if cfg.rafts[i] is not None:
            cfg.connect(i)


@dataclass(frozen=True, slots=True)
class SimRun:
    """One simulated run: the tester (cluster, network, counters) and what went wrong, if
    anything (`failure` None: every check held). `failure` is a lab check's message, or the
    description of `fault`: an exception the implementation raised, or the watchdog's
    finding (impl.sim.faults); either way the run ended there and its trace is a prefix."""

    tester: RaftTester
    failure: str | None
    wall_seconds: float
    fault: Fault | None = None


def simulate(
    *,
    seed: int,
    scenario: Scenario | None = None,
    servers: int = 5,
    unreliable: bool = False,
    snapshots: bool = False,
    duration_ms: int = 30_000,
    drop_rate: float | None = None,
    trace: TraceWriter | None = None,
    bugs: frozenset[str] = frozenset(),
    faults: Sequence[dict[str, Any]] | None = None,
    record: list[dict[str, Any]] | None = None,
    clients: int = CLIENTS,
    schedule: str | None = None,
) -> SimRun:
    """Run a lab scenario, or (scenario None) the random fault schedule, under `seed`.

    This is the library form of `dscheck sim raft`: the demo and other tools call it to get
    a recorded run (pass a `TraceWriter`) and its verdict. `bugs` turns fault flags of the
    core on (impl.raft.bugs). For the random schedule, `faults` replays a `faults`
    schedule's items instead of drawing them (with `clients` churn clients; `schedule` names
    the file they came from, for the trace's header), and `record` receives the faults drawn."""
    if scenario is not None:
        cfg = scenario.tester(seed, trace, bugs, drop_rate)
        task = scenario.play(cfg)
    else:
        cfg = RaftTester(servers, unreliable=unreliable, snapshot=snapshots, seed=seed,
                         trace=trace, scenario="random", drop_rate=drop_rate, bugs=bugs,
                         duration_ms=duration_ms, schedule=schedule)
        task = (random_faults(cfg, duration_ms, record) if faults is None
                else scheduled_faults(cfg, duration_ms, faults, clients))
    started = time.perf_counter()
    _, failure, fault = run_judged(lambda: cfg.run(task), RaftTestFailure, cfg.fault)
    return SimRun(cfg, failure, time.perf_counter() - started, fault)
