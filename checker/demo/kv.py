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
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker.demo.stage import Stage
from checker.linearizability import check as check_linearizable
from checker.linearizability.formats import load
from checker.linearizability.models import model_named
from checker.linearizability.render import render_text as render_lin_text
from checker.linearizability.result import LinResult
from checker.trace_check import check_trace
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


def kv_trace_invariants(trace_path: Path, seed: int) -> Stage:
    result = check_trace(trace_path)
    details = ""
    if result.verdict is Verdict.OK:
        finding = (f"{result.states:,} server states, {result.calls:,} calls returned, "
                   f"{len(result.invariants)} Raft and KV invariants: all hold")
    else:
        first = result.violations[0]
        where = (f"call {first.call}" if first.call
                 else f"servers {', '.join(map(str, first.servers))}")
        finding = f"{first.invariant} violated at line {first.line} ({where})"
        details = "\n".join(f"{trace_path}:{v.line}: {v.invariant}: {v.detail}"
                            for v in result.violations)
    figures = {"events": result.events, "states": result.states, "calls": result.calls,
               "invariants": list(result.invariants),
               "violations": [v.to_json() for v in result.violations]}
    return Stage("kv trace invariants", result.verdict, finding, result.seconds, figures,
                 details=details, seed=seed)


def kv_linearizability(trace_path: Path, seed: int, html_path: Path) -> tuple[Stage, LinResult]:
    started = time.perf_counter()
    loaded = load(str(trace_path))  # the trace itself, as `dscheck lin` reads it
    assert loaded.model == "kv"
    operations = loaded.operations
    result = check_linearizable(operations, model_named(loaded.model), timeout=60.0)
    unknown = sum(1 for op in operations if op.ret is None)
    keys = len({op.input[1] for op in operations})
    finding = (f"{len(operations):,} get/put/append calls on {keys} keys ({unknown} with "
               "unknown outcome): "
               + ("linearizable" if result.verdict is Verdict.OK else result.verdict.value))
    stage = Stage("kv linearizability", result.verdict, finding,
                  time.perf_counter() - started,
                  {"operations": len(operations), "unknown_outcome": unknown, "model": "kv",
                   "cpu_seconds": round(result.seconds, 6)},
                  (str(html_path),),
                  "" if result.verdict is Verdict.OK else render_lin_text(result, str(trace_path)),
                  seed=seed)
    return stage, result
