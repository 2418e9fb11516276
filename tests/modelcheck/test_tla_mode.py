"""raft.tla mode (spec.raft_tla): the checker against a naive search, and its encoding."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import replace

import pytest

from checker.modelcheck import check
from checker.modelcheck.encoding import canonical_tla, decode_tla
from checker.modelcheck.models import RaftModel
from checker.verdict import Verdict
from spec import raft, raft_tla

CONFIG = raft.Config(servers=2, max_term=2, max_log=1, max_messages=1)
# A set keeps delivered messages: only drops make room for new ones.
SET_CONFIG = replace(CONFIG, duplicates=True, drops=True, max_messages=2)


def naive(config: raft.Config, network: str) -> set[raft_tla.TlaState]:
    init = raft_tla.initial_states(config)
    seen = set(init)
    queue = deque(init)
    while queue:
        state = queue.popleft()
        assert all(p(raft_tla.as_raft_state(state)) for p in raft.INVARIANTS.values())
        for _, nxt in raft_tla.successors(state, config, network):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


@pytest.mark.parametrize(
    ("network", "config"), [("bag", CONFIG), ("clean-bag", CONFIG), ("set", SET_CONFIG)]
)
def test_tla_mode_counts_match_a_naive_search(network: str, config: raft.Config) -> None:
    states = naive(config, network)
    model = {"bag": "raft-tla", "clean-bag": "raft-tla-clean-bag", "set": "raft-tla-set"}[network]
    plain = check(RaftModel(config=config, semantics=model, symmetry=False))
    reduced = check(RaftModel(config=config, semantics=model, symmetry=True))
    assert plain.verdict is Verdict.OK and reduced.verdict is Verdict.OK
    assert plain.distinct_states == len(states)
    assert reduced.distinct_states == len({canonical_tla(s) for s in states})
    assert reduced.sometimes["EntryCommittedEverywhere"]


def test_tla_encoding_round_trips_and_is_symmetric() -> None:
    states = naive(CONFIG, network="bag")
    for state in list(states)[:300]:
        assert decode_tla(canonical_tla(state, symmetry=False)) == state
        images = set()
        for perm in itertools.permutations(range(CONFIG.servers)):
            renamed = raft.permute(raft_tla.as_raft_state(state), perm)
            images.add(renamed)
        assert raft_tla.as_raft_state(decode_tla(canonical_tla(state))) in images


def test_count_zero_messages_are_kept_only_in_raft_tlas_bag() -> None:
    kept = naive(CONFIG, network="bag")
    clean = naive(CONFIG, network="clean-bag")
    assert any(c == 0 for s in kept for _, c in s.network)
    assert all(c > 0 for s in clean for _, c in s.network)
    assert len(clean) < len(kept)
