"""Part 3B — the fault-tolerant key/value service with snapshots: every lab scenario of the part, by its lab name.

Each test plays the scenario on the simulator under three seeds; the lab's checks
(impl/kv/labtester.py, impl/kv/scenarios/) raise on failure, and the whole history is
audited for linearizability (tests/kv/lab.py). `pytest -k 3B` runs the part;
`--campaign` adds fifty more seeds per scenario.
"""

from __future__ import annotations

import pytest

from tests.kv.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS, names, play

seeds = pytest.mark.parametrize("seed", DEFAULT_SEEDS)


@seeds
def test_snapshot_rpc_3B(seed: int) -> None:
    """TestSnapshotRPC3B."""
    play("snapshot_rpc_3B", seed)


@seeds
def test_snapshot_size_3B(seed: int) -> None:
    """TestSnapshotSize3B."""
    play("snapshot_size_3B", seed)


@seeds
def test_speed_3B(seed: int) -> None:
    """TestSpeed3B."""
    play("speed_3B", seed)


@seeds
def test_snapshot_recover_3B(seed: int) -> None:
    """TestSnapshotRecover3B."""
    play("snapshot_recover_3B", seed)


@seeds
def test_snapshot_recover_many_clients_3B(seed: int) -> None:
    """TestSnapshotRecoverManyClients3B."""
    play("snapshot_recover_many_clients_3B", seed)


@seeds
def test_snapshot_unreliable_3B(seed: int) -> None:
    """TestSnapshotUnreliable3B."""
    play("snapshot_unreliable_3B", seed)


@seeds
def test_snapshot_unreliable_recover_3B(seed: int) -> None:
    """TestSnapshotUnreliableRecover3B."""
    play("snapshot_unreliable_recover_3B", seed)


@seeds
def test_snapshot_unreliable_recover_concurrent_partition_3B(seed: int) -> None:
    """TestSnapshotUnreliableRecoverConcurrentPartition3B."""
    play("snapshot_unreliable_recover_concurrent_partition_3B", seed)


@seeds
def test_snapshot_unreliable_recover_concurrent_partition_linearizable_3B(seed: int) -> None:
    """TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable3B."""
    play("snapshot_unreliable_recover_concurrent_partition_linearizable_3B", seed)


@pytest.mark.campaign
@pytest.mark.parametrize("name", names("3B"))
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_campaign_3B(name: str, seed: int) -> None:
    play(name, seed)
