"""Part 2A — leader election: every lab scenario of the part, by its lab name.

Each test plays the scenario on the simulator under three seeds; the lab's checks
(impl/raft/labtester.py) raise on failure. `pytest -k 2A` runs the part; `--campaign`
adds fifty more seeds per scenario.
"""

from __future__ import annotations

import pytest

from tests.raft.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS, names, play

seeds = pytest.mark.parametrize("seed", DEFAULT_SEEDS)


@seeds
def test_initial_election_2A(seed: int) -> None:
    """TestInitialElection2A."""
    play("initial_election_2A", seed)


@seeds
def test_re_election_2A(seed: int) -> None:
    """TestReElection2A."""
    play("re_election_2A", seed)


@seeds
def test_many_elections_2A(seed: int) -> None:
    """TestManyElections2A."""
    play("many_elections_2A", seed)


@pytest.mark.campaign
@pytest.mark.parametrize("name", names("2A"))
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_campaign_2A(name: str, seed: int) -> None:
    play(name, seed)
