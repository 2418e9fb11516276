"""The sharded key/value cores, one input at a time: a group's state machine, its server and
the clerk (impl/shardkv/)."""

from __future__ import annotations

from typing import Any

import pytest

from impl.kv.machine import Op, Outcome
from impl.kv.messages import GetArgs, GetReply, PutAppendArgs, PutAppendReply
from impl.rsm.effects import ServerEffects
from impl.shardctrler.messages import QueryArgs, QueryReply
from impl.shardkv.clerk import RETRY, ShardClerk
from impl.shardkv.machine import (
    Changed,
    CorruptSnapshot,
    Delete,
    Install,
    ShardMachine,
    WrongGroup,
    reconfigure,
)
from impl.shardkv.messages import TransferArgs, TransferReply, key2shard
from impl.shardkv.server import ShardServer
from spec import shardctrler as ctrl
from spec.shardkv import Status

G1 = {100: ["server-100-0"]}
G2 = {101: ["server-101-0"]}
# Configuration 1: group 100 has every shard; 2: 101 joins and takes shards 5..9.
HISTORY = ctrl.run([ctrl.Join.of(G1), ctrl.Join.of(G2)])
C1, C2 = HISTORY[1], HISTORY[2]
MOVED = [s for s in range(10) if C2.shards[s] == 101]


def op(kind: str, key: str, value: str | None, seq: int, clerk: int = 7) -> Op:
    return Op(kind, key, value, clerk, seq)


def key_of(shard: int) -> str:
    return next(str(k) for k in range(10) if key2shard(str(k)) == shard)


def test_key2shard_is_the_labs() -> None:
    assert [key2shard(str(k)) for k in range(10)] == [8, 9, 0, 1, 2, 3, 4, 5, 6, 7]
    assert key2shard("") == 0 and key2shard("29") == key2shard("2")


def test_configurations_apply_one_at_a_time_in_order_once_settled() -> None:
    m = ShardMachine(100)
    assert m.apply(1, reconfigure(C2)) == Changed(False)  # not the next one
    assert m.apply(2, reconfigure(C1)) == Changed(True)
    assert all(sh.status == Status.SERVING for sh in m.shards)  # gained from nobody
    m.apply(3, op("put", key_of(MOVED[0]), "v", 1))
    assert m.apply(4, reconfigure(C2)) == Changed(True)
    assert [m.shards[s].status for s in MOVED] == [Status.SENDING] * len(MOVED)
    assert m.shards[MOVED[0]].data == {key_of(MOVED[0]): "v"}  # kept until acknowledged
    assert not m.settled()
    c3 = ctrl.change(C2, ctrl.Join.of({102: ["x"]}))
    assert m.apply(5, reconfigure(c3)) == Changed(False)  # not settled: handoffs pending
    assert m.apply(6, Delete("delete", 1, MOVED[0])) == Changed(False)  # stale
    for i, s in enumerate(MOVED):
        assert m.apply(7 + i, Delete("delete", 2, s)) == Changed(True)
    assert m.settled() and m.shards[MOVED[0]].data == {}


def test_a_waiting_shard_is_installed_once_with_its_table_and_served_at_once() -> None:
    m = ShardMachine(101)
    m.apply(1, reconfigure(C1))
    m.apply(2, reconfigure(C2))
    s = MOVED[0]
    assert m.shards[s].status == Status.WAITING
    key = key_of(s)
    assert m.apply(3, op("get", key, None, 1)) == WrongGroup(s)
    install = Install("install", 2, s, ((key, "v"),), ((7, 3),), 100)
    assert m.apply(4, install) == Changed(True)
    assert m.shards[s].status == Status.SERVING and m.shards[s].dup == {7: 3}
    assert m.apply(5, install) == Changed(False)  # a duplicate transfer
    # The table came along: the call the old owner executed is a duplicate here.
    assert m.apply(6, op("append", key, "x", 3)) == Outcome(executed=False, output=None)
    assert m.apply(7, op("get", key, None, 4)) == Outcome(executed=True, output="v", found=True)


def test_snapshots_round_trip_and_bad_bytes_are_refused() -> None:
    m = ShardMachine(100)
    m.apply(1, reconfigure(C1))
    m.apply(2, op("put", "k", "v", 1))
    m.apply(3, reconfigure(C2))
    back = ShardMachine.decode(m.encode())
    assert back.encode() == m.encode()
    assert back.config == C2 and back.prev == C1 and back.applied == 3
    assert [sh.status for sh in back.shards] == [sh.status for sh in m.shards]
    with pytest.raises(CorruptSnapshot):
        ShardMachine.decode(b"\x92\x01\x02")


def replies(effects: ServerEffects) -> list[Any]:
    return [(r.to, r.message) for r in effects.replies]


