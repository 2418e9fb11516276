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


def test_the_nodes_trace_state_is_the_cores_visible_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """RaftNode._state keeps the log's trace form between steps (fast); its naive twin is
    the core's own `visible_state().to_json()`, which the mapping reads a live core by."""
    from impl.raft.node import RaftNode

    fast = RaftNode._state
    compared = [0]

    def checked(self: RaftNode) -> dict[str, object]:
        state = fast(self)
        assert state == self.core.visible_state().to_json()
        compared[0] += 1
        return state

    monkeypatch.setattr(RaftNode, "_state", checked)
    for name in ("figure8_unreliable_2C", "snapshot_install_crash_2D", "backup_2B"):
        validate_scenario(name, 1)
    assert compared[0] > 1000
