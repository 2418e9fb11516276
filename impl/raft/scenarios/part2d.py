"""Part 2D — log compaction and snapshots (test_test.go; scenarios §3.5). Tester tasks; the
tester must be built with `snapshot=True` (the snapshot applier, which calls Snapshot every
10 entries)."""

from __future__ import annotations

from impl.raft.labtester import MAX_LOG_SIZE, SNAPSHOT_INTERVAL, RaftTester
from impl.sim.loop import Task


def _rand(cfg: RaftTester) -> int:
    return cfg.rng.randint(0, 2**63 - 1)  # Go's rand.Int(): a non-negative 63-bit integer


def _snapshot_common(cfg: RaftTester, *, disconnect: bool, crash: bool) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(_rand(cfg), n, True)
    leader1 = yield from cfg.check_one_leader()
    for i in range(30):
        victim, sender = (leader1 + 1) % n, leader1
        if i % 3 == 1:
            sender, victim = (leader1 + 1) % n, leader1
        if disconnect:
            cfg.disconnect(victim)
            yield from cfg.one(_rand(cfg), n - 1, True)
        if crash:
            cfg.crash1(victim)
            yield from cfg.one(_rand(cfg), n - 1, True)
        # Perhaps send enough to get a snapshot.
        for _ in range(SNAPSHOT_INTERVAL // 2 + cfg.rng.randrange(SNAPSHOT_INTERVAL)):
            raft = cfg.rafts[sender]
            if raft is not None:
                raft.start(_rand(cfg))
        # Let the appliers catch up with the Start()s; in the basic mode make sure all
        # followers have caught up, so that no InstallSnapshot is needed.
        if not disconnect and not crash:
            yield from cfg.one(_rand(cfg), n, True)
        else:
            yield from cfg.one(_rand(cfg), n - 1, True)
        size = cfg.log_size()
        if size >= MAX_LOG_SIZE:
            raise cfg.fail(f"Log size too large: {size} bytes (limit {MAX_LOG_SIZE})")
        if disconnect:
            # Reconnect a follower, who may be behind and need a snapshot to catch up.
            cfg.connect(victim)
            yield from cfg.one(_rand(cfg), n, True)
            leader1 = yield from cfg.check_one_leader()
        if crash:
            cfg.start1(victim)
            cfg.connect(victim)
            yield from cfg.one(_rand(cfg), n, True)
            leader1 = yield from cfg.check_one_leader()
    cfg.end()


def snapshot_basic(cfg: RaftTester) -> Task[None]:
    yield from _snapshot_common(cfg, disconnect=False, crash=False)


def snapshot_install(cfg: RaftTester) -> Task[None]:
    yield from _snapshot_common(cfg, disconnect=True, crash=False)


def snapshot_install_unreliable(cfg: RaftTester) -> Task[None]:
    yield from _snapshot_common(cfg, disconnect=True, crash=False)


def snapshot_install_crash(cfg: RaftTester) -> Task[None]:
    yield from _snapshot_common(cfg, disconnect=False, crash=True)


def snapshot_install_uncrash(cfg: RaftTester) -> Task[None]:
    yield from _snapshot_common(cfg, disconnect=False, crash=True)


def snapshot_all_crash(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(_rand(cfg), n, True)
    for _ in range(5):
        # Perhaps enough to get a snapshot.
        for _ in range(SNAPSHOT_INTERVAL // 2 + cfg.rng.randrange(SNAPSHOT_INTERVAL)):
            yield from cfg.one(_rand(cfg), n, True)
        index1 = yield from cfg.one(_rand(cfg), n, True)
        for i in range(n):
            cfg.crash1(i)
        for i in range(n):
            cfg.start1(i)
            cfg.connect(i)
        index2 = yield from cfg.one(_rand(cfg), n, True)
        if index2 < index1 + 1:
            raise cfg.fail(f"index decreased from {index1} to {index2}")
    cfg.end()


def snapshot_init(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(_rand(cfg), n, True)
    # Enough ops to make a snapshot.
    for _ in range(SNAPSHOT_INTERVAL + 1):
        yield from cfg.one(_rand(cfg), n, True)
    for _ in range(2):
        for i in range(n):
            cfg.crash1(i)
        for i in range(n):
            cfg.start1(i)
            cfg.connect(i)
        # A single op, to get something written back to persistent storage; the second
        # round then catches a restart that forgot to load the persisted snapshot.
        yield from cfg.one(_rand(cfg), n, True)
    cfg.end()
