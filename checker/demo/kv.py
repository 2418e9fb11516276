"""The demo's key/value stages: a simulated key/value cluster under faults, recorded, then
judged by the same checkers as the Raft run (DESIGN.md section 6).

1. kv simulate — the key/value service (lab 3A–3B) on the simulator under the random fault
   schedule of `dscheck sim kv` (partitions, crashes and restarts, an unreliable network,
   snapshots), clients on random keys, the lab's own checks on; recorded as a `kv` trace. A
   broken implementation is a violation of this stage, and its trace is kept and judged;
2. kv trace invariants — every state of that trace against the Raft invariants (each
   server's Raft part) and the key/value properties of spec/kv.py, in one pass
   (`checker.trace_check`): exactly what `dscheck check-trace TRACE` does;
3. kv linearizability — the clerks' calls read from the trace itself (calls in flight at
   the end settled from the servers' applies), audited against the kv model: exactly what
   `dscheck lin TRACE` does.

Stages 2 and 3 are `checker.demo.judges`, which the key/value and sharded stages share.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker.demo.stage import Stage
from checker.verdict import Verdict
from impl.files import open_atomically

if TYPE_CHECKING:
    from checker.demo.run import DemoSettings

KV_MAXRAFTSTATE = 1000  # snapshots, as in the lab's 3B tests
KV_CLIENTS = 5


def kv_trace_path(settings: DemoSettings, seed: int) -> Path:
    name = "kv-trace.jsonl" if settings.seeds == 1 else f"kv-trace-seed{seed}.jsonl"
    return settings.out / name


def simulate_kv(settings: DemoSettings, seed: int, trace_path: Path) -> Stage:
    # Imported here: the simulator is the implementation, loaded only by the stage that runs it.
    from impl.kv.scenarios.chaos import simulate
    from impl.trace import TraceWriter

    started = time.perf_counter()
    with open_atomically(trace_path) as sink:
        run = simulate(seed=seed, servers=settings.servers, clients=KV_CLIENTS,
                       unreliable=settings.unreliable, maxraftstate=KV_MAXRAFTSTATE,
                       duration_ms=settings.duration_ms, trace=TraceWriter(sink))
    cfg = run.tester
    figures: dict[str, Any] = {
        "virtual_seconds": cfg.now / 1000, "clients": KV_CLIENTS,
        "maxraftstate": KV_MAXRAFTSTATE, "calls": len(cfg.history.calls),
        "applies": cfg.applies, "rpcs": cfg.rpc_total(),
        "messages_dropped": cfg.net.stats.dropped, "max_snapshot_bytes": cfg.snapshot_size(),
        "fault": run.fault.to_json() if run.fault is not None else None,
    }
    figures.update(_count(trace_path))
    verdict = Verdict.OK if run.failure is None else Verdict.VIOLATION
    finding = (
        f"{figures['virtual_seconds']:.1f} virtual s: {figures['crashes']} crashes, "
        f"{figures['network_changes']} network changes, {figures['messages_dropped']:,} "
        f"messages lost, {figures['snapshots']} snapshots, {figures['calls']:,} clerk calls; "
        + ("every lab check held" if run.failure is None else run.failure))
    return Stage("kv simulate", verdict, finding, time.perf_counter() - started, figures,
                 (str(trace_path),), seed=seed)


def _count(trace_path: Path) -> dict[str, int]:
    """The faults and snapshots of the run, counted from the recorded trace itself."""
    counts = {"crashes": 0, "network_changes": 0, "snapshots": 0}
    keys = {'"event":"crash"': "crashes", '"event":"network"': "network_changes",
            '"event":"snapshot"': "snapshots"}
    with trace_path.open(encoding="utf-8") as lines:
        for line in lines:
            # Cheap substring tests: the writer's key order and spacing are fixed.
            for needle, key in keys.items():
                if needle in line:
                    counts[key] += 1
                    break
    return counts
