"""Part 2D — log compaction and snapshots: every lab scenario of the part, by its lab name.

Each test plays the scenario on the simulator under three seeds; the lab's checks
(impl/raft/labtester.py) raise on failure. `pytest -k 2D` runs the part; `--campaign`
adds fifty more seeds per scenario.
"""

from __future__ import annotations

import pytest

from tests.raft.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS, names, play

seeds = pytest.mark.parametrize("seed", DEFAULT_SEEDS)


@seeds
def test_snapshot_basic_2D(seed: int) -> None:
    """TestSnapshotBasic2D."""
    play("snapshot_basic_2D", seed)


@seeds
def test_snapshot_install_2D(seed: int) -> None:
    """TestSnapshotInstall2D."""
    play("snapshot_install_2D", seed)


@seeds
def test_snapshot_install_unreliable_2D(seed: int) -> None:
    """TestSnapshotInstallUnreliable2D."""
    play("snapshot_install_unreliable_2D", seed)


@seeds
def test_snapshot_install_crash_2D(seed: int) -> None:
    """TestSnapshotInstallCrash2D."""
    play("snapshot_install_crash_2D", seed)


@seeds
def test_snapshot_install_uncrash_2D(seed: int) -> None:
    """TestSnapshotInstallUnCrash2D."""
    play("snapshot_install_uncrash_2D", seed)


@seeds
def test_snapshot_all_crash_2D(seed: int) -> None:
    """TestSnapshotAllCrash2D."""
    play("snapshot_all_crash_2D", seed)


@seeds
def test_snapshot_init_2D(seed: int) -> None:
    """TestSnapshotInit2D."""
    play("snapshot_init_2D", seed)


@pytest.mark.campaign
@pytest.mark.parametrize("name", names("2D"))
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_campaign_2D(name: str, seed: int) -> None:
    play(name, seed)
