"""The demo's pipeline: simulate, record, then judge what was recorded with every checker.

Each stage returns a `Stage` (a verdict, a one-line finding, its figures and the files it
wrote); the CLI renders them. The stages are independent judges of one recorded run:

1. simulate — a Raft cluster on the deterministic simulator under a random fault schedule
   (crashes, restarts, partitions, an unreliable network), with the lab's own checks, recorded
   as a `dscheck-trace`;
2. trace invariants — every global state of the trace against the Raft invariants;
3. linearizability — the clients' view of the same run (Raft as a replicated log) audited;
4. model check — the executable spec explored exhaustively at small bounds, to show that the
   invariants the trace was judged by hold in every reachable state there, not just this run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.demo.raftlog import LOG, history_lines, log_history
from checker.files import write_atomically
from checker.linearizability import check as check_linearizable
from checker.linearizability import history
from checker.linearizability.html import write_html
from checker.linearizability.render import render_text as render_lin_text
from checker.modelcheck import check as model_check
from checker.modelcheck.models import RaftModel
from checker.trace_check import check_trace
from checker.verdict import Verdict
from spec.raft import Config


@dataclass(frozen=True)
class DemoSettings:
    seed: int = 1
    servers: int = 5
    duration_ms: int = 20_000
    unreliable: bool = True
    out: Path = Path("dscheck-demo")
    model_bounds: Config = field(
        default_factory=lambda: Config(servers=3, max_term=2, max_log=1, max_messages=2)
    )


@dataclass(frozen=True)
class Stage:
    name: str
    verdict: Verdict
    finding: str
    seconds: float
    figures: dict[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    details: str = ""  # the full explanation, shown on a violation or unknown


def run_demo(settings: DemoSettings, announce: Callable[[str], None]) -> list[Stage]:
    """Run every stage in order; a later stage judges what the first recorded."""
    settings.out.mkdir(parents=True, exist_ok=True)
    trace_path = settings.out / "raft-trace.jsonl"
    stages: list[Stage] = []
    announce(f"simulating {settings.servers} Raft servers under faults (seed {settings.seed})")
    stages.append(_simulate(settings, trace_path))
    announce("checking every state of the trace against the Raft invariants")
    stages.append(_trace_invariants(trace_path))
    announce("auditing the clients' history for linearizability")
    stages.append(_linearizability(settings, trace_path))
    bounds = settings.model_bounds
    announce(
        f"model-checking the Raft spec: {bounds.servers} servers, terms ≤ {bounds.max_term}, "
        f"logs ≤ {bounds.max_log}, ≤ {bounds.max_messages} messages in flight"
    )
    stages.append(_model_check(bounds))
    return stages


def _simulate(settings: DemoSettings, trace_path: Path) -> Stage:
    # Imported here: the simulator is the implementation, loaded only by the stage that runs it.
    from impl.raft.scenarios.chaos import simulate
    from impl.trace import TraceWriter

    partial = trace_path.with_name(trace_path.name + ".partial")
    started = time.perf_counter()
    with partial.open("w", encoding="utf-8") as sink:
        run = simulate(
            seed=settings.seed,
            servers=settings.servers,
            unreliable=settings.unreliable,
            snapshots=True,
            duration_ms=settings.duration_ms,
            trace=TraceWriter(sink),
        )
    partial.replace(trace_path)
    tester = run.tester
    figures = {
        "virtual_seconds": tester.now / 1000,
        "terms_with_a_leader": len(tester.leaders),
        "commits": tester.max_index,
        "rpcs": tester.rpc_total(),
        "bytes": tester.bytes_total(),
        "messages_dropped": tester.net.stats.dropped,
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
                 (str(trace_path),))


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


def _trace_invariants(trace_path: Path) -> Stage:
    result = check_trace(trace_path)
    if result.verdict is Verdict.OK:
        finding = (f"{result.states:,} global states, {len(result.invariants)} invariants: "
                   "all hold")
    else:
        first = result.violations[0]
        finding = (f"{first.invariant} violated at line {first.line} "
                   f"(servers {', '.join(map(str, first.servers))})")
    figures = {"events": result.events, "states": result.states,
               "invariants": list(result.invariants)}
    return Stage("trace invariants", result.verdict, finding, result.seconds, figures)


def _linearizability(settings: DemoSettings, trace_path: Path) -> Stage:
    started = time.perf_counter()
    with trace_path.open(encoding="utf-8") as lines:
        next(lines)  # the header
        operations = history(log_history(json.loads(line) for line in lines))
    result = check_linearizable(operations, LOG, timeout=60.0)
    history_path = settings.out / "raft-log-history.jsonl"
    write_atomically(history_path, "".join(line + "\n" for line in history_lines(operations)))
    html_path = settings.out / "linearizability.html"
    write_html(str(html_path), [(str(history_path), result)])
    unknown_outcome = sum(1 for op in operations if op.ret is None)
    finding = (f"{len(operations):,} appends ({unknown_outcome} never committed): "
               + ("linearizable" if result.verdict is Verdict.OK else result.verdict.value))
    return Stage("linearizability", result.verdict, finding, time.perf_counter() - started,
                 {"operations": len(operations), "unknown_outcome": unknown_outcome,
                  "cpu_seconds": round(result.seconds, 6)},
                 (str(history_path), str(html_path)),
                 "" if result.verdict is Verdict.OK else render_lin_text(result, str(history_path)))


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

