"""Part 4B — the sharded key/value service: every test of the lab's shardkv suite, the
three challenges included, by its lab name (scenarios §6.2).

Each test plays the scenario on the simulator under three seeds (the two longest under one,
the other two in the campaign); the lab's checks
(impl/shardkv/labtester.py, impl/shardkv/scenarios/lab.py) raise on failure, and the whole
history is audited for linearizability with the kv model across reconfigurations
(tests/shardkv/lab.py; UNKNOWN fails). `pytest -k 4B` runs the part; `--campaign` adds fifty
more seeds per test.
"""

from __future__ import annotations

import pytest

from impl.shardkv.scenarios.lab import CHALLENGE1_KEYS, CHALLENGE1_VALUE
from tests.shardkv.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS, names, play

seeds = pytest.mark.parametrize("seed", DEFAULT_SEEDS)
# The two longest scenarios (about 20 s a seed) keep their first seed in the default suite; the
# other two run with the campaign's.
one_seed = pytest.mark.parametrize("seed", [
    DEFAULT_SEEDS[0], *(pytest.param(s, marks=pytest.mark.campaign) for s in DEFAULT_SEEDS[1:])])


@seeds
def test_static_shards_4B(seed: int) -> None:
    """TestStaticShards: exactly 5 gets complete while one of two groups is down."""
    run = play("static_shards_4B", seed)
    # All ten gets, the five that waited for the dead group included, finished.
    assert run.unknown == 0


@seeds
def test_join_leave_4B(seed: int) -> None:
    """TestJoinLeave."""
    play("join_leave_4B", seed)


@seeds
def test_snapshot_4B(seed: int) -> None:
    """TestSnapshot: snapshots, joins and leaves, and a restart of every group."""
    run = play("snapshot_4B", seed)
    assert run.tester.log_size() <= 8 * 1000


@seeds
def test_miss_change_4B(seed: int) -> None:
    """TestMissChange: servers that miss configuration changes catch up."""
    play("miss_change_4B", seed)


@seeds
def test_concurrent1_4B(seed: int) -> None:
    """TestConcurrent1."""
    play("concurrent1_4B", seed)


@one_seed
def test_concurrent2_4B(seed: int) -> None:
    """TestConcurrent2."""
    play("concurrent2_4B", seed)


@one_seed
def test_concurrent3_4B(seed: int) -> None:
    """TestConcurrent3."""
    play("concurrent3_4B", seed)


@seeds
def test_unreliable1_4B(seed: int) -> None:
    """TestUnreliable1."""
    play("unreliable1_4B", seed)


@seeds
def test_unreliable2_4B(seed: int) -> None:
    """TestUnreliable2."""
    play("unreliable2_4B", seed)


@seeds
def test_unreliable3_4B(seed: int) -> None:
    """TestUnreliable3: random calls on random keys; the history is linearizable."""
    play("unreliable3_4B", seed)


@seeds
def test_challenge1_delete_4B(seed: int) -> None:
    """TestChallenge1Delete: shards that moved away are deleted (the 117,000-byte bound,
    checked inside the scenario)."""
    run = play("challenge1_delete_4B", seed)
    expected = 3 * ((CHALLENGE1_KEYS - 3) * CHALLENGE1_VALUE + 2 * 3 * CHALLENGE1_VALUE + 6000)
    assert expected == 117_000
    assert run.tester.persisted_bytes() <= expected


@seeds
def test_challenge2_unaffected_4B(seed: int) -> None:
    """TestChallenge2Unaffected: shards untouched by a reconfiguration that cannot finish
    are still served."""
    play("challenge2_unaffected_4B", seed)


@seeds
def test_challenge2_partial_4B(seed: int) -> None:
    """TestChallenge2Partial: each shard received is served at once."""
    play("challenge2_partial_4B", seed)


def test_there_are_thirteen_tests_each_tested_here() -> None:
    assert len(names()) == 13 and len(names(challenge=True)) == 3
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")
              and name.endswith("_4B")}
    assert set(names()) <= tested


@pytest.mark.campaign
@pytest.mark.parametrize("name", names())
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_campaign_4B(name: str, seed: int) -> None:
    play(name, seed)
