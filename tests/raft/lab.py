"""Shared helpers of the lab scenario tests: which seeds run, and how a scenario is played."""

from __future__ import annotations

from impl.raft.labtester import Summary
from impl.raft.scenarios import BY_NAME, SCENARIOS

DEFAULT_SEEDS = (1, 2, 3)
CAMPAIGN_SEEDS = tuple(range(4, 54))  # 50 more seeds per scenario with --campaign


def play(name: str, seed: int) -> Summary:
    """Run lab scenario `name` under `seed`; a failed lab check raises RaftTestFailure."""
    return BY_NAME[name].run(seed)


def names(part: str) -> list[str]:
    return [s.name for s in SCENARIOS if s.part == part]
