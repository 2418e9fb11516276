"""Part 2C — persistence (test_test.go; scenarios §3.4). Each scenario is a tester task."""

from __future__ import annotations

from impl.raft.labtester import ELECTION_TIMEOUT_MS, RaftTester
from impl.raft.scenarios.part2b import rand_int
from impl.sim.loop import Task, TaskHandle


def persist1(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(11, n, True)
    # Crash and re-start all.
    for i in range(n):
        cfg.start1(i)
    for i in range(n):
        cfg.disconnect(i)
        cfg.connect(i)
    yield from cfg.one(12, n, True)
    leader1 = yield from cfg.check_one_leader()
    cfg.disconnect(leader1)
    cfg.start1(leader1)
    cfg.connect(leader1)
    yield from cfg.one(13, n, True)
    leader2 = yield from cfg.check_one_leader()
    cfg.disconnect(leader2)
    yield from cfg.one(14, n - 1, True)
    cfg.start1(leader2)
    cfg.connect(leader2)
    yield from cfg.wait(4, n, -1)  # wait for leader2 to join before killing i3
    i3 = ((yield from cfg.check_one_leader()) + 1) % n
    cfg.disconnect(i3)
    yield from cfg.one(15, n - 1, True)
    cfg.start1(i3)
    cfg.connect(i3)
    yield from cfg.one(16, n, True)
    cfg.end()


def persist2(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    index = 1
    for _ in range(5):
        yield from cfg.one(10 + index, n, True)
        index += 1
        leader1 = yield from cfg.check_one_leader()
        cfg.disconnect((leader1 + 1) % n)
        cfg.disconnect((leader1 + 2) % n)
        yield from cfg.one(10 + index, n - 2, True)
        index += 1
        cfg.disconnect((leader1 + 0) % n)
        cfg.disconnect((leader1 + 3) % n)
        cfg.disconnect((leader1 + 4) % n)
        cfg.start1((leader1 + 1) % n)
        cfg.start1((leader1 + 2) % n)
        cfg.connect((leader1 + 1) % n)
        cfg.connect((leader1 + 2) % n)
        yield ELECTION_TIMEOUT_MS
        cfg.start1((leader1 + 3) % n)
        cfg.connect((leader1 + 3) % n)
        yield from cfg.one(10 + index, n - 2, True)
        index += 1
        cfg.connect((leader1 + 4) % n)
        cfg.connect((leader1 + 0) % n)
    yield from cfg.one(1000, n, True)
    cfg.end()


def persist3(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(101, 3, True)
    leader = yield from cfg.check_one_leader()
    cfg.disconnect((leader + 2) % n)
    yield from cfg.one(102, 2, True)
    cfg.crash1((leader + 0) % n)
    cfg.crash1((leader + 1) % n)
    cfg.connect((leader + 2) % n)
    cfg.start1((leader + 0) % n)
    cfg.connect((leader + 0) % n)
    yield from cfg.one(103, 2, True)
    cfg.start1((leader + 1) % n)
    cfg.connect((leader + 1) % n)
    yield from cfg.one(104, n, True)
    cfg.end()


def _figure8_sleep(cfg: RaftTester) -> int:
    if cfg.rng.randrange(1000) < 100:
        return cfg.rng.randrange(ELECTION_TIMEOUT_MS // 2)
    return cfg.rng.randrange(13)


def figure8(cfg: RaftTester) -> Task[None]:
    """Leaders crash right after accepting a command, so that many terms leave uncommitted
    entries behind: a leader that committed an older term's entry by counting replicas
    (what Figure 8 of the paper forbids) makes the apply checker see two values at an index."""
    n = cfg.n
    cfg.begin()
    yield from cfg.one(rand_int(cfg), 1, True)
    nup = n
    for _ in range(1000):
        leader = -1
        for i in range(n):
            raft = cfg.rafts[i]
            if raft is not None and raft.start(rand_int(cfg)).is_leader:
                leader = i
        yield _figure8_sleep(cfg)
        if leader != -1:
            cfg.crash1(leader)
            nup -= 1
        if nup < 3:
            s = cfg.rng.randrange(n)
            if cfg.rafts[s] is None:
                cfg.start1(s)
                cfg.connect(s)
                nup += 1
    for i in range(n):
        if cfg.rafts[i] is None:
            cfg.start1(i)
            cfg.connect(i)
    yield from cfg.one(rand_int(cfg), n, True)
    cfg.end()


def unreliable_agree(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    clients: list[TaskHandle[int]] = []
    for iteration in range(1, 50):
        for j in range(4):
            clients.append(cfg.loop.spawn(cfg.one(100 * iteration + j, 1, True), "one"))
        yield from cfg.one(iteration, 1, True)
    cfg.set_unreliable(False)
    while not all(client.done for client in clients):
        yield 10
    yield from cfg.one(100, n, True)
    cfg.end()


def figure8_unreliable(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.one(rand_int(cfg) % 10000, 1, True)
    nup = n
    for iteration in range(1000):
        if iteration == 200:
            cfg.set_long_reordering(True)
        leader = -1
        for i in range(n):
            raft = cfg.rafts[i]
            if raft is not None and raft.start(rand_int(cfg) % 10000).is_leader \
                    and cfg.connected[i]:
                leader = i
        yield _figure8_sleep(cfg)
        if leader != -1 and cfg.rng.randrange(1000) < ELECTION_TIMEOUT_MS // 2:
            cfg.disconnect(leader)
            nup -= 1
        if nup < 3:
            s = cfg.rng.randrange(n)
            if not cfg.connected[s]:
                cfg.connect(s)
                nup += 1
    for i in range(n):
        if not cfg.connected[i]:
            cfg.connect(i)
    yield from cfg.one(rand_int(cfg) % 10000, n, True)
    cfg.end()


def _churn_client(cfg: RaftTester, me: int, stop: list[bool]) -> Task[list[int]]:
    values: list[int] = []
    while not stop[0]:
        x = rand_int(cfg)
        index = -1
        accepted = False
        for i in range(cfg.n):
            raft = cfg.rafts[i]  # try them all, maybe one of them is a leader
            if raft is not None:
                result = raft.start(x)
                if result.is_leader:
                    accepted = True
                    index = result.index
        if accepted:
            # Maybe the leader will commit our value, maybe not; don't wait forever.
            waited = False
            for to in (10, 20, 50, 100, 200):
                count, command = cfg.n_committed(index)
                if count > 0:
                    if not isinstance(command, int):
                        raise cfg.fail("wrong command type")
                    if command == x:
                        values.append(x)
                    break
                yield to
                waited = True
            if not waited:
                # Found committed at once (a stale leader's index, or a core that applies
                # before committing): in the lab the round still costs real time; in virtual
                # time it would not, and the client would loop at one instant, growing the
                # log until the watchdog stops the run — with a trace on, every step then
                # writes the whole, ever longer log (minutes of CPU for 2 virtual seconds).
                # The round takes the wait ladder's first step: one ms per round still grew
                # the log by 3 entries a ms, and a 4 s run's trace took 499 CPU s to check.
                yield 10
        else:
            yield 79 + me * 17
    return values


def _churn(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    stop = [False]
    clients = [cfg.loop.spawn(_churn_client(cfg, me, stop), f"client{me}") for me in range(3)]
    for _ in range(20):
        if cfg.rng.randrange(1000) < 200:
            cfg.disconnect(cfg.rng.randrange(n))
        if cfg.rng.randrange(1000) < 500:
            i = cfg.rng.randrange(n)
            if cfg.rafts[i] is None:
                cfg.start1(i)
            cfg.connect(i)
        if cfg.rng.randrange(1000) < 200:
            i = cfg.rng.randrange(n)
            if cfg.rafts[i] is not None:
                cfg.crash1(i)
        # Often enough that peers are rarely settled, rarely enough that they can keep up.
        yield (ELECTION_TIMEOUT_MS * 7) // 10
    yield ELECTION_TIMEOUT_MS
    cfg.set_unreliable(False)
    for i in range(n):
        if cfg.rafts[i] is None:
            cfg.start1(i)
        cfg.connect(i)
    stop[0] = True
    while not all(client.done for client in clients):
        yield 1
    values = [v for client in clients for v in (client.result or [])]
    yield ELECTION_TIMEOUT_MS
    last_index = yield from cfg.one(rand_int(cfg), n, True)
    really = []
    for index in range(1, last_index + 1):
        v = yield from cfg.wait(index, n, -1)
        if not isinstance(v, int):
            raise cfg.fail("not an int")
        really.append(v)
    present = set(really)
    for v in values:
        if v not in present:
            raise cfg.fail(f"didn't find a value: {v} was seen committed by a client")
    cfg.end()


def reliable_churn(cfg: RaftTester) -> Task[None]:
    yield from _churn(cfg)


def unreliable_churn(cfg: RaftTester) -> Task[None]:
    yield from _churn(cfg)
