"""The shard controller's cores, one input at a time: the state machine, the server and the
clerk (impl/shardctrler/)."""

from __future__ import annotations

from typing import Any

import pytest

from impl.raft.messages import AppendEntries, RequestVoteReply
from impl.rsm.effects import ServerEffects
from impl.shardctrler.clerk import CtrlClerk
from impl.shardctrler.machine import JOIN, LEAVE, MOVE, QUERY, Controller, CorruptSnapshot, CtrlOp
from impl.shardctrler.messages import (
    ChangeReply,
    JoinArgs,
    LeaveArgs,
    MoveArgs,
    QueryArgs,
    QueryReply,
)
from impl.shardctrler.server import CtrlServer
from spec import shardctrler as spec

CLERK = "ck1000"


def replies(effects: ServerEffects) -> list[Any]:
    return [r.message for r in effects.replies]


def alone() -> CtrlServer:
    """A controller of one server, leader at once: every call commits in the step."""
    s = CtrlServer(0, (0,))
    s.boot()
    s.timeout("election")
    assert s.is_leader
    return s


def test_the_machine_applies_the_specs_operations_one_index_at_a_time() -> None:
    m = Controller()
    m.apply(1, CtrlOp(JOIN, ((1, ("a",)), (2, ("b",))), 7, 1))
    m.apply(2, CtrlOp(MOVE, (0, 2), 7, 2))
    m.apply(3, CtrlOp(LEAVE, (1,), 7, 3))
    expected = spec.run([spec.Join.of({1: ["a"], 2: ["b"]}), spec.Move(0, 2), spec.Leave.of([1])])
    assert m.history == expected
    out = m.apply(4, CtrlOp(QUERY, 1, 7, 4))
    assert out.config == expected[1]
    assert m.apply(5, CtrlOp(QUERY, -1, 7, 5)).config == expected[-1]
    with pytest.raises(ValueError, match="out of order"):
        m.apply(7, CtrlOp(QUERY, -1, 7, 6))


def test_a_duplicate_change_changes_nothing_and_a_refused_one_keeps_its_answer() -> None:
    m = Controller()
    join = CtrlOp(JOIN, ((1, ("a",)),), 7, 1)
    m.apply(1, join)
    assert m.apply(2, join).executed is False  # a retry that reached the log twice
    assert len(m.history) == 2
    again = CtrlOp(JOIN, ((1, ("a",)),), 8, 1)  # another clerk joins the same gid
    refused = m.apply(3, again)
    assert refused.executed and refused.error == "group 1 has already joined"
    assert len(m.history) == 2
    assert m.answer_for(8, 1) == "group 1 has already joined"
    assert m.apply(4, again).error == "group 1 has already joined"  # the retry's answer too
    assert m.answer_for(7, 1) is None


def test_snapshots_round_trip_and_bad_bytes_are_refused() -> None:
    m = Controller()
    m.apply(1, CtrlOp(JOIN, ((3, ("x", "y")),), 7, 1))
    m.apply(2, CtrlOp(LEAVE, (9,), 7, 2))  # refused: 9 is absent
    back = Controller.decode(m.encode())
    assert (back.history, back.last_seq, back.refused, back.applied) == (
        m.history, m.last_seq, m.refused, m.applied)
    assert back.encode() == m.encode()
    with pytest.raises(CorruptSnapshot):
        Controller.decode(b"\x93nope")


