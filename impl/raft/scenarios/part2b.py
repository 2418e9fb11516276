"""Part 2B — log replication (test_test.go; scenarios §3.3). Each scenario is a tester task."""

from __future__ import annotations

import base64
from typing import Any

from impl.raft.labtester import ELECTION_TIMEOUT_MS, RaftTester
from impl.sim.loop import Task


def _live(cfg: RaftTester, i: int) -> Any:
    raft = cfg.rafts[i]
    if raft is None:
        raise cfg.fail(f"server {i} is not running")
    return raft


def rand_int(cfg: RaftTester) -> int:
    return cfg.rng.randint(0, 2**31 - 1)


def rand_string(cfg: RaftTester, n: int) -> str:
    return base64.b64encode(cfg.rng.randbytes(2 * n)).decode()[:n]


def basic_agree(cfg: RaftTester) -> Task[None]:
    cfg.begin()
    for index in range(1, 4):
        count, _ = cfg.n_committed(index)
        if count > 0:
            raise cfg.fail("some have committed before Start()")
        xindex = yield from cfg.one(index * 100, cfg.n, False)
        if xindex != index:
            raise cfg.fail(f"got index {xindex} but expected {index}")
    cfg.end()


def rpc_bytes(cfg: RaftTester) -> Task[None]:
    cfg.begin()
    yield from cfg.one(99, cfg.n, False)
    bytes0 = cfg.bytes_total()
    sent = 0
    for index in range(2, 12):
        command = rand_string(cfg, 5000)
        xindex = yield from cfg.one(command, cfg.n, False)
        if xindex != index:
            raise cfg.fail(f"got index {xindex} but expected {index}")
        sent += len(command)
    got = cfg.bytes_total() - bytes0
    expected = cfg.n * sent
    if got > expected + 50_000:
        raise cfg.fail(f"too many RPC bytes; got {got}, expected {expected}")
    cfg.end()


