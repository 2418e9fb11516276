"""The model checker against a naive search: counts, symmetry, verdicts, bounds, parallelism."""

from __future__ import annotations

import itertools

import pytest

from checker.modelcheck import Options, check
from checker.modelcheck.encoding import canonical, decode, encode
from checker.modelcheck.models import RaftModel
from checker.verdict import Verdict
from spec import raft
from tests.modelcheck.naive import naive_search

TINY = [
    raft.Config(servers=2, max_term=2, max_log=1, max_messages=2),
    raft.Config(servers=3, max_term=1, max_log=1, max_messages=2),
    raft.Config(servers=2, max_term=1, max_log=1, max_messages=2, max_restarts=1, drops=True),
    raft.Config(servers=2, max_term=2, max_log=2, max_messages=1, duplicates=True),
]


@pytest.fixture(scope="module", params=range(len(TINY)), ids=lambda k: f"tiny{k}")
def tiny(request: pytest.FixtureRequest) -> tuple[raft.Config, set[raft.State]]:
    config = TINY[request.param]
    states, violation = naive_search(config)
    assert violation is None, "the correct spec violates an invariant"
    return config, states


def test_without_symmetry_the_checker_counts_exactly_the_naive_states(
    tiny: tuple[raft.Config, set[raft.State]],
) -> None:
    config, states = tiny
    result = check(RaftModel(config=config, symmetry=False))
    assert result.verdict is Verdict.OK
    assert result.distinct_states == len(states)


def test_with_symmetry_the_checker_counts_the_orbits_of_the_naive_states(
    tiny: tuple[raft.Config, set[raft.State]],
) -> None:
    config, states = tiny
    result = check(RaftModel(config=config, symmetry=True))
    assert result.verdict is Verdict.OK
    orbits = {canonical(s) for s in states}
    assert result.distinct_states == len(orbits)
    factorial = len(list(itertools.permutations(range(config.servers))))
    assert len(states) / factorial <= result.distinct_states < len(states)


def test_canonical_form_is_the_same_for_every_renaming_and_decodes_back(
    tiny: tuple[raft.Config, set[raft.State]],
) -> None:
    config, states = tiny
    perms = list(itertools.permutations(range(config.servers)))
    for state in list(states)[:400]:
        assert decode(encode(state)) == state
        assert {canonical(raft.permute(state, p)) for p in perms} == {canonical(state)}
        assert decode(canonical(state)) in {raft.permute(state, p) for p in perms}


def test_sometimes_properties_are_reported_reached() -> None:
    result = check(RaftModel(config=TINY[0]))
    assert result.sometimes == {"LeaderElected": True, "EntryCommittedEverywhere": True}


def test_parallel_search_matches_the_sequential_one() -> None:
    config = TINY[1]
    one = check(RaftModel(config=config), Options(workers=1))
    two = check(RaftModel(config=config), Options(workers=2))
    assert (two.verdict, two.distinct_states, two.depth) == (
        one.verdict,
        one.distinct_states,
        one.depth,
    )


def test_a_bound_that_cuts_the_search_gives_unknown_never_ok() -> None:
    config = TINY[1]
    by_states = check(RaftModel(config=config), Options(max_states=100))
    by_depth = check(RaftModel(config=config), Options(max_depth=5))
    assert by_states.verdict is Verdict.UNKNOWN and "state bound" in by_states.reason
    assert by_depth.verdict is Verdict.UNKNOWN and "depth bound" in by_depth.reason


def test_snapshots_check_clean_and_install_snapshot_is_exercised() -> None:
    config = raft.Config(servers=3, max_term=1, max_log=2, max_messages=1, snapshots=True)
    assert check(RaftModel(config=config)).verdict is Verdict.OK
    states, _ = naive_search(config)
    names = {
        a.name if a.name != "Receive" else f"{a.name}:{type(a.message).__name__}"
        for s in states
        for a, _ in raft.successors(s, config)
    }
    assert {"Compact", "InstallSnapshot", "Receive:InstallSnapshot"} <= names
