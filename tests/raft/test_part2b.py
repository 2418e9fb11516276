"""Part 2B — log replication: every lab scenario of the part, by its lab name.

Each test plays the scenario on the simulator under three seeds; the lab's checks
(impl/raft/labtester.py) raise on failure. `pytest -k 2B` runs the part; `--campaign`
adds fifty more seeds per scenario.
"""

from __future__ import annotations

import pytest

from tests.raft.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS, names, play

seeds = pytest.mark.parametrize("seed", DEFAULT_SEEDS)


@seeds
def test_basic_agree_2B(seed: int) -> None:
    """TestBasicAgree2B."""
    play("basic_agree_2B", seed)


@seeds
def test_rpc_bytes_2B(seed: int) -> None:
    """TestRPCBytes2B."""
    play("rpc_bytes_2B", seed)


@seeds
def test_follower_failure_2B(seed: int) -> None:
    """TestFollowerFailure2B."""
    play("follower_failure_2B", seed)


@seeds
def test_leader_failure_2B(seed: int) -> None:
    """TestLeaderFailure2B."""
    play("leader_failure_2B", seed)


@seeds
def test_fail_agree_2B(seed: int) -> None:
    """TestFailAgree2B."""
    play("fail_agree_2B", seed)


@seeds
def test_fail_no_agree_2B(seed: int) -> None:
    """TestFailNoAgree2B."""
    play("fail_no_agree_2B", seed)


@seeds
def test_concurrent_starts_2B(seed: int) -> None:
    """TestConcurrentStarts2B."""
    play("concurrent_starts_2B", seed)


@seeds
def test_rejoin_2B(seed: int) -> None:
    """TestRejoin2B."""
    play("rejoin_2B", seed)


@seeds
def test_backup_2B(seed: int) -> None:
    """TestBackup2B."""
    play("backup_2B", seed)


@seeds
def test_count_2B(seed: int) -> None:
    """TestCount2B."""
    play("count_2B", seed)


@pytest.mark.campaign
@pytest.mark.parametrize("name", names("2B"))
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_campaign_2B(name: str, seed: int) -> None:
    play(name, seed)
