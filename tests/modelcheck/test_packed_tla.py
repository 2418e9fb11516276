"""The packed engine (`checker.modelcheck.packed_tla`) is raft.tla's Next, kept equal to the
readable `spec.raft_tla` here: same successors on reachable states, a canonical form that is
one per orbit, the same property verdicts, and the same state counts (TLC's, where known)."""

from __future__ import annotations

import itertools
import pickle
import random
from collections import deque
from pathlib import Path

import pytest

from checker.modelcheck import Options, check
from checker.modelcheck import packed_tla as packed
from checker.modelcheck.models import RaftModel
from checker.verdict import Verdict
from spec import raft, raft_tla
from spec.raft_symmetry import permute_message
from tests.broken_states import broken

# Configurations covering every action: values and log length > 1 (conflicts, removal one
# entry at a time), drops, duplicates and restarts, and both bag semantics.
CONFIGS = [
    (raft.Config(servers=3, max_term=3, max_log=2, values=2, max_messages=2), "clean-bag"),
    (raft.Config(servers=3, max_term=3, max_log=2, values=2, max_messages=3), "bag"),
    (
        raft.Config(
            servers=3,
            max_term=2,
            max_log=2,
            max_messages=2,
            max_restarts=1,
            drops=True,
            duplicates=True,
        ),
        "bag",
    ),
    (
        raft.Config(servers=3, max_term=3, max_log=2, values=2, max_messages=3, duplicates=True),
        "set",
    ),
    (
        raft.Config(servers=2, max_term=3, max_log=2, max_messages=2, drops=True),
        "clean-bag",
    ),
]


def sample_states(
    config: raft.Config, network: str, walks: int = 60, depth: int = 40, seed: int = 7
) -> list[raft_tla.TlaState]:
    """States of the readable spec: a breadth-first prefix and random walks deep into it."""
    rng = random.Random(seed)
    init = raft_tla.initial_states(config)
    seen = dict.fromkeys(init)
    queue = deque(init)
    while queue and len(seen) < 400:
        for _, t in raft_tla.successors(queue.popleft(), config, network):
            if t not in seen:
                seen[t] = None
                queue.append(t)
    for _ in range(walks):
        state = init[0]
        for _ in range(depth):
            nexts = [t for _, t in raft_tla.successors(state, config, network)]
            if not nexts:
                break
            state = rng.choice(nexts)
            seen[state] = None
    return list(seen)


