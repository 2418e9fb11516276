"""Every trace the default suite's Raft scenarios produce is a behaviour of the spec.

Each of the 28 lab scenarios is played under the default suite's seeds (tests/raft/lab.py)
with a live validator as its trace writer (checker.validation.live: the records the trace
file would hold, validated as they are written); the lab's checks must hold and the trace
must validate. `--campaign` sweeps the campaign's fifty more seeds per scenario.
"""

from __future__ import annotations

import pytest

from checker.validation.live import LiveValidation
from checker.verdict import Verdict
from impl.raft.scenarios import BY_NAME, SCENARIOS
from tests.raft.lab import CAMPAIGN_SEEDS, DEFAULT_SEEDS


def validate_scenario(name: str, seed: int) -> None:
    writer = LiveValidation(f"{name}-seed{seed}")
    BY_NAME[name].run(seed, writer)  # raises if a lab check fails
    result = writer.result()
    assert result.verdict is Verdict.OK, (result.mismatch, result.replay)
    assert result.actions["Receive"] > 0 and result.events > 0


@pytest.mark.parametrize("seed", DEFAULT_SEEDS)
@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_every_default_scenario_trace_is_a_behaviour_of_the_spec(name: str, seed: int) -> None:
    validate_scenario(name, seed)


@pytest.mark.campaign
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_every_campaign_scenario_trace_is_a_behaviour_of_the_spec_campaign(
        name: str, seed: int) -> None:
    validate_scenario(name, seed)
