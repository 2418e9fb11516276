"""The Raft cores as a model: the image hook, the packing, symmetry, and the search's verdicts
on the correct core and on each fault flag (impl/raft/bugs.py)."""

from __future__ import annotations

import dataclasses

import pytest

from checker.modelcheck import Options, check
from checker.modelcheck.models import impl_raft_state as st
from checker.modelcheck.models import impl_raft_view as view
from checker.modelcheck.models.impl_raft import (
    CAMPAIGN_FLAGS,
    FLAG_BOUNDS,
    ImplRaftConfig,
    ImplRaftModel,
)
from checker.modelcheck.models.impl_raft import (
    CLEAN_IN_CAMPAIGN as CLEAN_IN_CAMPAIGN_FLAGS,
)
from checker.modelcheck.models.impl_raft_replay import confirm
from checker.modelcheck.trace import replay_holds
from checker.validation.raft_mapping import view_of_core, view_of_persisted, view_of_spec
from checker.verdict import Verdict
from impl.raft.core import ELECTION, RaftCore
from impl.raft.messages import RequestVoteReply

SMALL = FLAG_BOUNDS["no-step-down"]
DEFAULT_FLAGS = sorted(set(FLAG_BOUNDS) - CAMPAIGN_FLAGS)
# The correct core at these flags' bounds takes minutes: the campaign checks it clean there.
CLEAN_IN_CAMPAIGN = sorted(CLEAN_IN_CAMPAIGN_FLAGS | CAMPAIGN_FLAGS)
# The invariant each flag breaks first, at its bounds.
EXPECTED = {
    "no-step-down": "ElectionSafety",
    "stale-append-truncates": "CommittedEntriesOutvoteRivals",
    "vote-without-log-check": "LeaderCompleteness",
    "unpersisted-vote": "ElectionSafety",
    "apply-before-commit": "WellFormedState",
    "commit-past-held": "CommitIndexInLog",
    "snapshot-off-by-one": "TypeOK",
    "figure8-commit": "CommittedEntriesOutvoteRivals",
    "grant-before-persist": "ElectionSafety",
    "commit-to-last-index": "StateMachineSafety",
}


def _bounds(flags: list[str]) -> list[dict[str, object]]:
    return [dict(b) for b in sorted({tuple(sorted(FLAG_BOUNDS[f].items())) for f in flags})]


def _check(bugs: frozenset[str] = frozenset(), symmetry: bool = True,
           reduce: bool = True, **bounds: object) -> tuple[ImplRaftModel, object]:
    model = ImplRaftModel(config=ImplRaftConfig(bugs=bugs, reduce=reduce, **bounds),  # type: ignore[arg-type]
                          symmetry=symmetry)
    return model, check(model, Options())


def test_an_image_holds_every_attribute_of_the_core_and_restores_it() -> None:
    core = RaftCore(0, [0, 1, 2])
    core.boot()
    core.timeout(ELECTION)
    core.step(1, RequestVoteReply(term=1, granted=True))  # leader now: every map is filled
    constant = {"id", "peers", "others", "config", "_out"}
    # A count kept for the network driver's storage (RaftStorage.stage): nothing in the core
    # reads it, and a state space must not tell states apart by it.
    for_the_driver = {"log_cuts"}
    image = core.image()
    assert set(vars(core)) - constant - for_the_driver == {
        {"voted_for": "voted_for", "log": "_log", "snapshot": "_snapshot",
         "votes_granted": "_votes_granted", "next_index": "_next_index",
         "match_index": "_match_index", "in_flight": "_in_flight",
         "sent_to": "_sent_to", "read_round": "_read_round", "read_acks": "_read_acks",
         "reads": "_reads", "reads_waiting": "_reads_waiting",
         "durable_index": "_durable_index"}.get(f, f)
        for f in image._fields}
    again = RaftCore.from_image(image, 0, [0, 1, 2])
    assert again.image() == image


def test_packing_round_trips_a_leader() -> None:
    core = RaftCore(0, [0, 1, 2])
    core.boot()
    core.timeout(ELECTION)
    core.step(1, RequestVoteReply(term=1, granted=True))
    core.start(1)
    packed = st.pack_core(core.image(), 3, reduce=False)
    assert st.pack_core(st.unpack_core(packed, 0), 3, reduce=False) == packed


@pytest.mark.parametrize(
    "bounds", [b for b in _bounds(DEFAULT_FLAGS) if b not in _bounds(CLEAN_IN_CAMPAIGN)], ids=str)
def test_the_correct_core_checks_clean_where_the_default_suite_finds_each_flag(
        bounds: dict[str, object]) -> None:
    _, result = _check(**bounds)
    assert result.verdict is Verdict.OK, result.reason  # type: ignore[attr-defined]
    assert result.sometimes["LeaderElected"]  # type: ignore[attr-defined]  (not vacuous)


@pytest.mark.parametrize("bug", DEFAULT_FLAGS)
def test_each_flag_is_found_with_a_counterexample_the_simulator_confirms(bug: str) -> None:
    model, result = _check(frozenset({bug}), **FLAG_BOUNDS[bug])
    assert result.verdict is Verdict.VIOLATION  # type: ignore[attr-defined]
    trace = result.counterexample  # type: ignore[attr-defined]
    assert trace.invariant == EXPECTED[bug]
    assert replay_holds(model, trace)
    confirm(model, trace)  # raises unless the simulator reaches each of the model's states