def follower_failure(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(101, n, False)
    # Disconnect one follower from the network.
    leader1 = yield from cfg.check_one_leader()
    cfg.disconnect((leader1 + 1) % n)
    # The leader and remaining follower should be able to agree despite that.
    yield from cfg.one(102, n - 1, False)
    yield ELECTION_TIMEOUT_MS
    yield from cfg.one(103, n - 1, False)
    # Disconnect the remaining follower.
    leader2 = yield from cfg.check_one_leader()
    cfg.disconnect((leader2 + 1) % n)
    cfg.disconnect((leader2 + 2) % n)
    result = _live(cfg, leader2).start(104)
    if not result.is_leader:
        raise cfg.fail("leader rejected Start()")
    if result.index != 4:
        raise cfg.fail(f"expected index 4, got {result.index}")
    yield 2 * ELECTION_TIMEOUT_MS
    # Check that command 104 did not commit.
    count, _ = cfg.n_committed(result.index)
    if count > 0:
        raise cfg.fail(f"{count} committed but no majority")
    cfg.end()


def leader_failure(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(101, n, False)
    leader1 = yield from cfg.check_one_leader()
    cfg.disconnect(leader1)
    # The remaining followers should elect a new leader.
    yield from cfg.one(102, n - 1, False)
    yield ELECTION_TIMEOUT_MS
    yield from cfg.one(103, n - 1, False)
    # Disconnect the new leader too.
    leader2 = yield from cfg.check_one_leader()
    cfg.disconnect(leader2)
    # Submit a command to each server.
    for i in range(n):
        _live(cfg, i).start(104)
    yield 2 * ELECTION_TIMEOUT_MS
    count, _ = cfg.n_committed(4)
    if count > 0:
        raise cfg.fail(f"{count} committed but no majority")
    cfg.end()


def fail_agree(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(101, n, False)
    # Disconnect one follower; the rest keep agreeing.
    leader = yield from cfg.check_one_leader()
    cfg.disconnect((leader + 1) % n)
    yield from cfg.one(102, n - 1, False)
    yield from cfg.one(103, n - 1, False)
    yield ELECTION_TIMEOUT_MS
    yield from cfg.one(104, n - 1, False)
    yield from cfg.one(105, n - 1, False)
    # Reconnect: the follower must catch up.
    cfg.connect((leader + 1) % n)
    yield from cfg.one(106, n, True)
    yield ELECTION_TIMEOUT_MS
    yield from cfg.one(107, n, True)
    cfg.end()


def fail_no_agree(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(10, n, False)
    # Three of five followers disconnect.
    leader = yield from cfg.check_one_leader()
    for k in (1, 2, 3):
        cfg.disconnect((leader + k) % n)
    result = _live(cfg, leader).start(20)
    if not result.is_leader:
        raise cfg.fail("leader rejected Start()")
    if result.index != 2:
        raise cfg.fail(f"expected index 2, got {result.index}")
    yield 2 * ELECTION_TIMEOUT_MS
    count, _ = cfg.n_committed(result.index)
    if count > 0:
        raise cfg.fail(f"{count} committed but no majority")
    # Repair.
    for k in (1, 2, 3):
        cfg.connect((leader + k) % n)
    # The disconnected majority may have chosen a leader from among their own ranks,
    # forgetting index 2.
    leader2 = yield from cfg.check_one_leader()
    result2 = _live(cfg, leader2).start(30)
    if not result2.is_leader:
        raise cfg.fail("leader2 rejected Start()")
    if not 2 <= result2.index <= 3:
        raise cfg.fail(f"unexpected index {result2.index}")
    yield from cfg.one(1000, n, True)
    cfg.end()


def concurrent_starts(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    success = False
    for attempt in range(5):
        if attempt > 0:
            yield 3000  # give the solution some time to settle
        leader = yield from cfg.check_one_leader()
        first = _live(cfg, leader).start(1)
        if not first.is_leader:
            continue
        # The lab's five goroutines, each calling Start once at (virtually) the same time.
        indexes = []
        for i in range(5):
            result = _live(cfg, leader).start(100 + i)
            if result.term == first.term and result.is_leader:
                indexes.append(result.index)
        if any(r is not None and r.get_state()[0] != first.term for r in cfg.rafts):
            continue  # term changed: cannot expect low RPC counts
        commands: list[Any] = []
        retry = False
        for index in indexes:
            command = yield from cfg.wait(index, n, first.term)
            if command == -1:
                retry = True  # peers have moved on to later terms
                break
            if not isinstance(command, int):
                raise cfg.fail(f"value {command!r} is not an int")
            commands.append(command)
        if retry:
            continue
        for i in range(5):
            if 100 + i not in commands:
                raise cfg.fail(f"cmd {100 + i} missing in {commands}")
        success = True
        break
    if not success:
        raise cfg.fail("term changed too often")
    cfg.end()


def rejoin(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(101, n, True)
    # The leader is partitioned off.
    leader1 = yield from cfg.check_one_leader()
    cfg.disconnect(leader1)
    # Make the old leader try to agree on some entries.
    for command in (102, 103, 104):
        _live(cfg, leader1).start(command)
    # The new leader commits, also for index 2.
    yield from cfg.one(103, 2, True)
    # The new leader's network fails; the old leader comes back.
    leader2 = yield from cfg.check_one_leader()
    cfg.disconnect(leader2)
    cfg.connect(leader1)
    yield from cfg.one(104, 2, True)
    # All together now.
    cfg.connect(leader2)
    yield from cfg.one(105, n, True)
    cfg.end()


def backup(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(rand_int(cfg), n, True)
    # Put the leader and one follower in a partition.
    leader1 = yield from cfg.check_one_leader()
    for k in (2, 3, 4):
        cfg.disconnect((leader1 + k) % n)
    # Submit lots of commands that won't commit.
    for _ in range(50):
        _live(cfg, leader1).start(rand_int(cfg))
    yield ELECTION_TIMEOUT_MS // 2
    cfg.disconnect((leader1 + 0) % n)
    cfg.disconnect((leader1 + 1) % n)
    # Allow the other partition to recover.
    for k in (2, 3, 4):
        cfg.connect((leader1 + k) % n)
    # Lots of successful commands to the new group.
    for _ in range(50):
        yield from cfg.one(rand_int(cfg), 3, True)
    # Now another partitioned leader and one follower.
    leader2 = yield from cfg.check_one_leader()
    other = (leader1 + 2) % n
    if leader2 == other:
        other = (leader2 + 1) % n
    cfg.disconnect(other)
    # Lots more commands that won't commit.
    for _ in range(50):
        _live(cfg, leader2).start(rand_int(cfg))
    yield ELECTION_TIMEOUT_MS // 2
    # Bring the original leader back to life.
    for i in range(n):
        cfg.disconnect(i)
    cfg.connect((leader1 + 0) % n)
    cfg.connect((leader1 + 1) % n)
    cfg.connect(other)
    # Lots of successful commands to the new group.
    for _ in range(50):
        yield from cfg.one(rand_int(cfg), 3, True)
    # Now everyone.
    for i in range(n):
        cfg.connect(i)
    yield from cfg.one(rand_int(cfg), n, True)
    cfg.end()


def count(cfg: RaftTester) -> Task[None]:
    n = cfg.n

    def rpcs() -> int:
        return sum(cfg.rpc_count(j) for j in range(n))

    cfg.begin()
    leader = yield from cfg.check_one_leader()
    total1 = rpcs()
    if not 1 <= total1 <= 30:
        raise cfg.fail(f"too many or few RPCs ({total1}) to elect initial leader")
    total2 = 0
    success = False
    iters = 10
    for attempt in range(5):
        if attempt > 0:
            yield 3000
        leader = yield from cfg.check_one_leader()
        total1 = rpcs()
        first = _live(cfg, leader).start(1)
        if not first.is_leader:
            continue
        commands = []
        term_changed = False
        for i in range(1, iters + 2):
            x = cfg.rng.randint(0, 2**31 - 1)
            commands.append(x)
            result = _live(cfg, leader).start(x)
            if result.term != first.term or not result.is_leader:
                term_changed = True  # term changed while starting
                break
            if first.index + i != result.index:
                raise cfg.fail("Start() failed")
        if term_changed:
            continue
        moved_on = False
        for i in range(1, iters + 1):
            command = yield from cfg.wait(first.index + i, n, first.term)
            if command != commands[i - 1]:
                if command == -1:
                    moved_on = True  # term changed -- try again
                    break
                raise cfg.fail(f"wrong value {command!r} committed for index "
                               f"{first.index + i}; expected {commands[i - 1]}")
        if moved_on:
            continue
        failed = False
        total2 = 0
        for j in range(n):
            raft = cfg.rafts[j]
            if raft is not None and raft.get_state()[0] != first.term:
                failed = True  # term changed -- can't expect low RPC counts
            total2 += cfg.rpc_count(j)
        if failed:
            continue
        if total2 - total1 > (iters + 1 + 3) * 3:
            raise cfg.fail(f"too many RPCs ({total2 - total1}) for {iters} entries")
        success = True
        break
    if not success:
        raise cfg.fail("term changed too often")
    yield ELECTION_TIMEOUT_MS
    total3 = rpcs()
    if total3 - total2 > 3 * 20:
        raise cfg.fail(f"too many RPCs ({total3 - total2}) for 1 second of idleness")
    cfg.end()
