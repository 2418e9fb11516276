"""The lab's Raft scenarios with the leader's disk write in parallel with replication
(RaftConfig.parallel_write): the simulator's servers write to a disk whose writes take a few
virtual ms (impl.sim.disk), so every run exercises early AppendEntries, held replies and
votes, `RaftCore.persisted`, and crashes that lose what was staged but not yet written. The
lab's checks must all pass as they do with the option off."""

from __future__ import annotations

import pytest

from impl.raft.core import RaftConfig, RaftCore
from impl.raft.effects import Effects, HardState
from impl.raft.scenarios import BY_NAME, SCENARIOS
from tests.raft.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS

PARALLEL = RaftConfig(parallel_write=True)
NAMES = [s.name for s in SCENARIOS]


@pytest.mark.parametrize("name", NAMES)
def test_scenario_with_parallel_write(name: str) -> None:
    BY_NAME[name].run(DEFAULT_SEEDS[0], config=PARALLEL)


def test_the_delay_is_exercised(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not vacuous: the driver reports writes and leaders commit on those reports, with the
    # option on; with it off the driver never reports.
    reports: list[int] = []
    commits: list[int] = []
    original = RaftCore.persisted

    def persisted(self: RaftCore, state: HardState) -> Effects:
        before = self.commit_index
        effects = original(self, state)
        reports.append(self.id)
        if self.commit_index > before:
            commits.append(self.id)
        return effects

    monkeypatch.setattr(RaftCore, "persisted", persisted)
    BY_NAME["backup_2B"].run(1, config=PARALLEL)
    assert reports and commits
    count = len(reports)
    BY_NAME["basic_agree_2B"].run(1)
    assert len(reports) == count


@pytest.mark.campaign
@pytest.mark.parametrize("seed", DEFAULT_SEEDS[1:] + CAMPAIGN_SEEDS)
@pytest.mark.parametrize("name", NAMES)
def test_campaign_with_parallel_write(name: str, seed: int) -> None:
    BY_NAME[name].run(seed, config=PARALLEL)
