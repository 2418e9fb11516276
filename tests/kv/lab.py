"""Shared helpers of the key/value scenario tests: which seeds run, and how a scenario is
played and its history audited."""

from __future__ import annotations

from checker.kv_audit import audit, operations, verify_order
from checker.linearizability import render_text
from checker.verdict import Verdict
from impl.kv.scenarios import BY_NAME, SCENARIOS, KvRun
from impl.raft.core import RaftConfig
from impl.trace import TraceWriter

DEFAULT_SEEDS = (1, 2, 3)
CAMPAIGN_SEEDS = tuple(range(4, 54))  # 50 more seeds per scenario with --campaign
# Seconds the search gets before the witness is tried; the witness never turns a search
# that ran out into a pass unless it verifies as a linearization (checker.kv_audit).
SEARCH_BUDGET = 1.0


def play(name: str, seed: int, read_index: bool = False,
         trace: TraceWriter | None = None, raft: RaftConfig | None = None) -> KvRun:
    """Run lab scenario `name` under `seed` (gets by ReadIndex if `read_index`; a failed lab
    check raises KVTestFailure), then audit its whole history: it must be linearizable, and
    the order in which the servers applied the calls must itself be a linearization of it.
    `raft`: the Raft cores' configuration (the service's default when None)."""
    run = BY_NAME[name].run(seed, trace, read_index, raft)
    cfg = run.tester
    witness = cfg.witness()
    result = audit(cfg.history, witness, search_budget=SEARCH_BUDGET)
    assert result.verdict is Verdict.OK, (
        f"{name} seed {seed}: history {result.verdict.value}: {result.witness_problem}\n"
        + render_text(result.result))
    calls = cfg.history.calls
    problem = verify_order(operations(cfg.history),
                           [witness.get((c.clerk, c.seq)) for c in calls])
    assert problem is None, f"{name} seed {seed}: the servers' order is not a linearization: {problem}"
    return run


def names(part: str) -> list[str]:
    return [s.name for s in SCENARIOS if s.part == part]
