"""Part 2C — persistence: every lab scenario of the part, by its lab name.

Each test plays the scenario on the simulator under three seeds; the lab's checks
(impl/raft/labtester.py) raise on failure. `pytest -k 2C` runs the part; `--campaign`
adds fifty more seeds per scenario.
"""

from __future__ import annotations

import pytest

from tests.raft.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS, names, play

seeds = pytest.mark.parametrize("seed", DEFAULT_SEEDS)


@seeds
def test_persist1_2C(seed: int) -> None:
    """TestPersist12C."""
    play("persist1_2C", seed)


@seeds
def test_persist2_2C(seed: int) -> None:
    """TestPersist22C."""
    play("persist2_2C", seed)


@seeds
def test_persist3_2C(seed: int) -> None:
    """TestPersist32C."""
    play("persist3_2C", seed)


@seeds
def test_figure8_2C(seed: int) -> None:
    """TestFigure82C."""
    play("figure8_2C", seed)


@seeds
def test_unreliable_agree_2C(seed: int) -> None:
    """TestUnreliableAgree2C."""
    play("unreliable_agree_2C", seed)


@seeds
def test_figure8_unreliable_2C(seed: int) -> None:
    """TestFigure8Unreliable2C."""
    play("figure8_unreliable_2C", seed)


@seeds
def test_reliable_churn_2C(seed: int) -> None:
    """TestReliableChurn2C."""
    play("reliable_churn_2C", seed)


@seeds
def test_unreliable_churn_2C(seed: int) -> None:
    """TestUnreliableChurn2C."""
    play("unreliable_churn_2C", seed)


@pytest.mark.campaign
@pytest.mark.parametrize("name", names("2C"))
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_campaign_2C(name: str, seed: int) -> None:
    play(name, seed)
