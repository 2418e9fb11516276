"""ReadIndex (Raft thesis §6.4), one input at a time: the Raft core's `read_index` and the
key/value server's read path with it on. A read is confirmed only after an entry of the
leader's term committed, with the commit index then as its index, and only once a majority
echoed a heartbeat round sent after it was asked for; a core never asked sends every message
as before."""

from __future__ import annotations

from impl.kv.effects import Applied
from impl.kv.machine import NOOP_OP, Op
from impl.kv.messages import GetArgs, GetReply, PutAppendArgs, PutAppendReply
from impl.kv.server import KVServer, ServerConfig
from impl.raft.core import RaftConfig, RaftCore
from impl.raft.effects import Effects, ReadReady
from impl.raft.messages import AppendEntries, AppendEntriesReply, RequestVote, RequestVoteReply
from impl.rsm.effects import Read

CLERK = "ck1003"


def leader(n: int = 3) -> RaftCore:
    core = RaftCore(0, tuple(range(n)))
    core.boot()
    core.timeout("election")
    for peer in range(1, n // 2 + 1):
        core.step(peer, RequestVoteReply(term=1, granted=True))
    assert core.role.value == "leader"
    return core


def reply(core: RaftCore, match: int, read_round: int, success: bool = True) -> AppendEntriesReply:
    return AppendEntriesReply(term=core.term, success=success, prev_index=0, match_index=match,
                              conflict_term=None, conflict_index=0 if success else 1,
                              read_round=read_round)


def rounds(effects: Effects) -> list[int]:
    return [m.message.read_round for m in effects.messages
            if isinstance(m.message, AppendEntries)]


def test_a_follower_refuses_a_read() -> None:
    core = RaftCore(1, (0, 1, 2))
    core.boot()
    accepted, effects = core.read_index(1)
    assert not accepted and effects.reads == ()


def test_a_read_waits_for_an_entry_of_the_leaders_term_then_for_a_majority_round() -> None:
    core = leader()
    accepted, effects = core.read_index(7)
    assert accepted and effects.reads == () and effects.messages == ()  # nothing of its term
    _, effects = core.start("noop")
    assert rounds(effects) == [0, 0]  # replication, no round yet
    effects = core.step(1, reply(core, 1, 0))  # entry 1 commits: the read's round starts
    assert core.commit_index == 1
    assert effects.reads == () and rounds(effects) == [1, 1]
    effects = core.step(2, reply(core, 1, 1))  # s2 echoes round 1: s0 and s2 are a majority
    assert effects.reads == (ReadReady(request=7, index=1),)


def test_a_reply_to_a_round_sent_before_the_read_never_confirms_it() -> None:
    core = leader()
    _, effects = core.start("x")
    core.step(1, reply(core, 1, 0))  # committed: an entry of term 1
    core.read_index(1)  # round 1
    core.step(1, reply(core, 1, 1))  # confirmed by s0 and s1
    _, effects = core.read_index(2)  # round 2 goes out
    assert rounds(effects) == [2, 2]
    late = core.step(2, reply(core, 1, 1))  # a delayed echo of round 1: says nothing new
    assert late.reads == ()
    assert core.step(1, reply(core, 1, 2, success=False)).reads == (
        ReadReady(request=2, index=1),)  # a rejection in this term still acknowledges


def test_a_leader_that_steps_down_drops_its_reads_and_a_later_term_starts_afresh() -> None:
    core = leader()
    core.start("x")
    core.step(1, reply(core, 1, 0))
    core.read_index(1)
    core.step(2, RequestVote(term=5, candidate=2, last_log_index=9, last_log_term=4))
    assert core.role.value == "follower"
    effects = core.step(1, AppendEntriesReply(term=1, success=True, prev_index=0,
                                              match_index=1, conflict_term=None,
                                              conflict_index=0, read_round=1))
    assert effects.reads == ()


def test_a_cluster_of_one_confirms_at_once() -> None:
    core = RaftCore(0, (0,))
    core.boot()
    core.timeout("election")
    accepted, effects = core.read_index(1)
    assert accepted and effects.reads == ()  # no entry of its term yet
    _, effects = core.start("noop")
    assert effects.reads == (ReadReady(request=1, index=1),)


def test_a_core_never_asked_for_a_read_sends_messages_as_before() -> None:
    core = leader()
    _, effects = core.start("x")
    sent = [m.message for m in effects.messages]
    assert all(isinstance(m, AppendEntries) and m.read_round == 0 for m in sent)
    first = sent[0]
    assert isinstance(first, AppendEntries)
    assert len(first.wire()) == 7 and "read_round" not in first.trace()
    assert "read=" not in first.describe()
    echo = reply(core, 1, 0)
    assert len(echo.wire()) == 7 and "read_round" not in echo.trace()


# ---------------------------------------------------------------- the key/value server


def read_index_leader() -> KVServer:
    s = KVServer(0, (0, 1, 2), ServerConfig(read_index=True))
    s.boot()
    s.timeout("election")
    s.step(1, RequestVoteReply(term=1, granted=True))
    assert s.is_leader
    return s


def test_a_get_writes_nothing_to_the_log_beyond_the_terms_no_op() -> None:
    s = read_index_leader()
    out = s.step(CLERK, PutAppendArgs(key="k", value="v", op="Put", clerk=1003, seq=1))
    out = s.step(1, reply(s.raft, 1, 0))
    assert [r.message for r in out.replies] == [PutAppendReply(err="OK", seq=1)]
    out = s.step(CLERK, GetArgs(key="k", clerk=1003, seq=2))
    assert s.raft.last_index == 1 and out.replies == ()  # an entry of term 1 is committed
    out = s.step(2, reply(s.raft, 1, 1))  # the round is echoed by a majority
    assert [r.message for r in out.replies] == [GetReply(err="OK", value="v", seq=2)]
    assert out.events == (Read(index=1, read_index=1, op=Op("get", "k", None, 1003, 2),
                               outcome=out.events[0].outcome),)  # type: ignore[union-attr]
    assert s.machine.last_seq == {1003: 1}  # a read leaves the duplicate table alone


def test_a_new_leader_appends_a_no_op_before_it_can_answer() -> None:
    s = read_index_leader()
    out = s.step(CLERK, GetArgs(key="k", clerk=1003, seq=1))
    assert s.raft.last_index == 1 and out.replies == ()
    out = s.step(1, reply(s.raft, 1, 0))  # the no-op commits; the round starts
    applied = [e for e in out.events if isinstance(e, Applied)]
    assert [(e.index, e.op, e.outcome.executed) for e in applied] == [(1, NOOP_OP, False)]
    assert out.replies == ()  # not before the round is echoed
    out = s.step(1, reply(s.raft, 1, 1))
    assert [r.message for r in out.replies] == [GetReply(err="ErrNoKey", value="", seq=1)]


def test_a_leader_that_loses_its_term_refuses_its_waiting_reads() -> None:
    s = read_index_leader()
    s.step(CLERK, GetArgs(key="k", clerk=1003, seq=1))
    out = s.step(2, AppendEntries(term=2, leader=2, prev_index=0, prev_term=0, entries=(),
                                  leader_commit=0))
    assert [r.message for r in out.replies] == [GetReply(err="ErrWrongLeader", value="",
                                                         seq=1)]


def test_batched_reads_wait_for_the_round_in_flight_then_share_the_next() -> None:
    """RaftConfig.batch_reads: one round in flight at a time; reads asked meanwhile start
    one round together once it is confirmed — never confirmed by a round sent before them."""
    core = RaftCore(0, (0, 1, 2), RaftConfig(batch_reads=True))
    core.boot()
    core.timeout("election")
    core.step(1, RequestVoteReply(term=1, granted=True))
    core.start("x")
    core.step(1, reply(core, 1, 0))  # committed: an entry of term 1
    _, effects = core.read_index(1)
    assert rounds(effects) == [1, 1]  # round 1 for read 1
    for request in (2, 3):
        _, effects = core.read_index(request)
        assert rounds(effects) == [] and effects.reads == ()  # wait: round 1 is in flight
    effects = core.step(1, reply(core, 1, 1))  # round 1 confirmed: only read 1
    assert effects.reads == (ReadReady(request=1, index=1),)
    assert rounds(effects) == [2, 2]  # and one round for reads 2 and 3 together
    assert core.step(2, reply(core, 1, 1)).reads == ()  # a round-1 echo confirms neither
    assert core.step(2, reply(core, 1, 2)).reads == (ReadReady(request=2, index=1),
                                                      ReadReady(request=3, index=1))