def rename(state: raft_tla.TlaState, perm: tuple[int, ...]) -> raft_tla.TlaState:
    """The readable state with server i called perm[i]."""
    n = state.servers
    old = [0] * n
    for i, new in enumerate(perm):
        old[new] = i

    def per_server(values: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(values[old[k]] for k in range(n))

    return raft_tla.TlaState(
        term=per_server(state.term),  # type: ignore[arg-type]
        role=per_server(state.role),  # type: ignore[arg-type]
        voted_for=tuple(None if v is None else perm[v] for v in per_server(state.voted_for)),  # type: ignore[index]
        log=per_server(state.log),  # type: ignore[arg-type]
        commit_index=per_server(state.commit_index),  # type: ignore[arg-type]
        votes_responded=tuple(
            frozenset(perm[j] for j in s) for s in per_server(state.votes_responded)
        ),  # type: ignore[attr-defined]
        votes_granted=tuple(frozenset(perm[j] for j in s) for s in per_server(state.votes_granted)),  # type: ignore[attr-defined]
        next_index=tuple(tuple(r[old[k]] for k in range(n)) for r in per_server(state.next_index)),  # type: ignore[index]
        match_index=tuple(
            tuple(r[old[k]] for k in range(n)) for r in per_server(state.match_index)
        ),  # type: ignore[index]
        network=tuple(
            sorted(((permute_message(m, perm), c) for m, c in state.network), key=raft_tla.bag_key)
        ),
        restarts=state.restarts,
    )


@pytest.mark.parametrize(("config", "network"), CONFIGS)
def test_packed_successors_are_exactly_the_specs(config: raft.Config, network: str) -> None:
    for state in sample_states(config, network):
        assert packed.unpack(packed.pack(state)) == state
        expected = {t for _, t in raft_tla.successors(state, config, network)}
        got = [packed.unpack(t) for _, t in packed.successors(packed.pack(state), config, network)]
        assert set(got) == expected, state


@pytest.mark.parametrize(("config", "network"), CONFIGS)
def test_memoised_successors_are_the_plain_ones_in_order(
    config: raft.Config, network: str
) -> None:
    # The search runs `successor_function`, whose per-server outcomes come from a memo; it
    # must yield exactly what the memo-less `successors` yields (checked against the spec
    # above), names and order included, when the memo is cold and when it is warm.
    states = [packed.pack(s) for s in sample_states(config, network)]
    memoised = packed.successor_function(config, network)
    for _ in range(2):
        for state in states:
            assert list(memoised(state)) == list(packed.successors(state, config, network))


@pytest.mark.parametrize(("config", "network"), CONFIGS[:3])
def test_canonical_form_is_one_per_orbit(config: raft.Config, network: str) -> None:
    perms = list(itertools.permutations(range(config.servers)))
    for state in sample_states(config, network, walks=25):
        images = {perm: rename(state, perm) for perm in perms}
        forms = {packed.canonical(packed.pack(image)) for image in images.values()}
        assert len(forms) == 1  # every renaming of the state has the same canonical form
        form = forms.pop()
        assert packed.unpack(form) in images.values()  # and it is one of those renamings
        assert packed.canonical(form) == form


@pytest.mark.parametrize(("config", "network"), CONFIGS[:3])
def test_the_partition_key_is_the_same_for_every_renaming(
    config: raft.Config, network: str
) -> None:
    # A parallel search routes a successor by `orbit_key` before its canonical form: every
    # renaming of a state must go to the partition that holds its orbit.
    perms = list(itertools.permutations(range(config.servers)))
    semantics = {"clean-bag": "raft-tla-clean-bag", "bag": "raft-tla"}[network]
    owner = RaftModel(config=config, semantics=semantics).owner
    keys_seen = set()
    for state in sample_states(config, network, walks=25):
        images = [packed.pack(rename(state, perm)) for perm in perms]
        keys = {packed.orbit_key(image[0]) for image in images}
        assert len(keys) == 1, state
        assert {owner(image, 0) for image in images} == keys
        keys_seen |= keys
    assert len(keys_seen) > 10  # and it tells states apart: partitions can be balanced


@pytest.mark.parametrize(("config", "network"), CONFIGS[:3])
def test_a_state_first_routed_is_canonicalised_as_one_never_routed(
    config: raft.Config, network: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The owner leaves a partial plan (the orbit key alone) for servers' variables it has
    # not met; a canonical form asked later, or at once, must complete it, not read it.
    states = [packed.pack(s) for s in sample_states(config, network, walks=25)]

    def fresh_memo() -> None:
        monkeypatch.setattr(packed, "_PLANS", {})
        monkeypatch.setattr(packed, "_LAST_PLAN", [None, None])

    fresh_memo()
    expected = [packed.canonical(s) for s in states]
    assert any(form is not s for form, s in zip(expected, states, strict=True))
    fresh_memo()
    owner = packed.orbit_owner()
    assert [owner(s, 0) for s in states] == [packed.orbit_key(s[0]) for s in states]
    assert all(plan[2] is None for plan in packed._PLANS.values())  # all partial
    assert [packed.canonical(s) for s in states] == expected
    fresh_memo()
    owner = packed.orbit_owner()
    for state, form in zip(states, expected, strict=True):
        owner(state, 0)
        assert packed.canonical(state) == form


def test_interned_states_are_equal_and_made_of_this_processs_objects() -> None:
    # States that crossed processes (a parallel search pickles records and stolen states)
    # come back equal, with one object for each value of a server's variables, and the
    # memo's later steps reuse those objects: the memos then find them by identity.
    config, network = CONFIGS[0]
    states = [packed.pack(s) for s in sample_states(config, network, walks=10)]
    back = packed.intern(pickle.loads(pickle.dumps(states)))
    assert back == states
    known = {local: local for state in back for local in state[0]}
    assert all(known[local] is local for state in back for local in state[0])
    assert len(known) < sum(len(state[0]) for state in back)  # (values did repeat)
    successors = packed.successor_function(config, network)  # a fresh memo
    made = [local for state in back for _, t in successors(state)
            for i, local in enumerate(t[0]) if local is not state[0][i] and local in known]
    assert made and all(local is known[local] for local in made)


@pytest.mark.parametrize("network", ["clean-bag", "bag"])
def test_both_engines_count_the_same_states(network: str) -> None:
    # Every action (restarts, drops, duplicates, two values) in a space the readable spec
    # exhausts in seconds: 2,701 states with the clean bag, 25,686 keeping count-0 messages.
    config = raft.Config(
        servers=2,
        max_term=2,
        max_log=1,
        values=2,
        max_messages=1,
        max_restarts=1,
        drops=True,
        duplicates=True,
    )
    model = {"bag": "raft-tla", "clean-bag": "raft-tla-clean-bag"}[network]
    for symmetry in (True, False):
        spec = check(RaftModel(config=config, semantics=model, engine="spec", symmetry=symmetry))
        fast = check(
            RaftModel(config=config, semantics=model, engine="packed", symmetry=symmetry)
        )
        assert spec.verdict is fast.verdict is Verdict.OK
        assert (fast.distinct_states, fast.depth) == (spec.distinct_states, spec.depth)
        assert fast.sometimes == spec.sometimes


def test_packed_engine_matches_tlcs_count_with_one_message_in_flight() -> None:
    # TLC 2.15 on bench/tla/RaftCompare.tla (bench/modelcheck_tlc.sh 1 FALSE): 57,021
    # distinct states, depth 48, for 3 servers, terms ≤ 2, logs ≤ 1, ≤ 1 message in flight.
    config = raft.Config(servers=3, max_term=2, max_log=1, values=1, max_messages=1)
    result = check(RaftModel(config=config, semantics="raft-tla-clean-bag", engine="packed"))
    assert (result.verdict, result.distinct_states, result.depth) == (Verdict.OK, 57_021, 48)


@pytest.mark.campaign
def test_packed_engine_matches_tlcs_count_with_count_zero_messages_kept() -> None:
    # TLC on the same model keeping count-0 messages (raft.tla's bag): 297,026, depth 63.
    config = raft.Config(servers=3, max_term=2, max_log=1, values=1, max_messages=1)
    result = check(RaftModel(config=config, semantics="raft-tla", engine="packed"))
    assert (result.verdict, result.distinct_states, result.depth) == (Verdict.OK, 297_026, 63)


@pytest.mark.parametrize("network", ["clean-bag", "bag"])
def test_memoised_properties_agree_with_the_spec(network: str) -> None:
    config, _ = CONFIGS[0]
    semantics = {"bag": "raft-tla", "clean-bag": "raft-tla-clean-bag"}[network]
    fast = RaftModel(config=config, semantics=semantics, engine="packed")
    spec = RaftModel(config=config, semantics=semantics, engine="spec")
    rng = random.Random(3)
    states = sample_states(config, network, walks=30)
    states += [broken(s, rng, lowest_term=1) for s in states]
    verdicts = set()
    for state in states:
        verdict = spec.violated_invariant(state)
        verdicts.add(verdict)
        assert fast.violated_invariant(packed.pack(state)) == verdict
        reached_fast, reached_spec = (
            dict.fromkeys(raft.SOMETIMES, False),
            dict.fromkeys(raft.SOMETIMES, False),
        )
        fast.note_reached(packed.pack(state), reached_fast)
        spec.note_reached(state, reached_spec)
        assert reached_fast == reached_spec
        after = broken(state, rng, lowest_term=1)
        assert fast.step_check(packed.pack(state))(packed.pack(after)) == spec.step_check(state)(
            after
        )
    assert len(verdicts) > 2  # the sample exercised several invariants, not only "holds"


def test_counterexamples_replay_with_the_packed_fingerprints() -> None:
    # A counterexample is rebuilt by replaying the readable spec and following the search's
    # fingerprints, so the replay model must fingerprint readable states as the engine does.
    config, network = CONFIGS[1]
    model = RaftModel(config=config, semantics="raft-tla", engine="packed")
    replay = model.replay_model()
    assert replay is not model
    for state in sample_states(config, network, walks=10):
        assert replay.canonical(state) == model.canonical(packed.pack(state))


def test_parallel_packed_search_counts_the_same_states() -> None:
    config = raft.Config(servers=2, max_term=2, max_log=1, values=2, max_messages=1, drops=True)
    one = check(RaftModel(config=config, semantics="raft-tla"))
    two = check(RaftModel(config=config, semantics="raft-tla"), Options(workers=2))
    assert one.verdict is two.verdict is Verdict.OK
    assert (one.distinct_states, one.depth, one.sometimes) == (
        two.distinct_states,
        two.depth,
        two.sometimes,
    )


def test_routed_successors_give_the_same_states_with_more_partitions_and_a_spill(
    tmp_path: Path,
) -> None:
    # Successors travel uncanonicalised to their owner (Model.owner_is_invariant), which
    # canonicalises them against its dict and, once spilled, its runs on disk: TLC's count.
    config = raft.Config(servers=3, max_term=2, max_log=1, max_messages=1)
    results = [
        check(RaftModel(config=config, semantics="raft-tla-clean-bag"), options)
        for options in (Options(workers=3),
                        Options(workers=2, spill_after=3000, spill_dir=tmp_path))
    ]
    for result in results:
        assert result.verdict is Verdict.OK
        assert (result.distinct_states, result.depth) == (57_021, 48)
    assert results[0].sometimes == results[1].sometimes
    assert results[0].states_generated == results[1].states_generated
