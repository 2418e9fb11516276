"""Shared helpers of the sharded key/value scenario tests: which seeds run, and how a
scenario is played and its history audited."""

from __future__ import annotations

import tempfile
from pathlib import Path

from checker.kv_audit import audit, operations, verify_order
from checker.linearizability import render_text
from checker.trace_check import TraceResult, check_trace
from checker.verdict import Verdict
from impl.shardkv.scenarios import BY_NAME, SCENARIOS, ShardRun
from impl.trace import TraceWriter

DEFAULT_SEEDS = (1, 2, 3)
CAMPAIGN_SEEDS = tuple(range(4, 54))  # 50 more seeds per scenario with --campaign
# Seconds the search gets before the witness is tried; the witness never turns a search
# that ran out into a pass unless it verifies as a linearization (checker.kv_audit).
SEARCH_BUDGET = 1.0


def play(name: str, seed: int) -> ShardRun:
    """Run lab scenario `name` under `seed` (a failed lab check raises ShardTestFailure),
    recording its trace, which `dscheck check-trace` must find clean (every group's Raft
    invariants, the controller's properties, the key/value properties per group and the
    sharded KV invariants); then audit its whole history with the kv model, across every
    reconfiguration: it must be linearizable (UNKNOWN fails), and the order in which the
    groups first applied the calls must itself be a linearization of it."""
    run, checked = traced(name, seed)
    assert checked.verdict is Verdict.OK, f"{name} seed {seed}: trace " + "; ".join(
        f"{v.invariant} at line {v.line}: {v.detail}" for v in checked.violations)
    cfg = run.tester
    witness = cfg.witness()
    result = audit(cfg.history, witness, search_budget=SEARCH_BUDGET)
    assert result.verdict is Verdict.OK, (
        f"{name} seed {seed}: history {result.verdict.value}: {result.witness_problem}\n"
        + render_text(result.result))
    calls = cfg.history.calls
    problem = verify_order(operations(cfg.history),
                           [witness.get((c.clerk, c.seq)) for c in calls])
    assert problem is None, f"{name} seed {seed}: the groups' order is not a linearization: {problem}"
    return run


def traced(name: str, seed: int, bugs: frozenset[str] = frozenset()
           ) -> tuple[ShardRun, TraceResult]:
    """Play scenario `name` recording its trace to a temporary file, and check the trace
    (a failed lab check raises ShardTestFailure)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}-seed{seed}.jsonl"
        with path.open("w", encoding="utf-8") as stream:
            run = BY_NAME[name].run(seed, TraceWriter(stream), bugs=bugs)
        return run, check_trace(path)


def names(challenge: bool | None = None) -> list[str]:
    return [s.name for s in SCENARIOS if challenge is None or s.challenge == challenge]
