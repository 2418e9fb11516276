"""The key/value server core, one input at a time: the rules of impl/kv/server.py."""

from __future__ import annotations

from typing import Any

from impl.kv.effects import Applied, Compacted, Installed, ServerEffects
from impl.kv.machine import Op, StateMachine
from impl.kv.messages import GetArgs, GetReply, PutAppendArgs, PutAppendReply
from impl.kv.server import KVServer, ServerConfig
from impl.raft.core import RaftConfig
from impl.raft.messages import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    InstallSnapshot,
    RequestVoteReply,
)
from impl.raft.persister import Persister

CLERK = "ck1003"


def put(key: str, value: str, seq: int, clerk: int = 1003) -> PutAppendArgs:
    return PutAppendArgs(key=key, value=value, op="Put", clerk=clerk, seq=seq)


def get(key: str, seq: int, clerk: int = 1003) -> GetArgs:
    return GetArgs(key=key, clerk=clerk, seq=seq)


def replies(effects: ServerEffects) -> list[Any]:
    return [r.message for r in effects.replies]


def leader_of_three(config: ServerConfig | None = None) -> KVServer:
    s = KVServer(0, (0, 1, 2), config)
    s.boot()
    s.timeout("election")
    s.step(1, RequestVoteReply(term=1, granted=True))
    assert s.is_leader
    return s


def ack(s: KVServer, follower: int, upto: int) -> ServerEffects:
    return s.step(follower, AppendEntriesReply(term=s.raft.term, success=True, prev_index=0,
                                               match_index=upto, conflict_term=None,
                                               conflict_index=0))


def test_a_follower_answers_wrong_leader_and_appends_nothing() -> None:
    s = KVServer(1, (0, 1, 2))
    s.boot()
    out = s.step(CLERK, put("k", "v", 1))
    assert replies(out) == [PutAppendReply(err="ErrWrongLeader", seq=1)]
    assert s.raft.last_index == 0 and out.messages == ()


def test_the_reply_comes_only_after_the_call_is_applied_at_its_index() -> None:
    s = leader_of_three()
    out = s.step(CLERK, put("k", "v", 1))
    assert out.replies == () and out.events == ()  # appended and sent, not committed yet
    assert any(isinstance(m.message, AppendEntries) and m.message.entries for m in out.messages)
    assert out.persist is not None  # the entry is durable before it is sent
    out = ack(s, 1, 1)  # a majority holds index 1: committed, applied, answered
    assert [type(e) for e in out.events] == [Applied]
    assert out.events[0] == Applied(index=1, term=1, op=Op("put", "k", "v", 1003, 1),
                                    outcome=out.events[0].outcome)  # type: ignore[union-attr]
    assert replies(out) == [PutAppendReply(err="OK", seq=1)]
    out = s.step(CLERK, get("k", 2))
    assert out.replies == ()  # a get goes through the log too
    out = ack(s, 2, 2)
    assert replies(out) == [GetReply(err="OK", value="v", seq=2)]


def test_a_get_of_an_absent_key_is_err_no_key_with_the_empty_string() -> None:
    s = KVServer(0, (0,))
    s.boot()
    s.timeout("election")  # a cluster of one elects itself and commits alone
    out = s.step(CLERK, get("nope", 1))
    assert replies(out) == [GetReply(err="ErrNoKey", value="", seq=1)]


def test_a_leader_that_loses_its_term_answers_wrong_leader() -> None:
    s = leader_of_three()
    s.step(CLERK, put("k", "v", 1))
    s.step("ck1004", get("k", 1, clerk=1004))
    out = s.step(2, AppendEntries(term=5, leader=2, prev_index=0, prev_term=0, entries=(),
                                  leader_commit=0))
    assert not s.is_leader
    assert replies(out) == [PutAppendReply(err="ErrWrongLeader", seq=1),
                            GetReply(err="ErrWrongLeader", value="", seq=1)]
    assert [r.to for r in out.replies] == [CLERK, "ck1004"]


def test_another_call_applied_at_the_waiters_index_answers_wrong_leader() -> None:
    s = leader_of_three()
    s.step(CLERK, put("k", "mine", 1))
    # A new leader of term 2 overwrote index 1 with another clerk's call and committed it.
    theirs = Op("put", "k", "theirs", 1009, 1)
    out = s.step(2, AppendEntries(term=2, leader=2, prev_index=0, prev_term=0,
                                  entries=(Entry(index=1, term=2, command=theirs),),
                                  leader_commit=1))
    assert replies(out) == [PutAppendReply(err="ErrWrongLeader", seq=1)]
    assert s.machine.data == {"k": "theirs"}


