"""The sans-I/O core, one input at a time: Figure 2's rules and the effects contract."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.raft.core import IllegalTransition, RaftConfig, RaftCore, Role
from impl.raft.effects import ApplyCommand, ApplySnapshot, Effects, HardState, SetTimer
from impl.raft.messages import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    InstallSnapshot,
    RequestVote,
    RequestVoteReply,
)
from impl.raft.persister import CorruptState, Persister, decode_state, encode_state

PEERS = (0, 1, 2)


def entries(*terms: int, start: int = 1) -> tuple[Entry, ...]:
    return tuple(Entry(index=start + k, term=t, command=f"c{start + k}")
                 for k, t in enumerate(terms))


def core(node: int = 0, *, term: int = 0, log: tuple[Entry, ...] = (), voted_for: int | None = None,
         snapshot_index: int = 0, snapshot_term: int = 0) -> RaftCore:
    hard = HardState(term=term, voted_for=voted_for, snapshot_index=snapshot_index,
                     snapshot_term=snapshot_term, log=log)
    c = RaftCore(node, PEERS, RaftConfig(), restored=hard)
    c.boot()
    return c


def elect(c: RaftCore) -> Effects:
    c.timeout("election")
    return c.step(1, RequestVoteReply(term=c.term, granted=True))


def test_boot_asks_the_driver_to_draw_an_election_timeout() -> None:
    effects = RaftCore(0, PEERS).boot()
    assert effects.timers == (SetTimer(name="election", low_ms=300, high_ms=600),)
    assert effects.persist is None and effects.messages == ()


def test_election_timeout_starts_an_election_persisting_term_and_vote_first() -> None:
    c = core()
    effects = c.timeout("election")
    assert c.role is Role.CANDIDATE and c.term == 1
    assert effects.persist is not None
    assert (effects.persist.state.term, effects.persist.state.voted_for) == (1, 0)
    assert [s.to for s in effects.messages] == [1, 2]
    assert all(isinstance(s.message, RequestVote) for s in effects.messages)


def test_majority_of_votes_makes_a_leader_that_heartbeats_at_once() -> None:
    c = core()
    effects = elect(c)
    assert c.role is Role.LEADER
    assert {s.to for s in effects.messages} == {1, 2}
    assert all(isinstance(s.message, AppendEntries) for s in effects.messages)
    assert SetTimer(name="heartbeat", low_ms=100, high_ms=100) in effects.timers


def test_vote_granted_once_per_term_and_persisted_before_the_reply() -> None:
    c = core(node=1)
    effects = c.step(0, RequestVote(term=1, candidate=0, last_log_index=0, last_log_term=0))
    assert effects.persist is not None and effects.persist.state.voted_for == 0
    assert effects.messages[0].message == RequestVoteReply(term=1, granted=True)
    again = c.step(2, RequestVote(term=1, candidate=2, last_log_index=0, last_log_term=0))
    assert again.messages[0].message == RequestVoteReply(term=1, granted=False)


def test_vote_refused_to_a_candidate_with_a_less_up_to_date_log() -> None:
    c = core(node=1, term=2, log=entries(1, 2))
    effects = c.step(0, RequestVote(term=3, candidate=0, last_log_index=5, last_log_term=1))
    assert effects.messages[0].message == RequestVoteReply(term=3, granted=False)
    assert c.term == 3 and c.voted_for is None  # the higher term was still adopted


def test_higher_term_turns_a_leader_into_a_follower() -> None:
    c = core()
    elect(c)
    c.step(2, AppendEntriesReply(term=5, success=False, prev_index=0, match_index=0,
                                 conflict_term=None, conflict_index=0))
    assert c.role is Role.FOLLOWER and c.term == 5


def test_two_leaders_in_one_term_fail_loudly() -> None:
    c = core()
    elect(c)
    with pytest.raises(IllegalTransition):
        c.step(1, AppendEntries(term=c.term, leader=1, prev_index=0, prev_term=0, entries=(),
                                leader_commit=0))


def test_conflict_hints_name_the_conflicting_term_and_its_first_index() -> None:
    c = core(node=1, term=3, log=entries(1, 1, 2, 2, 2))
    effects = c.step(0, AppendEntries(term=3, leader=0, prev_index=5, prev_term=3, entries=(),
                                      leader_commit=0))
    assert effects.messages[0].message == AppendEntriesReply(
        term=3, success=False, prev_index=5, match_index=0, conflict_term=2, conflict_index=3)
    short = c.step(0, AppendEntries(term=3, leader=0, prev_index=9, prev_term=3, entries=(),
                                    leader_commit=0))
    reply = short.messages[0].message
    assert isinstance(reply, AppendEntriesReply)
    assert (reply.conflict_term, reply.conflict_index) == (None, 6)


def test_leader_backs_up_a_whole_term_and_retries_at_once() -> None:
    c = core(term=4, log=entries(1, 1, 4, 4), voted_for=0)
    c.timeout("election")  # term 5
    c.step(1, RequestVoteReply(term=5, granted=True))
    effects = c.step(1, AppendEntriesReply(term=5, success=False, prev_index=4, match_index=0,
                                           conflict_term=2, conflict_index=3))
    retry = effects.messages[0].message
    assert isinstance(retry, AppendEntries)
    assert retry.prev_index == 2  # the leader has no term 2: resume at the follower's index 3
    effects = c.step(1, AppendEntriesReply(term=5, success=False, prev_index=2, match_index=0,
                                           conflict_term=1, conflict_index=1))
    retry = effects.messages[0].message
    assert isinstance(retry, AppendEntries) and retry.prev_index == 2  # after our last term 1


def test_follower_truncates_only_on_conflict_and_commits_what_it_verified() -> None:
    c = core(node=1, term=2, log=entries(1, 1, 1))
    effects = c.step(0, AppendEntries(term=2, leader=0, prev_index=1, prev_term=1,
                                      entries=entries(2, start=2), leader_commit=3))
    assert c.visible_state().log == ((1, 1), (2, 2))
    assert c.commit_index == 2  # not 3: index 3 was never shown to match
    assert [a.index for a in effects.applies if isinstance(a, ApplyCommand)] == [1, 2]
    # A stale, reordered request that matches must not cut the log short.
    c.step(0, AppendEntries(term=2, leader=0, prev_index=0, prev_term=0,
                            entries=entries(1), leader_commit=0))
    assert c.visible_state().log == ((1, 1), (2, 2)) and c.commit_index == 2


def test_leader_never_commits_an_older_terms_entry_by_counting_replicas() -> None:
    # Figure 8: the entry at index 2 is from term 2; the leader of term 4 sees it on a majority.
    c = core(term=3, log=entries(1, 2), voted_for=None)
    c.timeout("election")  # term 4
    c.step(1, RequestVoteReply(term=4, granted=True))
    c.step(1, AppendEntriesReply(term=4, success=True, prev_index=2, match_index=2,
                                 conflict_term=None, conflict_index=0))
    assert c.commit_index == 0
    c.start("x")  # index 3, term 4
    effects = c.step(1, AppendEntriesReply(term=4, success=True, prev_index=2, match_index=3,
                                           conflict_term=None, conflict_index=0))
    assert c.commit_index == 3  # now 1..3 commit together
    assert [a.index for a in effects.applies] == [1, 2, 3]


def test_start_appends_and_replicates_at_once_only_on_the_leader() -> None:
    c = core()
    result, effects = c.start("nope")
    assert not result.is_leader and effects.messages == ()
    elect(c)
    result, effects = c.start("cmd")
    assert (result.index, result.is_leader) == (1, True)
    assert effects.persist is not None and effects.persist.state.log[-1].command == "cmd"
    sent = [s.message for s in effects.messages]
    assert all(isinstance(m, AppendEntries) and m.entries[-1].command == "cmd" for m in sent)


def test_single_server_commits_on_its_own() -> None:
    c = RaftCore(0, (0,))
    c.boot()
    c.timeout("election")
    assert c.role is Role.LEADER
    _, effects = c.start(7)
    assert effects.applies == (ApplyCommand(index=1, term=1, command=7),)


def test_snapshot_trims_the_log_and_persists_state_and_snapshot_together() -> None:
    c = core(node=1, term=1, log=entries(1, 1, 1, 1))
    c.step(0, AppendEntries(term=1, leader=0, prev_index=4, prev_term=1, entries=(),
                            leader_commit=4))
    effects = c.snapshot(3, b"snap")
    assert effects.persist is not None and effects.persist.snapshot == b"snap"
    assert effects.persist.state.snapshot_index == 3
    assert c.visible_state().log == ((4, 1),)
    assert c.snapshot(2, b"old").persist is None  # stale: nothing to do
    restarted = RaftCore(1, PEERS, restored=effects.persist.state, snapshot=b"snap")
    assert (restarted.commit_index, restarted.last_applied) == (3, 3)


def test_install_snapshot_replaces_a_lagging_log_and_is_applied_once() -> None:
    c = core(node=2, term=1, log=entries(1))
    effects = c.step(0, InstallSnapshot(term=1, leader=0, last_index=10, last_term=1,
                                        data=b"s10"))
    assert effects.applies == (ApplySnapshot(index=10, term=1, data=b"s10"),)
    assert c.visible_state().log == () and c.commit_index == 10
    again = c.step(0, InstallSnapshot(term=1, leader=0, last_index=10, last_term=1,
                                      data=b"s10"))
    assert again.applies == ()


def test_persisted_state_round_trips_and_garbage_is_refused() -> None:
    state = HardState(term=3, voted_for=2, snapshot_index=4, snapshot_term=2,
                      log=entries(2, 3, start=5))
    assert decode_state(encode_state(state)) == state
    persister = Persister()
    persister.save(state, b"snap")
    twin = persister.copy()
    assert twin.restore() == state and twin.read_snapshot() == b"snap"
    assert twin.raft_state_size() == len(encode_state(state))
    with pytest.raises(CorruptState):
        decode_state(b"\x93\x01\x02")


def test_flow_control_one_unanswered_batch_per_follower() -> None:
    c = core()
    elect(c)
    _, first = c.start("a")
    assert {s.to for s in first.messages} == {1, 2}
    _, second = c.start("b")
    assert second.messages == ()  # both followers still owe an answer for "a"
    # Follower 1 answers: it gets the rest at once; follower 2 stays silent (down?).
    effects = c.step(1, AppendEntriesReply(term=c.term, success=True, prev_index=0,
                                           match_index=1, conflict_term=None, conflict_index=0))
    batch = [s for s in effects.messages if s.to == 1]
    assert len(batch) == 1 and isinstance(batch[0].message, AppendEntries)
    assert [e.command for e in batch[0].message.entries] == ["b"]
    # The heartbeat retransmits everything unanswered to the silent follower.
    beat = c.timeout("heartbeat")
    to_2 = [s.message for s in beat.messages if s.to == 2]
    assert len(to_2) == 1 and isinstance(to_2[0], AppendEntries)
    assert [e.command for e in to_2[0].entries] == ["a", "b"]


def _naive_commit(log_terms: list[int], term: int, commit: int, matches: list[int],
                  servers: int) -> int:
    """Figure 2 read literally: the largest N > commit with a majority of matchIndex >= N
    and log[N].term == currentTerm (the leader counts itself)."""
    for n in range(len(log_terms), commit, -1):
        replicas = 1 + sum(1 for m in matches if m >= n)
        if 2 * replicas > servers and log_terms[n - 1] == term:
            return n
    return commit


@given(st.data())
def test_commit_rule_agrees_with_figure_2_read_literally(data: st.DataObject) -> None:
    servers = data.draw(st.sampled_from([1, 3, 5, 7]))
    steps = data.draw(st.lists(st.integers(0, 2), min_size=1, max_size=12))
    log_terms, t = [], 1
    for step in steps:
        t += step
        log_terms.append(t)
    term = max(log_terms) + data.draw(st.integers(0, 1))
    commit = data.draw(st.integers(0, len(log_terms)))
    matches = data.draw(st.lists(st.integers(0, len(log_terms)), min_size=servers - 1,
                                 max_size=servers - 1))
    c = RaftCore(0, tuple(range(servers)), restored=HardState(
        term=term, voted_for=0, snapshot_index=0, snapshot_term=0,
        log=tuple(Entry(index=i + 1, term=lt, command=None)
                      for i, lt in enumerate(log_terms))))
    c.commit_index = c.last_applied = commit
    c.role = Role.LEADER
    c._match_index = dict(zip(c.others, matches, strict=True))
    c._advance_commit()
    assert c.commit_index == _naive_commit(log_terms, term, commit, matches, servers)
