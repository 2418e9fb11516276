"""The lab's key/value scenarios with the leader's disk write in parallel with replication
(RaftConfig.parallel_write, as the network runtime runs by default), in the simulator whose
disks take a few virtual ms per write (impl.sim.disk): the lab's checks pass and every
history audits linearizable. The default suite runs each scenario once with gets by
ReadIndex (the network runtime's default); the campaign adds gets through the log and more
seeds."""

from __future__ import annotations

import pytest

from impl.kv.scenarios import SCENARIOS
from impl.raft.core import RaftConfig
from tests.kv.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS, play

PARALLEL = RaftConfig(strict_flow_control=True, parallel_write=True)
NAMES = [s.name for s in SCENARIOS]


@pytest.mark.parametrize("name", NAMES)
def test_scenario_with_parallel_write(name: str) -> None:
    play(name, DEFAULT_SEEDS[0], read_index=True, raft=PARALLEL)


@pytest.mark.campaign
@pytest.mark.parametrize("seed", DEFAULT_SEEDS + CAMPAIGN_SEEDS)
@pytest.mark.parametrize("read_index", [False, True], ids=["log-gets", "read-index"])
@pytest.mark.parametrize("name", NAMES)
def test_campaign_with_parallel_write(name: str, read_index: bool, seed: int) -> None:
    play(name, seed, read_index=read_index, raft=PARALLEL)
