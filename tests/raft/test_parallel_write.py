"""The leader's disk write in parallel with replication (RaftConfig.parallel_write, Raft thesis
§10.2.1), one input at a time: which messages may leave before their step's persist, and
that a leader's commit never counts its own entries before its driver reported them durable
(`RaftCore.persisted`)."""

from __future__ import annotations

from impl.raft.core import RaftConfig, RaftCore, Role
from impl.raft.effects import ApplyCommand, Effects, HardState
from impl.raft.messages import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    RequestVote,
    RequestVoteReply,
)

ON = RaftConfig(parallel_write=True)


def leader(config: RaftConfig = ON, peers: tuple[int, ...] = (0, 1, 2)) -> tuple[RaftCore, Effects]:
    c = RaftCore(0, peers, config)
    c.boot()
    effects = c.timeout("election")
    if len(peers) > 1:
        effects = c.step(1, RequestVoteReply(term=1, granted=True))
    return c, effects


def ack(match: int, prev: int = 0, term: int = 1) -> AppendEntriesReply:
    return AppendEntriesReply(term=term, success=True, prev_index=prev, match_index=match,
                              conflict_term=None, conflict_index=0)


def persisted_state(effects: Effects) -> HardState:
    assert effects.persist is not None
    return effects.persist.state


def test_off_nothing_is_early_and_the_leader_counts_its_whole_log() -> None:
    c, won = leader(RaftConfig())
    assert won.messages and not any(s.early for s in won.messages)
    _, started = c.start("a")
    assert started.persist is not None and not any(s.early for s in started.messages)
    c.step(1, ack(1))
    assert c.commit_index == 1  # leader + follower 1, as ever


def test_a_leaders_append_entries_may_leave_before_its_persist() -> None:
    c, won = leader()
    # The step that made it leader changed neither term nor vote: its heartbeats are early.
    assert won.messages and all(s.early for s in won.messages)
    _, started = c.start("a")
    assert started.persist is not None
    sent = [s for s in started.messages if isinstance(s.message, AppendEntries)]
    assert len(sent) == 2 and all(s.early and s.message.entries for s in sent)
    assert all(s.early for s in c.timeout("heartbeat").messages)


def test_the_commit_waits_for_the_leaders_own_disk() -> None:
    c, _ = leader()
    _, started = c.start("a")
    effects = c.step(1, ack(1))  # one follower holds it on disk; the leader's disk may not
    assert c.commit_index == 0 and not effects.applies
    effects = c.persisted(persisted_state(started))
    assert c.commit_index == 1
    assert effects.applies == (ApplyCommand(index=1, term=1, command="a"),)


def test_two_followers_commit_without_the_leaders_disk() -> None:
    # A majority of durable copies need not include the leader's own.
    c, _ = leader()
    c.start("a")
    c.step(1, ack(1))
    c.step(2, ack(1))
    assert c.commit_index == 1


def test_a_report_of_an_older_state_counts_only_what_it_held() -> None:
    c, _ = leader()
    _, first = c.start("a")
    c.start("b")
    c.step(1, ack(2))
    c.persisted(persisted_state(first))  # the disk holds entry 1, not yet 2
    assert c.commit_index == 1


def test_a_cluster_of_one_commits_only_what_its_disk_holds() -> None:
    c, _ = leader(peers=(0,))
    assert c.role is Role.LEADER
    _, started = c.start("a")
    assert c.commit_index == 0
    c.persisted(persisted_state(started))
    assert c.commit_index == 1


def test_nothing_but_a_leaders_append_entries_is_early() -> None:
    # Candidate: its RequestVotes depend on the term and vote it just persisted.
    c = RaftCore(0, (0, 1, 2), ON)
    c.boot()
    asked = c.timeout("election")
    assert asked.messages and not any(s.early for s in asked.messages)
    # Voter: a granted vote, and an acknowledgement of entries, wait for their persist.
    v = RaftCore(1, (0, 1, 2), ON)
    v.boot()
    granted = v.step(0, RequestVote(term=1, candidate=0, last_log_index=0, last_log_term=0))
    assert granted.messages[0].message == RequestVoteReply(term=1, granted=True)
    assert not granted.messages[0].early
    appended = v.step(0, AppendEntries(term=1, leader=0, prev_index=0, prev_term=0,
                                       entries=(Entry(index=1, term=1, command="a"),),
                                       leader_commit=0))
    assert appended.persist is not None and not any(s.early for s in appended.messages)
    # A leader refusing a vote, or answering a stale leader: replies wait too.
    c2, _ = leader()
    refused = c2.step(2, RequestVote(term=1, candidate=2, last_log_index=0, last_log_term=0))
    assert refused.messages and not any(s.early for s in refused.messages)


def test_a_cut_log_is_not_durable_again_until_reported() -> None:
    # A follower's entry 2 of term 1 was on disk; a leader of term 2 overwrites it. A late
    # report of the old state (entry 2 of term 1) must not make the new entry 2 count.
    hard = HardState(term=1, voted_for=None, snapshot_index=0, snapshot_term=0,
                     log=(Entry(index=1, term=1, command="a"), Entry(index=2, term=1, command="b")))
    f = RaftCore(1, (0, 1, 2), ON, restored=hard)
    f.boot()
    assert f.image().durable_index == 2
    cut = f.step(0, AppendEntries(term=2, leader=0, prev_index=1, prev_term=1,
                                  entries=(Entry(index=2, term=2, command="c"),),
                                  leader_commit=0))
    assert f.image().durable_index == 1
    f.persisted(hard)
    assert f.image().durable_index == 1
    f.persisted(persisted_state(cut))
    assert f.image().durable_index == 2


def test_an_entry_cut_away_and_back_is_not_durable_on_a_stale_report() -> None:
    # Entry 2 of term 1 is staged (s1), cut by a leader of term 2 (s2), and brought back by a
    # leader of term 3 (s3). The disk reporting s1 holds an entry 2 equal to the current one,
    # but s2, staged after it and not yet reported, does not: nothing counts before s3.
    one = (Entry(index=1, term=1, command="a"),)
    f = RaftCore(1, (0, 1, 2), ON, restored=HardState(term=1, voted_for=None, snapshot_index=0,
                                                      snapshot_term=0, log=one))
    f.boot()

    def append(term: int, leader: int, entry_term: int) -> HardState:
        return persisted_state(f.step(leader, AppendEntries(
            term=term, leader=leader, prev_index=1, prev_term=1,
            entries=(Entry(index=2, term=entry_term, command=f"t{entry_term}"),),
            leader_commit=0)))

    s1 = append(1, 0, 1)
    s2 = append(2, 2, 2)
    s3 = append(3, 0, 1)
    assert f.image().durable_index == 1
    f.persisted(s1)
    assert f.image().durable_index == 1
    f.persisted(s2)
    assert f.image().durable_index == 1
    f.persisted(s3)
    assert f.image().durable_index == 2
