"""The Raft spec's public API: initial state, named actions, invariants, bounds, symmetry."""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from spec import raft


def reachable(config: raft.Config, limit: int = 50_000) -> list[raft.State]:
    """Every reachable state (plain BFS, no reductions); fails if the space exceeds `limit`."""
    init = raft.initial_states(config)
    seen = set(init)
    queue = deque(init)
    while queue:
        state = queue.popleft()
        for _, nxt in raft.successors(state, config):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
        assert len(seen) <= limit, "state space larger than the test expects"
    return list(seen)


SMALL = raft.Config(servers=2, max_term=2, max_log=1, max_messages=2)


def test_initial_state_is_all_followers_in_term_0() -> None:
    (init,) = raft.initial_states(raft.Config())
    assert init.term == (0, 0, 0)
    assert init.role == (raft.Role.FOLLOWER,) * 3
    assert init.network == frozenset()
    assert all(inv(init) for inv in raft.INVARIANTS.values())
    assert not any(prop(init) for prop in raft.SOMETIMES.values())


def test_timeout_makes_a_candidate_that_votes_for_itself() -> None:
    (init,) = raft.initial_states(SMALL)
    steps = dict((str(a), s) for a, s in raft.successors(init, SMALL))
    assert set(steps) == {"Timeout(s0)", "Timeout(s1)"}
    after = steps["Timeout(s1)"]
    assert after.term == (0, 1)
    assert after.role[1] == raft.Role.CANDIDATE
    assert after.voted_for[1] == 1
    assert after.votes_granted[1] == frozenset({1})


def test_states_are_hashable_and_immutable() -> None:
    (init,) = raft.initial_states(SMALL)
    assert hash(init) == hash(raft.initial_states(SMALL)[0])
    with pytest.raises(AttributeError):
        init.restarts = 3  # type: ignore[misc]


def test_small_space_satisfies_every_invariant_and_reaches_the_sometimes_properties() -> None:
    config = raft.Config(servers=2, max_term=2, max_log=1, max_messages=2)
    states = reachable(config)
    for state in states:
        for name, invariant in raft.INVARIANTS.items():
            assert invariant(state), name
            for _, nxt in raft.successors(state, config):
                assert raft.leader_append_only(state, nxt)
    for name, prop in raft.SOMETIMES.items():
        assert any(prop(s) for s in states), name


def test_bounds_are_respected() -> None:
    config = raft.Config(servers=2, max_term=2, max_log=1, max_messages=2, max_restarts=1)
    for state in reachable(config):
        assert max(state.term) <= config.max_term
        assert all(raft.last_index(state, i) <= config.max_log for i in range(2))
        assert len(state.network) <= config.max_messages
        assert state.restarts <= config.max_restarts


def test_permuting_servers_commutes_with_successors() -> None:
    config = raft.Config(servers=3, max_term=1, max_log=1, max_messages=2)
    states = reachable(config, limit=200_000)[:300]
    for perm in itertools.permutations(range(3)):
        for state in states:
            image = {raft.permute(nxt, perm) for _, nxt in raft.successors(state, config)}
            of_image = {nxt for _, nxt in raft.successors(raft.permute(state, perm), config)}
            assert image == of_image
            for invariant in raft.INVARIANTS.values():
                assert invariant(state) == invariant(raft.permute(state, perm))


def test_unknown_bug_flag_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown bug"):
        raft.Config(bugs=frozenset({"no-such-bug"}))


def test_every_bug_flag_is_documented() -> None:
    assert set(raft.BUGS) == {
        "figure8-commit",
        "vote-without-log-check",
        "unpersisted-vote",
        "stale-append-truncates",
        "no-step-down",
    }
