"""Part 2A — leader election (test_test.go; scenarios §3.2). Each scenario is a tester task."""

from __future__ import annotations

from impl.raft.labtester import ELECTION_TIMEOUT_MS, RaftTester
from impl.sim.loop import Task


def initial_election(cfg: RaftTester) -> Task[None]:
    cfg.begin()
    yield from cfg.check_one_leader()
    # Sleep a bit to avoid racing with followers learning of the election, then check.
    yield 50
    term1 = cfg.check_terms()
    if term1 < 1:
        raise cfg.fail(f"term is {term1}, but should be at least 1")
    # Does the leader and term stay the same if there is no network failure?
    yield 2 * ELECTION_TIMEOUT_MS
    cfg.check_terms()  # a term change here is only a warning in the lab
    yield from cfg.check_one_leader()
    cfg.end()


def re_election(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    leader1 = yield from cfg.check_one_leader()
    # If the leader disconnects, a new one should be elected.
    cfg.disconnect(leader1)
    yield from cfg.check_one_leader()
    # If the old leader rejoins, that shouldn't disturb the new leader.
    cfg.connect(leader1)
    leader2 = yield from cfg.check_one_leader()
    # If there's no quorum, no new leader should be elected.
    cfg.disconnect(leader2)
    cfg.disconnect((leader2 + 1) % n)
    yield 2 * ELECTION_TIMEOUT_MS
    # Check that the one connected server does not think it is the leader.
    cfg.check_no_leader()
    # If a quorum arises, it should elect a leader.
    cfg.connect((leader2 + 1) % n)
    yield from cfg.check_one_leader()
    # Re-join of the last node shouldn't prevent leader from existing.
    cfg.connect(leader2)
    yield from cfg.check_one_leader()
    cfg.end()


def many_elections(cfg: RaftTester) -> Task[None]:
    n = cfg.n
    cfg.begin()
    yield from cfg.check_one_leader()
    for _ in range(10):
        # Disconnect three nodes (possibly the same one more than once).
        i1, i2, i3 = (cfg.rng.randrange(n) for _ in range(3))
        cfg.disconnect(i1)
        cfg.disconnect(i2)
        cfg.disconnect(i3)
        # Either the current leader should still be alive, or the remaining four should
        # elect a new one.
        yield from cfg.check_one_leader()
        cfg.connect(i1)
        cfg.connect(i2)
        cfg.connect(i3)
    yield from cfg.check_one_leader()
    cfg.end()
