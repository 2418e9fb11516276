"""A random fault schedule for the key/value service: what `dscheck sim kv` runs when no
scenario is named.

Clients run the lab's random-keys loop (keys "0" … clients−1; 50 % appends, some puts, the
rest gets) for `duration_ms` of virtual time while, every 0.2–1.5 s, one fault is drawn from
those enabled: split the servers into two random halves or heal them (`partitions`), crash
a server or restart a crashed one (`crashes`). Then everything heals, every crashed server
restarts, and the clients go on for one more election timeout — and the run stops right
there, with calls in flight. Those are settled from what the servers executed, or stay
unknown (impl.kv.history). All along, the tester watches that replicas apply the same calls
at the same indexes and that no call executes twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from impl.kv.labtester import ELECTION_TIMEOUT_MS, KVTester, KVTestFailure, Summary
from impl.kv.scenarios.generic import client_loop
from impl.kv.tasks import KvTask, spawn
from impl.sim.faults import Fault, run_judged
from impl.trace import TraceWriter

if TYPE_CHECKING:
    from impl.kv.scenarios import Scenario


def random_faults(cfg: KVTester, clients: int, duration_ms: int, partitions: bool,
                  crashes: bool) -> KvTask[list[Summary]]:
    n, rng = cfg.n, cfg.rng
    faults = (["partition", "heal"] if partitions else []) + (
        ["crash", "restart"] if crashes else [])
    cfg.begin("random faults")
    stop = [False]
    for cli in range(clients):
        spawn(cfg.loop, client_loop(cfg, cli, clients, True, stop), f"client{cli}")
    end = cfg.now + duration_ms
    while cfg.now < end:
        yield min(rng.randint(200, 1500), end - cfg.now)
        if cfg.now >= end or not faults:
            continue
        fault = rng.choice(faults)
        i = rng.randrange(n)
        if fault == "partition":
            side = [rng.randrange(2) for _ in range(n)]
            cfg.partition([j for j in range(n) if side[j] == 0],
                          [j for j in range(n) if side[j] == 1])
        elif fault == "heal":
            cfg.connect_all()
        elif fault == "crash" and cfg.servers[i] is not None:
            cfg.shutdown_server(i)
        elif fault == "restart" and cfg.servers[i] is None:
            cfg.start_server(i)
            cfg.connect_all()
    for i in range(n):
        if cfg.servers[i] is None:
            cfg.start_server(i)
    cfg.connect_all()
    yield ELECTION_TIMEOUT_MS
    stop[0] = True  # the run ends now: calls still in flight are settled or unknown
    return [cfg.end()]


@dataclass(frozen=True, slots=True)
class SimRun:
    """One simulated run: the tester (cluster, counters, history), its pass lines, what went
    wrong if anything (`failure` None: every check held; else a lab check's message, or the
    description of `fault`: an exception the implementation raised, or the watchdog's
    finding), and the calls in flight at the end settled / left unknown."""

    tester: KVTester
    summaries: tuple[Summary, ...]
    failure: str | None
    settled: int
    unknown: int
    wall_seconds: float
    fault: Fault | None = None


def simulate(
    *,
    seed: int,
    scenario: Scenario | None = None,
    servers: int = 5,
    clients: int = 5,
    unreliable: bool = False,
    partitions: bool = True,
    crashes: bool = True,
    maxraftstate: int = -1,
    duration_ms: int = 20_000,
    trace: TraceWriter | None = None,
    read_index: bool = False,
) -> SimRun:
    """Run a lab scenario, or (scenario None) the random fault schedule, under `seed`, with
    gets by ReadIndex if `read_index`; the library form of `dscheck sim kv`."""
    if scenario is not None:
        cfg = scenario.tester(seed, trace, read_index)
        task = scenario.play(cfg)
    else:
        cfg = KVTester(servers, unreliable=unreliable, maxraftstate=maxraftstate, seed=seed,
                       trace=trace, scenario="random", read_index=read_index)
        task = random_faults(cfg, clients, duration_ms, partitions, crashes)
    started = time.perf_counter()
    summaries, failure, fault = run_judged(lambda: cfg.run(task), KVTestFailure, cfg.fault)
    settled, unknown = cfg.settle()
    return SimRun(cfg, tuple(summaries or ()), failure, settled, unknown,
                  time.perf_counter() - started, fault)
