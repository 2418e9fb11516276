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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from impl.raft.labtester import ELECTION_TIMEOUT_MS, RaftTester, RaftTestFailure
from impl.raft.scenarios.part2b import rand_int
from impl.raft.scenarios.part2c import _churn_client
from impl.sim.faults import Fault
from impl.sim.loop import Task
from impl.trace import TraceWriter

if TYPE_CHECKING:
    from impl.raft.scenarios import Scenario

FAULTS = ("disconnect", "connect", "crash", "restart", "partition", "heal")


def random_faults(cfg: RaftTester, duration_ms: int) -> Task[None]:
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
        if fault == "disconnect":
            cfg.disconnect(i)
        elif fault == "connect" and cfg.rafts[i] is not None:
            cfg.connect(i)
        elif fault == "crash" and cfg.rafts[i] is not None:
            cfg.crash1(i)
        elif fault == "restart" and cfg.rafts[i] is None:
            cfg.start1(i)
            cfg.connect(i)
        elif fault == "partition" and n > 1:
            live = [j for j in range(n) if cfg.rafts[j] is not None]
            rng.shuffle(live)
            cut = rng.randint(1, max(1, len(live) - 1))
            cfg.partition([sorted(live[:cut]), sorted(live[cut:])])
        elif fault == "heal":
            _heal(cfg)
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
) -> SimRun:
    """Run a lab scenario, or (scenario None) the random fault schedule, under `seed`.

    This is the library form of `dscheck sim raft`: the demo and other tools call it to get
    a recorded run (pass a `TraceWriter`) and its verdict. `bugs` turns fault flags of the
    core on (impl.raft.bugs)."""
    if scenario is not None:
        cfg = scenario.tester(seed, trace, bugs, drop_rate)
        task = scenario.play(cfg)
    else:
        cfg = RaftTester(servers, unreliable=unreliable, snapshot=snapshots, seed=seed,
                         trace=trace, scenario="random", drop_rate=drop_rate, bugs=bugs,
                         duration_ms=duration_ms)
        task = random_faults(cfg, duration_ms)
    started = time.perf_counter()
    failure: str | None = None
    fault: Fault | None = None
    try:
        cfg.run(task)
    except RaftTestFailure as error:
        failure = str(error)
    except Exception as error:  # a broken core is a finding, not a crash (impl.sim.faults)
        fault = cfg.fault(error)
        failure = fault.describe()
    return SimRun(cfg, failure, time.perf_counter() - started, fault)