def test_a_retried_write_already_executed_is_answered_at_once_without_a_new_entry() -> None:
    s = leader_of_three()
    s.step(CLERK, put("k", "v", 1))
    ack(s, 1, 1)
    last = s.raft.last_index
    out = s.step(CLERK, put("k", "v", 1))  # the reply was lost; the clerk retries
    assert replies(out) == [PutAppendReply(err="OK", seq=1)]
    assert s.raft.last_index == last and out.messages == ()


def test_a_duplicate_entry_in_the_log_is_applied_once_and_both_waiters_answered() -> None:
    s = leader_of_three()
    s.step(CLERK, PutAppendArgs(key="k", value="x", op="Append", clerk=1003, seq=1))
    s.step(CLERK, PutAppendArgs(key="k", value="x", op="Append", clerk=1003, seq=1))
    out = ack(s, 1, 2)
    applied = [e for e in out.events if isinstance(e, Applied)]
    assert [e.outcome.executed for e in applied] == [True, False]
    assert s.machine.data == {"k": "x"}
    assert replies(out) == [PutAppendReply(err="OK", seq=1)] * 2


def test_a_leader_cut_off_from_the_majority_never_answers_a_get() -> None:
    s = leader_of_three()
    s.step(CLERK, put("k", "old", 1))
    ack(s, 1, 1)
    for _ in range(20):  # heartbeats go out, nothing comes back
        out = s.step("ck1004", get("k", 1, clerk=1004))
        assert out.replies == ()
        out = s.timeout("heartbeat")
        assert out.replies == ()
    assert s.is_leader  # it still believes it leads, and still does not answer


def test_snapshots_when_raft_state_approaches_maxraftstate_and_restores_after_restart() -> None:
    config = ServerConfig(maxraftstate=200, raft=RaftConfig())
    persister = Persister()
    s = KVServer(0, (0,), config)
    s.boot()
    s.timeout("election")
    compacted = []
    for seq in range(1, 40):
        out = s.step(CLERK, PutAppendArgs(key=f"k{seq % 3}", value="v", op="Append",
                                          clerk=1003, seq=seq))
        assert out.persist is not None
        persister.save(out.persist.state, out.persist.snapshot)
        compacted += [e for e in out.events if isinstance(e, Compacted)]
        assert persister.raft_state_size() <= 200  # trimmed before it ever passes the bound
    assert compacted and s.raft.snapshot_index == compacted[-1].index
    # Restart from what was persisted: the store and the duplicate table come back.
    again = KVServer(0, (0,), config, restored=persister.restore(),
                     snapshot=persister.read_snapshot())
    snap = StateMachine.decode(persister.read_snapshot())
    assert again.machine.applied == again.raft.snapshot_index == snap.applied
    assert again.machine.executed(1003, snap.last_seq[1003])
    again.boot()
    again.timeout("election")  # re-applies the log after the snapshot, once committed
    out = again.step(CLERK, get("k0", 100))
    assert replies(out) == [GetReply(err="OK", value=s.machine.data["k0"], seq=100)]
    assert again.machine.data == s.machine.data


def test_maxraftstate_minus_one_never_snapshots() -> None:
    s = KVServer(0, (0,))
    s.boot()
    s.timeout("election")
    for seq in range(1, 200):
        out = s.step(CLERK, put("k", "v" * 20, seq))
        assert not any(isinstance(e, Compacted) for e in out.events)
    assert s.raft.snapshot_index == 0


def test_a_follower_installs_the_leaders_snapshot_store_and_table() -> None:
    s = KVServer(1, (0, 1, 2))
    s.boot()
    leader_state = StateMachine({"a": "1"}, {1003: 4}, applied=7)
    out = s.step(0, InstallSnapshot(term=2, leader=0, last_index=7, last_term=2,
                                    data=leader_state.encode()))
    assert [type(e) for e in out.events] == [Installed]
    assert out.persist is not None and out.persist.snapshot == leader_state.encode()
    assert s.machine.data == {"a": "1"} and s.machine.executed(1003, 4)


def test_messages_have_a_wire_form_a_trace_form_and_one_line() -> None:
    msgs = [get("k", 3), GetReply(err="OK", value="v" * 40, seq=3), put("k", "v", 4),
            PutAppendReply(err="ErrWrongLeader", seq=4)]
    assert [m.describe() for m in msgs] == [
        "Get 'k' c1003#3", f"GetReply OK {'v' * 21 + '...'!r} #3", "Put 'k' 'v' c1003#4",
        "PutAppendReply ErrWrongLeader #4"]
    assert [m.trace()["type"] for m in msgs] == ["Get", "GetReply", "PutAppend",
                                                 "PutAppendReply"]
    assert [m.rpc for m in msgs] == ["request", "reply", "request", "reply"]
    assert msgs[2].wire() == ["PutAppend", "k", "v", "Put", 1003, 4]
