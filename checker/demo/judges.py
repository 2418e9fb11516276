"""The two judges the demo's key/value stages share: a trace's invariants (what `dscheck
check-trace` reports) and its clerks' history for linearizability (what `dscheck lin` reports),
each as a `Stage` named for its system."""

from __future__ import annotations

import time
from pathlib import Path

from checker.demo.stage import Stage
from checker.linearizability import check as check_linearizable
from checker.linearizability.formats import load
from checker.linearizability.models import model_named
from checker.linearizability.render import render_text as render_lin_text
from checker.linearizability.result import LinResult
from checker.trace_check import check_trace
from checker.verdict import Verdict


def trace_invariants(name: str, trace_path: Path, seed: int, judged: str) -> Stage:
    """`judged`: which invariants the trace's system gets, for the finding ("Raft and KV")."""
    result = check_trace(trace_path)
    details = ""
    if result.verdict is Verdict.OK:
        finding = (f"{result.states:,} server states, {result.calls:,} calls returned, "
                   f"{len(result.invariants)} {judged} invariants: all hold")
    else:
        first = result.violations[0]
        where = (f"call {first.call}" if first.call
                 else ", ".join(first.nodes) if first.nodes
                 else f"servers {', '.join(map(str, first.servers))}" if first.servers
                 else "the trace")
        finding = f"{first.invariant} violated at line {first.line} ({where})"
        details = "\n".join(f"{trace_path}:{v.line}: {v.invariant}: {v.detail}"
                            for v in result.violations)
    figures = {"events": result.events, "states": result.states, "calls": result.calls,
               "invariants": list(result.invariants),
               "violations": [v.to_json() for v in result.violations]}
    if result.groups:
        figures["groups"] = result.groups
    return Stage(name, result.verdict, finding, result.seconds, figures, details=details,
                 seed=seed)


def kv_linearizability(name: str, trace_path: Path, seed: int, html_path: Path,
                       scope: str = "") -> tuple[Stage, LinResult]:
    """The clerks' calls read from the trace itself, as `dscheck lin` reads it, audited with
    the kv model; `scope` qualifies the calls in the finding ("across every reconfiguration")."""
    started = time.perf_counter()
    loaded = load(str(trace_path))
    assert loaded.model == "kv"
    operations = loaded.operations
    result = check_linearizable(operations, model_named(loaded.model), timeout=60.0)
    unknown = sum(1 for op in operations if op.ret is None)
    keys = len({op.input[1] for op in operations})
    finding = (f"{len(operations):,} get/put/append calls on {keys} keys{scope} ({unknown} with "
               "unknown outcome): "
               + ("linearizable" if result.verdict is Verdict.OK else result.verdict.value))
    stage = Stage(name, result.verdict, finding, time.perf_counter() - started,
                  {"operations": len(operations), "unknown_outcome": unknown, "model": "kv",
                   "cpu_seconds": round(result.seconds, 6)},
                  (str(html_path),),
                  "" if result.verdict is Verdict.OK else render_lin_text(result, str(trace_path)),
                  seed=seed)
    return stage, result
