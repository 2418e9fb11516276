"""Part 3A — the fault-tolerant key/value service: every lab scenario of the part, by its lab name.

Each test plays the scenario on the simulator under three seeds; the lab's checks
(impl/kv/labtester.py, impl/kv/scenarios/) raise on failure, and the whole history is
audited for linearizability (tests/kv/lab.py). `pytest -k 3A` runs the part;
`--campaign` adds fifty more seeds per scenario.
"""

from __future__ import annotations

import pytest

from tests.kv.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS, names, play

seeds = pytest.mark.parametrize("seed", DEFAULT_SEEDS)


@seeds
def test_basic_3A(seed: int) -> None:
    """TestBasic3A."""
    play("basic_3A", seed)


@seeds
def test_speed_3A(seed: int) -> None:
    """TestSpeed3A."""
    play("speed_3A", seed)


@seeds
def test_concurrent_3A(seed: int) -> None:
    """TestConcurrent3A."""
    play("concurrent_3A", seed)


@seeds
def test_unreliable_3A(seed: int) -> None:
    """TestUnreliable3A."""
    play("unreliable_3A", seed)


@seeds
def test_unreliable_one_key_3A(seed: int) -> None:
    """TestUnreliableOneKey3A."""
    play("unreliable_one_key_3A", seed)


@seeds
def test_one_partition_3A(seed: int) -> None:
    """TestOnePartition3A."""
    run = play("one_partition_3A", seed)
    titles = [summary.title for summary in run.summaries]
    assert titles == ["Test: progress in majority (3A)",
                      "Test: no progress in minority (3A)",
                      "Test: completion after heal (3A)"]


@seeds
def test_many_partitions_one_client_3A(seed: int) -> None:
    """TestManyPartitionsOneClient3A."""
    play("many_partitions_one_client_3A", seed)


@seeds
def test_many_partitions_many_clients_3A(seed: int) -> None:
    """TestManyPartitionsManyClients3A."""
    play("many_partitions_many_clients_3A", seed)


@seeds
def test_persist_one_client_3A(seed: int) -> None:
    """TestPersistOneClient3A."""
    play("persist_one_client_3A", seed)


@seeds
def test_persist_concurrent_3A(seed: int) -> None:
    """TestPersistConcurrent3A."""
    play("persist_concurrent_3A", seed)


@seeds
def test_persist_concurrent_unreliable_3A(seed: int) -> None:
    """TestPersistConcurrentUnreliable3A."""
    play("persist_concurrent_unreliable_3A", seed)


@seeds
def test_persist_partition_3A(seed: int) -> None:
    """TestPersistPartition3A."""
    play("persist_partition_3A", seed)


@seeds
def test_persist_partition_unreliable_3A(seed: int) -> None:
    """TestPersistPartitionUnreliable3A."""
    play("persist_partition_unreliable_3A", seed)


@seeds
def test_persist_partition_unreliable_linearizable_3A(seed: int) -> None:
    """TestPersistPartitionUnreliableLinearizable3A."""
    play("persist_partition_unreliable_linearizable_3A", seed)


@pytest.mark.campaign
@pytest.mark.parametrize("name", names("3A"))
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_campaign_3A(name: str, seed: int) -> None:
    play(name, seed)
