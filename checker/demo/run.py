"""The demo's pipeline: simulate, record, then judge what was recorded with every checker.

Each stage returns a `Stage` (a verdict, a one-line finding, its figures and the files it
wrote); the CLI renders them. The stages are independent judges of each recorded run:

1. simulate — a Raft cluster on the deterministic simulator under a random fault schedule
   (crashes, restarts, partitions, an unreliable network), with the lab's own checks, recorded
   as a `dscheck-trace`. An implementation that raises, or that the event loop's watchdog
   stops, is a violation of this stage, and the trace up to that point is kept and judged by
   the next two stages like any other: it usually holds the diagnosis;
2. trace invariants — every global state of the trace against the Raft invariants;
3. linearizability — the clients' view of the same run, read from the trace itself (Raft as a
   replicated log, `checker.trace_check.history`), audited: exactly what
   `dscheck lin TRACE` does;
4. kv simulate, kv trace invariants, kv linearizability — the same three judgements of a
   key/value cluster (lab 3A–3B, snapshots on) under the same kind of faults: its trace
   against the Raft invariants and the key/value properties of spec/kv.py, its clerks'
   history against the kv model (`checker.demo.kv`);
5. shardkv simulate, shardkv trace invariants, shardkv linearizability — the sharded
   key/value service (lab 4B) with groups joining and leaving under faults while clerks
   write: its trace against every group's Raft invariants, the controller's properties, the
   key/value properties and the sharded KV invariants, its clerks' history against the kv
   model across every reconfiguration (`checker.demo.shardkv`);
6. model check — the executable Raft spec explored exhaustively at small bounds, to show that
   the invariants the traces were judged by hold in every reachable state there, not just
   in these runs.

Stages 1–5 run once per seed (`DemoSettings.seeds` runs seed, seed+1, ...); the model check,
which has no seed, runs once. A verdict on one seed rests on a single run, and the report
says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.demo.judges import kv_linearizability, trace_invariants
from checker.demo.kv import kv_trace_path, simulate_kv
from checker.demo.shardkv import shardkv_trace_path, simulate_shardkv
from checker.demo.stage import Stage as Stage  # re-exported: the stages' type lived here
from checker.linearizability import check as check_linearizable
from checker.linearizability.formats import load
from checker.linearizability.html import write_html
from checker.linearizability.models import model_named
from checker.linearizability.render import render_text as render_lin_text
from checker.linearizability.result import LinResult
from checker.modelcheck import check as model_check
from checker.modelcheck.models import RaftModel
from checker.trace_check import check_trace
from checker.verdict import Verdict
from impl.files import open_atomically
from spec.raft import Config


@dataclass(frozen=True)
class DemoSettings:
    seed: int = 1
    seeds: int = 1  # how many runs: seeds seed .. seed + seeds - 1
    servers: int = 5
    duration_ms: int = 20_000
    unreliable: bool = True
    out: Path = Path("dscheck-demo")
    model_bounds: Config = field(
        default_factory=lambda: Config(servers=3, max_term=2, max_log=1, max_messages=2)
    )

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seed, self.seed + self.seeds))

    def trace_path(self, seed: int) -> Path:
        """One run keeps the plain name; several are told apart by their seed."""
        name = "raft-trace.jsonl" if self.seeds == 1 else f"raft-trace-seed{seed}.jsonl"
        return self.out / name

    def rests_on(self) -> str:
        """What the verdict rests on, in words."""
        if self.seeds == 1:
            return "1 seed: a single run; try --seeds N"
        return (f"{self.seeds} seeds ({self.seed}–{self.seed + self.seeds - 1}): every run "
                "judged by every check")


def run_demo(settings: DemoSettings, announce: Callable[[str], None]) -> list[Stage]:
    """Run every stage in order; for each seed, later stages judge what the first recorded."""
    settings.out.mkdir(parents=True, exist_ok=True)
    html_path = settings.out / "linearizability.html"
    stages: list[Stage] = []
    audits: list[tuple[str, LinResult]] = []
    for seed in settings.seed_list:
        trace_path = settings.trace_path(seed)
        announce(f"simulating {settings.servers} Raft servers under faults (seed {seed})")
        stages.append(_simulate(settings, seed, trace_path))
        announce("checking every state of the trace against the Raft invariants")
        stages.append(_trace_invariants(trace_path, seed))
        announce("auditing the clients' history, read from the trace, for linearizability")
        stage, result = _linearizability(trace_path, seed, html_path)
        stages.append(stage)
        audits.append((str(trace_path), result))
        kv_path = kv_trace_path(settings, seed)
        announce(f"simulating {settings.servers} key/value servers under faults (seed {seed})")
        stages.append(simulate_kv(settings, seed, kv_path))
        announce("checking every state of the kv trace against the Raft and KV invariants")
        stages.append(trace_invariants("kv trace invariants", kv_path, seed, "Raft and KV"))
        announce("auditing the clerks' history, read from the kv trace, for linearizability")
        stage, result = kv_linearizability("kv linearizability", kv_path, seed, html_path)
        stages.append(stage)
        audits.append((str(kv_path), result))
        shard_path = shardkv_trace_path(settings, seed)
        announce(f"simulating 3 replica groups joining and leaving under faults (seed {seed})")
        stages.append(simulate_shardkv(settings, seed, shard_path))
        announce("checking every state of the shardkv trace against the Raft, controller, KV "
                 "and sharded-KV invariants")
        stages.append(trace_invariants("shardkv trace invariants", shard_path, seed,
                                      "Raft, controller, KV and sharded-KV"))
        announce("auditing the clerks' history, read from the shardkv trace, for "
                 "linearizability")
        stage, result = kv_linearizability("shardkv linearizability", shard_path, seed,
                                           html_path, " across every reconfiguration")
        stages.append(stage)
        audits.append((str(shard_path), result))
    write_html(str(html_path), audits)
    bounds = settings.model_bounds
    announce(
        f"model-checking the Raft spec: {bounds.servers} servers, terms ≤ {bounds.max_term}, "
        f"logs ≤ {bounds.max_log}, ≤ {bounds.max_messages} messages in flight"
    )
    stages.append(_model_check(bounds))
    return stages


def _simulate(settings: DemoSettings, seed: int, trace_path: Path) -> Stage:
    # Imported here: the simulator is the implementation, loaded only by the stage that runs it.
    from impl.raft.scenarios.chaos import simulate
    from impl.trace import TraceWriter

    started = time.perf_counter()
    # The trace appears under its name whole, also when the implementation failed part-way
    # (simulate returns its faults as findings); only an interrupt discards it.
    with open_atomically(trace_path) as sink:
        run = simulate(
            seed=seed,
            servers=settings.servers,
            unreliable=settings.unreliable,
            snapshots=True,
            duration_ms=settings.duration_ms,
            trace=TraceWriter(sink),
        )
    tester = run.tester
    figures: dict[str, Any] = {
        "virtual_seconds": tester.now / 1000,
        "terms_with_a_leader": len(tester.leaders),
        "commits": tester.max_index,
        "rpcs": tester.rpc_total(),
        "bytes": tester.bytes_total(),
        "messages_dropped": tester.net.stats.dropped,
        "fault": run.fault.to_json() if run.fault is not None else None,
    }
    figures.update(_faults(trace_path))
    verdict = Verdict.OK if run.failure is None else Verdict.VIOLATION
    finding = (
        f"{figures['virtual_seconds']:.1f} virtual s: {figures['crashes']} crashes, "
        f"{figures['network_changes']} network changes, {figures['messages_dropped']:,} "
        f"messages lost, {figures['terms_with_a_leader']} leaders, {figures['commits']} commits; "
        + ("every lab check held" if run.failure is None else run.failure)
    )
    return Stage("simulate", verdict, finding, time.perf_counter() - started, figures,
                 (str(trace_path),), seed=seed)


def _faults(trace_path: Path) -> dict[str, int]:
    """The faults the schedule injected, counted from the recorded trace itself."""
    crashes = network_changes = 0
    with trace_path.open(encoding="utf-8") as lines:
        for line in lines:
            # Cheap substring tests: the writer's key order and spacing are fixed.
            if '"event":"crash"' in line:
                crashes += 1
            elif '"event":"network"' in line:
                network_changes += 1
    return {"crashes": crashes, "network_changes": network_changes}


def _trace_invariants(trace_path: Path, seed: int) -> Stage:
    result = check_trace(trace_path)
    details = ""
    if result.verdict is Verdict.OK:
        finding = (f"{result.states:,} global states, {len(result.invariants)} invariants: "
                   "all hold")
    else:
        first = result.violations[0]
        finding = (f"{first.invariant} violated at line {first.line} "
                   f"(servers {', '.join(map(str, first.servers))})")
        details = "\n".join(
            f"{trace_path}:{v.line}: {v.invariant} (servers "
            f"{', '.join(f's{s}' for s in v.servers)}): {v.detail}" for v in result.violations)
    figures = {"events": result.events, "states": result.states,
               "invariants": list(result.invariants),
               "violations": [v.to_json() for v in result.violations]}
    return Stage("trace invariants", result.verdict, finding, result.seconds, figures,
                 details=details, seed=seed)


def _linearizability(trace_path: Path, seed: int, html_path: Path) -> tuple[Stage, LinResult]:
    started = time.perf_counter()
    loaded = load(str(trace_path))  # the trace itself, as `dscheck lin` reads it
    assert loaded.model is not None  # a Raft trace names its model: the replicated log
    operations = loaded.operations
    result = check_linearizable(operations, model_named(loaded.model), timeout=60.0)
    unknown_outcome = sum(1 for op in operations if op.ret is None)
    finding = (f"{len(operations):,} appends ({unknown_outcome} never committed): "
               + ("linearizable" if result.verdict is Verdict.OK else result.verdict.value))
    stage = Stage("linearizability", result.verdict, finding, time.perf_counter() - started,
                  {"operations": len(operations), "unknown_outcome": unknown_outcome,
                   "model": loaded.model, "cpu_seconds": round(result.seconds, 6)},
                  (str(html_path),),
                  "" if result.verdict is Verdict.OK else render_lin_text(result, str(trace_path)),
                  seed=seed)
    return stage, result


def _model_check(bounds: Config) -> Stage:
    result = model_check(RaftModel(config=bounds))
    reached = [name for name, hit in result.sometimes.items() if hit]
    if result.verdict is Verdict.OK:
        finding = (f"{result.distinct_states:,} distinct states, depth {result.depth}: "
                   f"every invariant holds; reached {', '.join(reached) or 'nothing'}")
    elif result.counterexample is not None:
        finding = f"{result.counterexample.invariant} violated"
    else:
        finding = result.reason
    return Stage("model check", result.verdict, finding, result.seconds,
                 {"distinct_states": result.distinct_states, "depth": result.depth,
                  "sometimes": dict(result.sometimes)})
