"""The random fault schedule of `dscheck sim raft`: partitions, crashes, restarts and a lossy
network, with the lab's apply checks and the Election Safety watch on all along."""

from __future__ import annotations

import pytest

from impl.raft.scenarios.chaos import simulate


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("unreliable", [False, True])
def test_random_faults_keep_every_lab_check(seed: int, unreliable: bool) -> None:
    run = simulate(seed=seed, servers=5, unreliable=unreliable, snapshots=seed % 2 == 1,
                   duration_ms=8_000)
    assert run.failure is None
    assert run.tester.max_index > 0 and len(run.tester.leaders) >= 1


@pytest.mark.campaign
@pytest.mark.parametrize("seed", range(10, 60))
@pytest.mark.parametrize("servers", [3, 5, 7])
def test_campaign_random_faults(seed: int, servers: int) -> None:
    run = simulate(seed=seed, servers=servers, unreliable=seed % 2 == 0,
                   snapshots=seed % 3 == 0, duration_ms=30_000)
    assert run.failure is None
