"""The Raft refinement mapping (checker.validation.raft_mapping) on live cores and states."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from checker.validation.raft_mapping import (
    INITIAL_VIEW,
    ServerView,
    spec_message,
    spec_message_of_core,
    view_of_core,
    view_of_spec,
    view_of_trace,
    with_server,
)
from impl.raft.core import RaftCore
from impl.raft.effects import HardState
from impl.raft.messages import (
    AppendEntries as CoreAppendEntries,
)
from impl.raft.messages import (
    AppendEntriesReply as CoreAppendEntriesReply,
)
from impl.raft.messages import (
    Entry as CoreEntry,
)
from impl.raft.messages import (
    InstallSnapshotReply,
)
from spec.raft import AppendEntries, AppendEntriesReply, Config, Entry, Role, initial_states


def test_a_fresh_core_maps_to_the_specs_initial_server() -> None:
    core = RaftCore(0, [0, 1, 2])
    assert view_of_core(core) == INITIAL_VIEW
    assert view_of_spec(initial_states(Config())[0], 0) == INITIAL_VIEW


def test_a_restored_core_maps_its_persisted_state() -> None:
    hard = HardState(term=4, voted_for=2, snapshot_index=3, snapshot_term=2,
                     log=(CoreEntry(index=4, term=2, command=7),
                          CoreEntry(index=5, term=4, command=8)))
    view = view_of_core(RaftCore(1, [0, 1, 2], restored=hard))
    assert view == ServerView(term=4, role=Role.FOLLOWER, voted_for=2, log_terms=(2, 4),
                              snapshot_index=3, snapshot_term=2, commit_index=3)


views = st.builds(
    ServerView, term=st.integers(0, 50), role=st.sampled_from(list(Role)),
    voted_for=st.none() | st.integers(0, 2), log_terms=st.lists(st.integers(0, 50),
                                                                max_size=6).map(tuple),
    snapshot_index=st.integers(0, 20), snapshot_term=st.integers(0, 50),
    commit_index=st.integers(0, 30))


@given(views, st.integers(0, 2))
def test_trace_form_and_spec_form_map_to_the_same_view(view: ServerView, i: int) -> None:
    # The view's trace form read back is the view; written into a spec state, the spec's
    # projection of that state is the view again (values and bookkeeping aside).
    assert view_of_trace(view.to_json()) == view
    state = with_server(initial_states(Config())[0], i, view)
    assert view_of_spec(state, i) == view


def test_core_messages_map_to_the_specs() -> None:
    request = CoreAppendEntries(term=3, leader=0, prev_index=1, prev_term=1,
                                entries=(CoreEntry(index=2, term=3, command="x"),),
                                leader_commit=1)
    assert spec_message_of_core(0, 1, request) == AppendEntries(
        0, 1, 3, 1, 1, (Entry(3, 0),), 1)
    refusal = CoreAppendEntriesReply(term=3, success=False, prev_index=1, match_index=0,
                                     conflict_term=1, conflict_index=1)
    assert spec_message_of_core(1, 0, refusal) == AppendEntriesReply(1, 0, 3, False, 0)
    # The spec answers an InstallSnapshot with an AppendEntriesReply.
    assert spec_message_of_core(1, 0, InstallSnapshotReply(term=3, last_index=9)) == \
        AppendEntriesReply(1, 0, 3, True, 9)
    assert spec_message_of_core(1, 0, InstallSnapshotReply(term=3, last_index=0)) == \
        AppendEntriesReply(1, 0, 3, False, 0)
    assert spec_message(0, 1, {"type": "Get", "key": "k"}) is None