def test_every_call_goes_through_the_log_and_is_answered_once_applied() -> None:
    s = alone()
    out = s.step(CLERK, JoinArgs(groups=((1, ("a", "b")),), clerk=1000, seq=1))
    assert replies(out) == [ChangeReply(err="OK", seq=1)]
    out = s.step(CLERK, QueryArgs(num=-1, clerk=1000, seq=2))
    (reply,) = replies(out)
    assert isinstance(reply, QueryReply) and reply.config == spec.run(
        [spec.Join.of({1: ["a", "b"]})])[-1]
    out = s.step(CLERK, MoveArgs(shard=3, gid=9, clerk=1000, seq=3))
    assert replies(out) == [ChangeReply(err="ErrInvalid", seq=3, reason="group 9 is not present")]
    # A retry of an executed change is answered at once, as it was answered then.
    before = s.raft.last_index
    assert replies(s.step(CLERK, MoveArgs(shard=3, gid=9, clerk=1000, seq=3))) == [
        ChangeReply(err="ErrInvalid", seq=3, reason="group 9 is not present")]
    assert replies(s.step(CLERK, JoinArgs(groups=((1, ("a", "b")),), clerk=1000, seq=1))) == [
        ChangeReply(err="OK", seq=1)]
    assert s.raft.last_index == before


def test_a_follower_answers_wrong_leader() -> None:
    s = CtrlServer(1, (0, 1, 2))
    s.boot()
    assert replies(s.step(CLERK, QueryArgs(num=-1, clerk=1000, seq=1))) == [
        QueryReply(err="ErrWrongLeader", seq=1)]
    assert replies(s.step(CLERK, LeaveArgs(gids=(1,), clerk=1000, seq=2))) == [
        ChangeReply(err="ErrWrongLeader", seq=2)]


def test_a_leader_that_loses_its_term_refuses_its_waiters() -> None:
    s = CtrlServer(0, (0, 1, 2))
    s.boot()
    s.timeout("election")
    s.step(1, RequestVoteReply(term=1, granted=True))
    assert s.is_leader
    assert replies(s.step(CLERK, QueryArgs(num=-1, clerk=1000, seq=1))) == []
    s.timeout("heartbeat")
    out = s.step(2, AppendEntries(term=3, leader=2, prev_index=0, prev_term=0, entries=(),
                                  leader_commit=0))
    assert replies(out) == [QueryReply(err="ErrWrongLeader", seq=1)]


def test_the_clerk_retries_until_answered_and_returns_configurations() -> None:
    ck = CtrlClerk(1000, ("ctrler0", "ctrler1"))
    out = ck.query(-1)
    assert [m.to for m in out.messages] == ["ctrler0"]
    assert [m.to for m in ck.step("ctrler0", QueryReply(err="ErrWrongLeader", seq=1)).messages] \
        == ["ctrler1"]
    config = spec.initial()
    done = ck.step("ctrler1", QueryReply(err="OK", seq=1, config=config)).done
    assert done is not None and done.output == config
    ck.join({2: ["b"], 1: ["a"]})
    request = ck._call
    assert request == JoinArgs(groups=((1, ("a",)), (2, ("b",))), clerk=1000, seq=2)
    refused = ck.step("ctrler1", ChangeReply(err="ErrInvalid", seq=2, reason="no"))
    assert refused.done is not None and refused.done.output == "no"
    with pytest.raises(RuntimeError):
        ck.leave([1])
        ck.leave([1])


def test_messages_have_a_wire_form_a_trace_form_and_one_line() -> None:
    config = spec.run([spec.Join.of({1: ["a"]})])[-1]
    msgs = [JoinArgs(groups=((1, ("a",)),), clerk=5, seq=1), LeaveArgs(gids=(1, 2), clerk=5, seq=2),
            MoveArgs(shard=3, gid=1, clerk=5, seq=3), QueryArgs(num=-1, clerk=5, seq=4),
            ChangeReply(err="OK", seq=1), QueryReply(err="OK", seq=4, config=config)]
    assert [m.describe() for m in msgs] == [
        "Join 1 c5#1", "Leave 1 2 c5#2", "Move shard 3 to 1 c5#3", "Query -1 c5#4",
        "ChangeReply OK #1", "QueryReply OK #4 config 1 [1 1 1 1 1 1 1 1 1 1]"]
    assert msgs[5].trace()["config"] == {"num": 1, "shards": [1] * 10, "groups": {"1": ["a"]}}
    assert [m.rpc for m in msgs] == ["request"] * 4 + ["reply"] * 2
    assert msgs[0].wire() == ["Join", [[1, ["a"]]], 5, 1]
