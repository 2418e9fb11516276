"""The random fault schedule of `dscheck sim kv`: partitions, crashes and restarts and a lossy
network under clients on random keys; every lab watch holds, calls in flight at the end are
settled or unknown, and the whole history is linearizable."""

from __future__ import annotations

import pytest

from checker.kv_audit import audit
from checker.verdict import Verdict
from impl.kv.scenarios.chaos import simulate
from tests.kv.lab import SEARCH_BUDGET


def run_and_audit(seed: int, servers: int, unreliable: bool, maxraftstate: int,
                  duration_ms: int) -> None:
    run = simulate(seed=seed, servers=servers, clients=5, unreliable=unreliable,
                   maxraftstate=maxraftstate, duration_ms=duration_ms)
    assert run.failure is None
    cfg = run.tester
    assert run.settled + run.unknown <= 5  # at most one call in flight per client
    assert len(cfg.history.pending) == run.unknown
    result = audit(cfg.history, cfg.witness(), search_budget=SEARCH_BUDGET)
    assert result.verdict is Verdict.OK, result.witness_problem


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("unreliable", [False, True])
def test_random_faults_keep_every_watch_and_a_linearizable_history(seed: int,
                                                                    unreliable: bool) -> None:
    run_and_audit(seed, 5, unreliable, 1000 if seed % 2 else -1, 8_000)


@pytest.mark.campaign
@pytest.mark.parametrize("seed", range(10, 60))
@pytest.mark.parametrize("servers", [3, 5, 7])
def test_campaign_random_faults(seed: int, servers: int) -> None:
    run_and_audit(seed, servers, seed % 2 == 0, 1000 if seed % 3 == 0 else -1, 30_000)
