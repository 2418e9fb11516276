"""The clerk core: one call at a time, retried with the same (clerk, seq) until answered."""

from __future__ import annotations

import pytest

from impl.kv.clerk import RETRY, RPC, Clerk, ClerkConfig
from impl.kv.effects import ClerkEffects, Done
from impl.kv.messages import GetArgs, GetReply, PutAppendArgs, PutAppendReply
from impl.raft.effects import CancelTimer, SetTimer

SERVERS = (2, 0, 1)  # the order the clerk was given


def targets(effects: ClerkEffects) -> list[int | str]:
    return [m.to for m in effects.messages]


def wrong(seq: int) -> PutAppendReply:
    return PutAppendReply(err="ErrWrongLeader", seq=seq)


def test_a_call_goes_to_the_first_server_with_a_deadline() -> None:
    ck = Clerk(1005, SERVERS, ClerkConfig(rpc_timeout_ms=400))
    out = ck.call("append", "k", "v")
    assert targets(out) == [2]
    assert out.messages[0].message == PutAppendArgs(key="k", value="v", op="Append",
                                                    clerk=1005, seq=1)
    assert out.timers == (SetTimer(name=RPC, low_ms=400, high_ms=400),)
    assert ck.busy


def test_wrong_leader_moves_on_and_the_answering_server_is_remembered() -> None:
    ck = Clerk(1005, SERVERS)
    ck.call("put", "k", "v")
    assert targets(ck.step(2, wrong(1))) == [0]
    done = ck.step(0, PutAppendReply(err="OK", seq=1))
    assert done.done == Done(seq=1, output=None) and not ck.busy
    assert CancelTimer(name=RPC) in done.timers
    out = ck.call("get", "k")
    assert targets(out) == [0]  # the last leader first
    assert out.messages[0].message == GetArgs(key="k", clerk=1005, seq=2)


def test_a_timeout_or_a_failed_call_moves_on_and_a_round_of_failures_pauses() -> None:
    ck = Clerk(1005, SERVERS, ClerkConfig(retry_pause_ms=100))
    first = ck.call("put", "k", "v").messages[0].message
    assert targets(ck.timeout(RPC)) == [0]  # no answer from 2 in time
    assert targets(ck.call_failed(0, first)) == [1]  # 0 is unreachable
    paused = ck.step(1, wrong(1))  # all three failed in a row: pause, send nothing
    assert paused.messages == () and SetTimer(name=RETRY, low_ms=100, high_ms=100) in paused.timers
    assert targets(ck.timeout(RETRY)) == [2]
    assert ck.step(2, PutAppendReply(err="OK", seq=1)).done is not None


def test_answers_to_other_calls_and_refusals_from_servers_left_behind_are_ignored() -> None:
    ck = Clerk(1005, SERVERS)
    first = ck.call("put", "k", "v").messages[0].message
    ck.step(2, PutAppendReply(err="OK", seq=1))
    ck.call("put", "k", "w")
    assert ck.step(2, PutAppendReply(err="OK", seq=1)) == ClerkEffects()  # a late duplicate
    assert ck.call_failed(2, first) == ClerkEffects()  # about the finished call
    ck.timeout(RPC)  # now trying server 0
    assert ck.step(2, wrong(2)) == ClerkEffects()  # 2's refusal of the earlier attempt
    # ... but a success from an earlier attempt finishes the call: it is the same call.
    assert ck.step(2, PutAppendReply(err="OK", seq=2)).done == Done(seq=2, output=None)


def test_a_get_of_an_absent_key_returns_the_empty_string() -> None:
    ck = Clerk(1005, SERVERS)
    ck.call("get", "nope")
    assert ck.step(2, GetReply(err="ErrNoKey", value="", seq=1)).done == Done(seq=1, output="")


def test_one_call_at_a_time_and_well_formed_calls_only() -> None:
    ck = Clerk(1005, SERVERS)
    with pytest.raises(ValueError):
        ck.call("get", "k", "v")
    with pytest.raises(ValueError):
        ck.call("cas", "k", "v")
    ck.call("get", "k")
    with pytest.raises(RuntimeError, match="already in progress"):
        ck.call("get", "k")
