"""The lab's key/value scenarios that are not GenericTest (scenarios §4.3–4.4).

TestSpeed3A/3B, TestUnreliableOneKey3A, TestOnePartition3A (three sub-tests, three pass
lines), TestSnapshotRPC3B and TestSnapshotSize3B, each a tester task returning its pass lines.
"""

from __future__ import annotations

from impl.kv.labtester import ELECTION_TIMEOUT_MS, KVTester, Summary
from impl.kv.scenarios.generic import check, check_clnt_appends, check_concurrent_appends
from impl.kv.tasks import KvTask, spawn

SPEED_OPS = 1000
HEARTBEAT_MS = 100  # the lab's: at least 3 calls per heartbeat interval
OPS_PER_HEARTBEAT = 3
MAX_SNAPSHOT_BYTES = 500  # TestSnapshotSize3B


def speed(cfg: KVTester, part: str) -> KvTask[list[Summary]]:
    """1000 sequential appends, at most 100/3 ms each: Raft must replicate on Start rather
    than wait for the next heartbeat."""
    ck = cfg.make_client(list(range(cfg.n)))
    cfg.begin(f"Test: ops complete fast enough ({part})")
    # Wait until a first call completes: a leader is elected and the servers are ready.
    yield from ck.get("x")
    start = cfg.now
    for i in range(SPEED_OPS):
        yield from ck.append("x", f"x 0 {i} y")
    took = cfg.now - start
    v = yield from ck.get("x")
    check_clnt_appends(cfg, 0, v, SPEED_OPS)
    if took * OPS_PER_HEARTBEAT > SPEED_OPS * HEARTBEAT_MS:
        raise cfg.fail(f"Operations completed too slowly {took / SPEED_OPS:.1f} ms/op > "
                       f"{HEARTBEAT_MS / OPS_PER_HEARTBEAT:.1f} ms/op")
    return [cfg.end()]


def unreliable_one_key(cfg: KVTester) -> KvTask[list[Summary]]:
    """Five clients append ten values each to one key over a lossy network."""
    everyone = list(range(cfg.n))
    ck = cfg.make_client(everyone)
    cfg.begin("Test: concurrent append to same key, unreliable (3A)")
    yield from ck.put("k", "")
    nclient, upto = 5, 10

    def client(me: int) -> KvTask[None]:
        myck = cfg.make_client(everyone)
        for n in range(upto):
            yield from myck.append("k", f"x {me} {n} y")
        cfg.delete_client(myck)

    clients = [spawn(cfg.loop, client(me), f"client{me}") for me in range(nclient)]
    for handle in clients:
        yield handle.finished
    vx = yield from ck.get("k")
    check_concurrent_appends(cfg, vx, [upto] * nclient)
    return [cfg.end()]


def one_partition(cfg: KVTester) -> KvTask[list[Summary]]:
    """A minority holding the old leader makes no progress; the majority does; after the
    heal, the minority's pending put completes, after the majority's writes."""
    everyone = list(range(cfg.n))
    ck = cfg.make_client(everyone)
    yield from ck.put("1", "13")

    cfg.begin("Test: progress in majority (3A)")
    p1, p2 = cfg.make_partition()
    cfg.partition(p1, p2)
    ckp1 = cfg.make_client(p1)  # connect ckp1 to p1
    ckp2a = cfg.make_client(p2)  # connect ckp2a to p2
    ckp2b = cfg.make_client(p2)  # connect ckp2b to p2
    yield from ckp1.put("1", "14")
    yield from check(cfg, ckp1, "1", "14")
    lines = [cfg.end()]

    cfg.begin("Test: no progress in minority (3A)")
    done0 = spawn(cfg.loop, ckp2a.put("1", "15"), "put-minority")
    done1 = spawn(cfg.loop, ckp2b.get("1"), "get-minority")  # a different clerk in p2
    yield 1000
    if done0.done:
        raise cfg.fail("Put in minority completed")
    if done1.done:
        raise cfg.fail("Get in minority completed")
    yield from check(cfg, ckp1, "1", "14")
    yield from ckp1.put("1", "16")
    yield from check(cfg, ckp1, "1", "16")
    lines.append(cfg.end())

    cfg.begin("Test: completion after heal (3A)")
    cfg.connect_all()
    cfg.connect_client(ckp2a, everyone)
    cfg.connect_client(ckp2b, everyone)
    yield ELECTION_TIMEOUT_MS
    waited = 0
    while not done0.done and waited < 30 * 100:
        yield 10
        waited += 10
    if not done0.done:
        raise cfg.fail("Put did not complete")
    if not done1.done:
        raise cfg.fail("Get did not complete")
    yield from check(cfg, ck, "1", "15")
    lines.append(cfg.end())
    return lines


def snapshot_rpc(cfg: KVTester) -> KvTask[list[Summary]]:
    """A lagging server catches up by InstallSnapshot after the majority compacted."""
    maxraftstate = cfg.maxraftstate
    ck = cfg.make_client(list(range(cfg.n)))
    cfg.begin("Test: InstallSnapshot RPC (3B)")
    yield from ck.put("a", "A")
    yield from check(cfg, ck, "a", "A")
    # a bunch of puts into the majority partition
    cfg.partition([0, 1], [2])
    ck1 = cfg.make_client([0, 1])
    for i in range(50):
        yield from ck1.put(str(i), str(i))
    yield ELECTION_TIMEOUT_MS
    yield from ck1.put("b", "B")
    # the majority must have thrown away most of its log entries
    size = cfg.log_size()
    if size > 8 * maxraftstate:
        raise cfg.fail(f"logs were not trimmed ({size} > 8*{maxraftstate})")
    # now a group that needs the lagging server, so that it has to catch up
    cfg.partition([0, 2], [1])
    ck2 = cfg.make_client([0, 2])
    yield from ck2.put("c", "C")
    yield from ck2.put("d", "D")
    yield from check(cfg, ck2, "a", "A")
    yield from check(cfg, ck2, "b", "B")
    yield from check(cfg, ck2, "1", "1")
    yield from check(cfg, ck2, "49", "49")
    # now everybody
    cfg.partition([0, 1, 2], [])
    yield from ck.put("e", "E")
    yield from check(cfg, ck, "c", "C")
    yield from check(cfg, ck, "e", "E")
    yield from check(cfg, ck, "1", "1")
    return [cfg.end()]


def snapshot_size(cfg: KVTester) -> KvTask[list[Summary]]:
    """800 calls on one key: logs trimmed, and snapshots stay small (≤ 500 bytes)."""
    maxraftstate = cfg.maxraftstate
    ck = cfg.make_client(list(range(cfg.n)))
    cfg.begin("Test: snapshot size is reasonable (3B)")
    for _ in range(200):
        yield from ck.put("x", "0")
        yield from check(cfg, ck, "x", "0")
        yield from ck.put("x", "1")
        yield from check(cfg, ck, "x", "1")
    size = cfg.log_size()
    if size > 8 * maxraftstate:
        raise cfg.fail(f"logs were not trimmed ({size} > 8*{maxraftstate})")
    snap = cfg.snapshot_size()
    if snap > MAX_SNAPSHOT_BYTES:
        raise cfg.fail(f"snapshot too large ({snap} > {MAX_SNAPSHOT_BYTES})")
    return [cfg.end()]
