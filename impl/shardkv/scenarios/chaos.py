"""A random schedule for the sharded key/value service: what `dscheck sim shardkv` runs when
no scenario is named.

Group 100 joins first; then clients run TestUnreliable3's loop (random keys "0".."9": 50 %
appends, some puts, the rest gets) for `duration_ms` of virtual time while, every 0.2–1.5 s,
one fault is drawn from those enabled: a group that is not in the configuration joins, or
one that is leaves (never the last one: a Leave of every group leaves the data nowhere, as
in the lab) (`reconfigure`); a server crashes, a whole group crashes, or a crashed server
restarts (`crashes`). The network is lossy throughout if asked (`unreliable`, the
controller's traffic included). Then every crashed server restarts, the clients go on for
two more seconds, and the run stops right there, with calls in flight: those are settled
from what the groups executed, or stay unknown (impl.kv.history). All along, the tester
watches every apply (replicas agree; no call executes twice anywhere).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from impl.kv.labtester import TEST_BUDGET_MS, Summary
from impl.kv.tasks import KvTask, spawn
from impl.shardkv.labtester import ShardTester, ShardTestFailure
from impl.shardkv.scenarios import Scenario
from impl.shardkv.scenarios.lab import randstring
from impl.sim.faults import Fault, run_judged
from impl.trace import TraceWriter

SETTLE_MS = 2000


def random_faults(cfg: ShardTester, clients: int, duration_ms: int, reconfigure: bool,
                  crashes: bool) -> KvTask[list[Summary]]:
    rng = cfg.rng
    groups = len(cfg.gids)
    faults = (["join", "leave"] if reconfigure else []) + (
        ["crash", "crash-group", "restart", "restart"] if crashes else [])
    cfg.begin("random faults")
    yield from cfg.join(0)
    joined = {0}
    stop = [False]
    keys = [str(i) for i in range(10)]

    def client(i: int) -> KvTask[None]:
        ck = cfg.make_client()
        while not stop[0]:
            key = rng.choice(keys)
            if rng.randrange(1000) < 500:
                yield from ck.append(key, randstring(cfg, 5))
            elif rng.randrange(1000) < 100:
                yield from ck.put(key, randstring(cfg, 5))
            else:
                yield from ck.get(key)

    for i in range(clients):
        spawn(cfg.loop, client(i), f"client{i}")
    end = cfg.now + duration_ms
    while cfg.now < end:
        yield min(rng.randint(200, 1500), end - cfg.now)
        if cfg.now >= end or not faults:
            continue
        fault = rng.choice(faults)
        gi = rng.randrange(groups)
        if fault == "join" and gi not in joined:
            yield from cfg.join(gi)
            joined.add(gi)
        elif fault == "leave" and gi in joined and len(joined) > 1:
            yield from cfg.leave(gi)
            joined.discard(gi)
        elif fault == "crash":
            i = rng.randrange(cfg.n)
            if cfg.servers[cfg.gids[gi]][i] is not None:
                cfg.shutdown_server(gi, i)
        elif fault == "crash-group":
            cfg.shutdown_group(gi)
        elif fault == "restart":
            down = [(g, i) for g in range(groups) for i in range(cfg.n)
                    if cfg.servers[cfg.gids[g]][i] is None]
            if down:
                cfg.start_server(*rng.choice(down))
    for g in range(groups):
        for i in range(cfg.n):
            if cfg.servers[cfg.gids[g]][i] is None:
                cfg.start_server(g, i)
    yield SETTLE_MS
    stop[0] = True  # the run ends now: calls still in flight are settled or unknown
    return [cfg.end()]


@dataclass(frozen=True, slots=True)
class SimRun:
    """One simulated run: the tester (service, counters, history), its pass lines, what went
    wrong if anything (`failure` None: every check held; else a lab check's message, or the
    description of `fault`: an exception the implementation raised, or the watchdog's
    finding), and the calls in flight at the end settled / left unknown."""

    tester: ShardTester
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
    servers: int = 3,
    clients: int = 5,
    unreliable: bool = False,
    reconfigure: bool = True,
    crashes: bool = True,
    maxraftstate: int = -1,
    duration_ms: int = 20_000,
    bugs: frozenset[str] = frozenset(),
    trace: TraceWriter | None = None,
) -> SimRun:
    """Run a lab scenario, or (scenario None) the random schedule, under `seed`; the library
    form of `dscheck sim shardkv`."""
    budget = TEST_BUDGET_MS
    if scenario is not None:
        cfg = scenario.tester(seed, trace, bugs)
        task = scenario.play(cfg)
    else:
        cfg = ShardTester(servers, unreliable=unreliable, maxraftstate=maxraftstate, seed=seed,
                          trace=trace, scenario="random", bugs=bugs)
        task = random_faults(cfg, clients, duration_ms, reconfigure, crashes)
        # The schedule's own length, and as long again as the lab's budget to finish.
        budget = duration_ms + TEST_BUDGET_MS
    started = time.perf_counter()
    summaries, failure, fault = run_judged(lambda: cfg.run(task, budget), ShardTestFailure, cfg.fault)
    settled, unknown = cfg.settle()
    return SimRun(cfg, tuple(summaries or ()), failure, settled, unknown,
                  time.perf_counter() - started, fault)
