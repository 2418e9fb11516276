"""The validator's fast paths against their naive twins (STYLE.md 9): the state comparison
(`RaftStepper._same` against `view_of_spec(...) == view_of_trace(...)`) and the persisted
form of a log (`RaftStepper._persistent_part`, which extends the last runs, against the runs
built afresh), over sequences of related logs such as a run produces."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from checker.trace_check.reader import Header
from checker.validation.raft import RaftStepper
from checker.validation.raft_mapping import ServerView, view_of_spec, view_of_trace, with_server
from checker.validation.raft_persist import persistent_part
from spec.raft import Role

HEADER = Header(system="raft", servers=3, seed=None, config={"servers": 3})

logs = st.lists(st.integers(0, 3), max_size=8).map(tuple)
views = st.builds(ServerView, term=st.integers(0, 3), role=st.sampled_from(list(Role)),
                  voted_for=st.none() | st.integers(0, 2), log_terms=logs,
                  snapshot_index=st.integers(0, 3), snapshot_term=st.integers(0, 3),
                  commit_index=st.integers(0, 6))


def recorded(view: ServerView, shift: int) -> dict[str, Any]:
    """The view's trace form, its log indexes shifted by `shift` (0: well formed)."""
    raw = view.to_json()
    raw["log"] = [[index + shift, term] for index, term in raw["log"]]  # type: ignore[attr-defined]
    return raw


@given(st.lists(st.tuples(views, views, st.sampled_from([0, 0, 0, 1])), min_size=1,
                max_size=6))
def test_the_fast_state_comparison_agrees_with_the_mapping(
        steps: list[tuple[ServerView, ServerView, int]]) -> None:
    stepper = RaftStepper(HEADER, "t")
    for spec_view, trace_view, shift in steps:
        # Often the same view on both sides, or logs that share a prefix (the cache's case).
        if shift == 0 and spec_view.term % 2 == 0:
            trace_view = spec_view
        state = with_server(stepper.s, 1, spec_view)
        raw = recorded(trace_view, shift)
        # Both read the log positionally: its indexes are the format's rule (WellFormedState,
        # judged by the invariant pass), not the mapping's.
        naive = view_of_spec(state, 1) == view_of_trace(raw)
        assert stepper._same(state, 1, raw) == naive
        stepper.s = state


@given(st.lists(st.tuples(logs, st.booleans()), min_size=1, max_size=8))
def test_the_extended_runs_agree_with_runs_built_afresh(
        changes: list[tuple[tuple[int, ...], bool]]) -> None:
    stepper = RaftStepper(HEADER, "t")
    log: list[list[int]] = []
    for terms, extend in changes:
        # Either the log grows (a new list, the old entries first) or it is replaced.
        start = len(log) + 1 if extend else 1
        new = [[start + k, t] for k, t in enumerate(sorted(terms))]
        log = [*log, *new] if extend else new
        raw = {"term": 1, "voted_for": None, "snapshot_index": 0, "snapshot_term": 0,
               "log": log}
        assert stepper._persistent_part(0, raw) == persistent_part(raw)