@pytest.mark.campaign
@pytest.mark.parametrize("bug", CLEAN_IN_CAMPAIGN)
def test_campaign_each_expensive_flag_is_found_and_the_correct_core_is_clean_there(
        bug: str) -> None:
    model, result = _check(frozenset({bug}), **FLAG_BOUNDS[bug])
    assert result.verdict is Verdict.VIOLATION  # type: ignore[attr-defined]
    assert result.counterexample.invariant == EXPECTED[bug]  # type: ignore[attr-defined]
    assert replay_holds(model, result.counterexample)  # type: ignore[attr-defined]
    confirm(model, result.counterexample)  # type: ignore[attr-defined]
    _, clean = _check(**FLAG_BOUNDS[bug])
    assert clean.verdict is Verdict.OK, clean.reason  # type: ignore[attr-defined]


def test_no_shorter_counterexample_exists() -> None:
    # BFS finds the least depth: the same bounds cut one level short find nothing.
    model, result = _check(frozenset({"no-step-down"}), **SMALL)
    steps = len(result.counterexample.steps)  # type: ignore[attr-defined]
    short = check(model, Options(max_depth=steps))
    assert short.verdict is Verdict.UNKNOWN


@pytest.mark.parametrize("bug", ["no-step-down", "commit-past-held"])
def test_symmetry_and_the_erasure_of_dead_variables_change_no_verdict(bug: str) -> None:
    # The naive twins: no symmetry, and no erasure; the same shortest length and invariant.
    results = [_check(frozenset({bug}), symmetry=sym, reduce=red, **FLAG_BOUNDS[bug])[1]
               for sym, red in ((True, True), (False, True), (True, False), (False, False))]
    lengths = {len(r.counterexample.steps) for r in results}  # type: ignore[attr-defined]
    names = {r.counterexample.invariant for r in results}  # type: ignore[attr-defined]
    assert len(lengths) == 1 and len(names) == 1


def test_symmetry_and_erasure_agree_on_the_correct_core() -> None:
    bounds = dict(servers=3, max_term=1, max_messages=2, drops=True, max_log=1)
    counts = {}
    for sym in (True, False):
        for red in (True, False):
            _, result = _check(symmetry=sym, reduce=red, **bounds)
            assert result.verdict is Verdict.OK  # type: ignore[attr-defined]
            counts[sym, red] = result.distinct_states  # type: ignore[attr-defined]
    # symmetry only merges, erasure only merges
    assert counts[True, True] <= counts[False, True] <= counts[False, False]
    assert counts[True, True] <= counts[True, False] <= counts[False, False]


def test_canonical_is_one_per_orbit() -> None:
    model = ImplRaftModel(config=ImplRaftConfig(**SMALL))  # type: ignore[arg-type]
    state = model.initial_states()[0]
    seen = [state]
    for _ in range(4):  # a few levels of real states
        seen = [t for s in seen for _, t in model.successors(s)]
    for s in seen[:200]:
        forms = {st.canonical(st.permute(s, perm)) for perm in st._perms(3)}
        assert len(forms) == 1


def test_bounds_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="servers"):
        ImplRaftConfig(servers=0)
    with pytest.raises(ValueError, match="unknown bug"):
        ImplRaftConfig(bugs=frozenset({"nope"}))
    with pytest.raises(ValueError, match="snapshots"):
        ImplRaftConfig(bugs=frozenset({"snapshot-off-by-one"}))
    assert dataclasses.replace(ImplRaftConfig(), max_term=3).max_term == 3


def test_the_parallel_search_agrees_with_the_serial_one() -> None:
    model = ImplRaftModel(config=ImplRaftConfig(**SMALL))  # type: ignore[arg-type]
    serial, parallel = check(model, Options()), check(model, Options(workers=2))
    assert serial.verdict is parallel.verdict is Verdict.OK
    assert serial.distinct_states == parallel.distinct_states
    buggy = ImplRaftModel(config=ImplRaftConfig(bugs=frozenset({"no-step-down"}), **SMALL))  # type: ignore[arg-type]
    one, two = check(buggy, Options()), check(buggy, Options(workers=2))
    assert one.counterexample is not None and two.counterexample is not None
    assert len(one.counterexample.steps) == len(two.counterexample.steps)
    confirm(buggy, two.counterexample)


def test_the_projection_is_the_trace_validators_mapping() -> None:
    # Every server of every state a few levels deep: a live core projects to what the
    # validator reads of the same core (`view_of_core`), a crashed one to `view_of_persisted`
    # of what it persisted; the values are the model's own.
    model = ImplRaftModel(config=ImplRaftConfig(**{**SMALL, "max_restarts": 1}))  # type: ignore[arg-type]
    level = list(model.initial_states())
    crashed = live = 0
    for _ in range(6):
        level = [t for s in level for _, t in model.successors(s)][:400]
        for state in level:
            seen = view.servers_view(state[0])
            for i, server in enumerate(state[0]):
                if server[0]:
                    live += 1
                    expected = view_of_core(RaftCore.from_image(
                        st.unpack_core(server[0], i), i, model._peers))  # type: ignore[attr-defined]
                else:
                    crashed += 1
                    expected = view_of_persisted(st.unpack_hard(server[2])[0])
                assert view_of_spec(seen, i) == expected
    assert live and crashed
