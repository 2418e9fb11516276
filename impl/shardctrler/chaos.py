"""A random schedule for the shard controller: what `dscheck sim shardctrler` runs when no
scenario is named.

`clients` clerks make random calls for `duration_ms` of virtual time — a Join of a group
not yet present, a Leave of a present one, a Move of a random shard to a present group, or a
Query of the newest or of a random earlier configuration — while, every 0.3–1.5 s, a
controller server crashes or a crashed one restarts (`crashes`; at most a minority is down
at once, so calls keep completing). Calls the controller refuses (two clerks joining the same
group at once, say) are answered ErrInvalid, as the spec says, and audited as such. Then
every crashed server restarts and the clients stop; the history is audited against the
controller's spec (checker.shardctrler.audit).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from impl.kv.labtester import Summary
from impl.kv.tasks import KvTask, spawn
from impl.shardctrler.labtester import CtrlTester, CtrlTestFailure
from impl.shardctrler.scenarios import Scenario
from impl.sim.faults import Fault, run_judged
from impl.trace import TraceWriter
from spec.shardctrler import NSHARDS

GIDS = tuple(range(1, 8))  # the groups random calls name


def random_calls(cfg: CtrlTester, clients: int, duration_ms: int,
                 crashes: bool) -> KvTask[list[Summary]]:
    rng = cfg.rng
    cfg.begin("random calls")
    stop = [False]
    refused = [0]

    def client(i: int) -> KvTask[None]:
        ck = cfg.make_clerk()
        while not stop[0]:
            latest = yield from ck.query(-1)
            present = list(latest.gids)
            choice = rng.randrange(4)
            absent = [g for g in GIDS if g not in present]
            node = ck.node
            if choice == 0 and absent:
                gid = rng.choice(absent)
                answer = yield node.join({gid: [f"s{gid}a", f"s{gid}b"]})
            elif choice == 1 and present:
                answer = yield node.leave([rng.choice(present)])
            elif choice == 2 and present:
                answer = yield node.move(rng.randrange(NSHARDS), rng.choice(present))
            else:
                answer = None
                yield from ck.query(rng.randrange(-1, latest.num + 2))
            cfg.ops += 1
            if isinstance(answer, str):
                refused[0] += 1  # another clerk's call got there first: a definite no-op
            yield rng.randint(100, 400)  # a few calls a second each: traces stay readable

    for i in range(clients):
        spawn(cfg.loop, client(i), f"client{i}")
    end = cfg.now + duration_ms
    down: list[int] = []
    while cfg.now < end:
        yield min(rng.randint(300, 1500), end - cfg.now)
        if not crashes or cfg.now >= end:
            continue
        if down and (len(down) * 2 + 2 > cfg.n or rng.randrange(2) == 0):
            cfg.start_server(down.pop(rng.randrange(len(down))))
        elif len(down) * 2 + 2 <= cfg.n:
            up = [i for i in range(cfg.n) if i not in down]
            i = rng.choice(up)
            cfg.shutdown_server(i)
            down.append(i)
    for i in down:
        cfg.start_server(i)
    yield 1000
    stop[0] = True  # calls in flight now stay in flight: their outcome is unknown
    return [cfg.end()]


@dataclass(frozen=True, slots=True)
class SimRun:
    """One simulated controller run: the tester (servers, counters, history), its pass lines,
    what went wrong if anything (a lab check's message, or an implementation fault)."""

    tester: CtrlTester
    summaries: tuple[Summary, ...]
    failure: str | None
    wall_seconds: float
    fault: Fault | None = None


def simulate(*, seed: int, scenario: Scenario | None = None, servers: int = 3,
             clients: int = 5, crashes: bool = True, duration_ms: int = 10_000,
             trace: TraceWriter | None = None) -> SimRun:
    """Run a 4A sub-test, or (scenario None) the random schedule, under `seed`; the library
    form of `dscheck sim shardctrler`."""
    if scenario is not None:
        cfg = scenario.tester(seed, trace)
        task = scenario.play(cfg)
    else:
        cfg = CtrlTester(servers, seed=seed, trace=trace, scenario="random")
        task = random_calls(cfg, clients, duration_ms, crashes)
    started = time.perf_counter()
    summaries, failure, fault = run_judged(lambda: cfg.run(task), CtrlTestFailure, cfg.fault)
    return SimRun(cfg, tuple(summaries or ()), failure, time.perf_counter() - started, fault)