def leader(gid: int) -> ShardServer:
    """A group of one server, leader at once: every entry commits in its step."""
    s = ShardServer(0, (0,), gid, ("ctrler0",), ctrl_clerk_id=9)
    s.boot()
    s.timeout("election")
    return s


def test_a_leader_answers_wrong_group_for_shards_it_does_not_serve() -> None:
    s = leader(100)
    out = s.step("ck7", PutAppendArgs(key="k", value="v", op="Put", clerk=7, seq=1))
    assert replies(out) == [("ck7", PutAppendReply(err="ErrWrongGroup", seq=1))]
    follower = ShardServer(1, (0, 1, 2), 100, ("ctrler0",), ctrl_clerk_id=9)
    follower.boot()
    assert replies(follower.step("ck7", GetArgs(key="k", clerk=7, seq=1))) == [
        ("ck7", GetReply(err="ErrWrongLeader", value="", seq=1))]


def test_the_leader_polls_for_the_next_configuration_and_applies_it_through_its_log() -> None:
    s = leader(100)
    out = s.timeout("poll")
    assert [(r.to, r.message) for r in out.replies] == [
        ("ctrler0", QueryArgs(num=1, clerk=9, seq=1))]
    out = s.step("ctrler0", QueryReply(err="OK", seq=1, config=C1))
    assert s.machine.num == 1  # appended, committed and applied in the step
    assert s.machine.serves("k")
    # Settled: it asks for configuration 2 at once.
    assert [r.message for r in out.replies] == [QueryArgs(num=2, clerk=9, seq=2)]
    out = s.step("ck7", PutAppendArgs(key="k", value="v", op="Put", clerk=7, seq=1))
    assert replies(out) == [("ck7", PutAppendReply(err="OK", seq=1))]


def test_a_shard_is_pushed_to_its_new_owner_and_deleted_once_acknowledged() -> None:
    s = leader(100)
    s.timeout("poll")
    s.step("ctrler0", QueryReply(err="OK", seq=1, config=C1))
    out = s.step("ctrler0", QueryReply(err="OK", seq=2, config=C2))
    sent = [r.message for r in out.replies if isinstance(r.message, TransferArgs)]
    assert sorted(m.shard for m in sent) == MOVED
    assert {r.to for r in out.replies if isinstance(r.message, TransferArgs)} == {"server-101-0"}
    s.step("server-101-0", TransferReply(err="ErrNotReady", num=2, shard=MOVED[0]))
    assert s.machine.shards[MOVED[0]].status == Status.SENDING  # waits for the next round
    s.step("server-101-0", TransferReply(err="OK", num=2, shard=MOVED[0]))
    assert s.machine.shards[MOVED[0]].status == Status.ABSENT  # garbage-collected


def test_the_new_owner_answers_ok_only_once_the_shard_is_installed() -> None:
    s = leader(101)
    s.timeout("poll")
    s.step("ctrler0", QueryReply(err="OK", seq=1, config=C1))
    shard = MOVED[0]
    transfer = TransferArgs(num=2, shard=shard, gid=100, data=(("x", "1"),), dup=((7, 1),))
    assert replies(s.step("server-100-0", transfer)) == [
        ("server-100-0", TransferReply(err="ErrNotReady", num=2, shard=shard))]
    s.step("ctrler0", QueryReply(err="OK", seq=2, config=C2))
    out = s.step("server-100-0", transfer)
    assert replies(out) == [("server-100-0", TransferReply(err="OK", num=2, shard=shard))]
    assert s.machine.shards[shard].status == Status.SERVING
    again = s.step("server-100-0", transfer)  # the OK was lost: acknowledged again
    assert replies(again) == [("server-100-0", TransferReply(err="OK", num=2, shard=shard))]


def test_the_clerk_routes_by_shard_and_asks_the_controller_on_wrong_group() -> None:
    ck = ShardClerk(7, ("ctrler0",))
    out = ck.call("put", "3", "v")  # no configuration yet: ask the controller first
    assert [m.message for m in out.messages] == [QueryArgs(num=-1, clerk=7, seq=1)]
    out = ck.step("ctrler0", QueryReply(err="OK", seq=1, config=C2))
    owner = C2.shards[key2shard("3")]
    assert [m.to for m in out.messages] == [f"server-{owner}-0"]
    out = ck.step(f"server-{owner}-0", PutAppendReply(err="ErrWrongGroup", seq=1))
    assert out.messages == () and any(t.name == RETRY for t in out.timers)
    out = ck.timeout(RETRY)
    assert [m.message for m in out.messages] == [QueryArgs(num=-1, clerk=7, seq=2)]
    out = ck.step("ctrler0", QueryReply(err="OK", seq=2, config=C1))  # older: kept C2
    assert ck.shards == C2
    done = ck.step(f"server-{owner}-0", PutAppendReply(err="OK", seq=1))
    assert done.done is not None and not ck.busy
