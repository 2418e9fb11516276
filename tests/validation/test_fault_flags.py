"""Every fault flag of the Raft core (impl.raft.bugs) is caught by trace validation on a lab
scenario under one of the default suite's seeds, with the rule it breaks; the correct core's
trace of the same run validates (tests/validation/test_scenario_traces.py sweeps them all).
The table of how often each is caught, by validation and by the invariants alone, is
bench/trace_validate_bugs.py's."""

from __future__ import annotations

import pytest

from checker.validation.live import LiveValidation
from checker.validation.result import (
    APPLY_COMMITTED,
    PERSIST_BEFORE_SEND,
    REFINEMENT,
)
from impl.raft.bugs import BUGS
from impl.raft.scenarios import BY_NAME
from impl.raft.scenarios.chaos import simulate
from tests.raft.lab import DEFAULT_SEEDS

# flag → (scenario, seed, the rule its first mismatch breaks)
CAUGHT_ON = {
    "figure8-commit": ("fail_no_agree_2B", 1, REFINEMENT),
    "vote-without-log-check": ("fail_agree_2B", 1, REFINEMENT),
    "unpersisted-vote": ("initial_election_2A", 1, PERSIST_BEFORE_SEND),
    "stale-append-truncates": ("unreliable_agree_2C", 1, REFINEMENT),
    "no-step-down": ("re_election_2A", 1, REFINEMENT),
    "apply-before-commit": ("basic_agree_2B", 1, APPLY_COMMITTED),
    "commit-past-held": ("fail_agree_2B", 1, REFINEMENT),
    "snapshot-off-by-one": ("snapshot_basic_2D", 1, REFINEMENT),
    "grant-before-persist": ("many_elections_2A", 1, PERSIST_BEFORE_SEND),
    "commit-to-last-index": ("persist2_2C", 1, REFINEMENT),
}


def test_every_flag_has_a_catching_run() -> None:
    assert set(CAUGHT_ON) == set(BUGS)
    assert all(seed in DEFAULT_SEEDS for _, seed, _ in CAUGHT_ON.values())


@pytest.mark.parametrize("flag", sorted(CAUGHT_ON))
def test_validation_catches_the_flag_on_a_lab_scenario(flag: str) -> None:
    name, seed, rule = CAUGHT_ON[flag]
    writer = LiveValidation(f"{name}-{flag}")
    simulate(seed=seed, scenario=BY_NAME[name], trace=writer, bugs=frozenset({flag}))
    result = writer.result()
    assert result.mismatch is not None, f"{flag} not caught on {name} seed {seed}"
    assert result.mismatch.rule == rule, result.mismatch
    # The replay names the flag, so the run it reports can be re-created.
    assert result.replay == [] or f"--bug {flag}" in result.replay[0]
