"""The lab's shard controller tests (shardctrler test_test.go, scenarios §5.3–5.4): TestBasic's
six sub-tests and TestMulti's five, each a tester task returning its pass lines.

Each sub-test builds on the ones before it (the groups the last one left, the configurations
it recorded), so a run plays its test function's sub-tests in order; `upto` stops after that
many, which is how each sub-test is also a test of its own.

The two pairs of "minimal transfers" sub-tests check what the Go versions meant to: the Go
checks loop over gids 1..10, which are not present in those configurations, so they can never
fail (scenarios §5.3 #5). Here the configuration before the joins (or leaves) must be
balanced, and then no group that already existed may gain a shard it did not own
(`spec.shardctrler.joins_give_old_groups_nothing`), and after leaves every shard of a surviving
group stays put (`leaves_keep_survivors_shards`); on top, every step in between must move
exactly as few shards as a balanced assignment must (`minimal_movement`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from impl.kv.labtester import Summary
from impl.kv.tasks import KvTask, spawn
from impl.shardctrler.labtester import CtrlHandle, CtrlTester
from impl.trace import TraceWriter
from spec.shardctrler import (
    NSHARDS,
    Configuration,
    balanced,
    initial,
    joins_give_old_groups_nothing,
    leaves_keep_survivors_shards,
    minimal_movement,
)

NPARA = 10  # concurrent clerks in the concurrent sub-tests

BASIC_TITLES = (
    "Test: Basic leave/join",
    "Test: Historical queries",
    "Test: Move",
    "Test: Concurrent leave/join",
    "Test: Minimal transfers after joins",
    "Test: Minimal transfers after leaves",
)
MULTI_TITLES = (
    "Test: Multi-group join/leave",
    "Test: Concurrent multi leave/join",
    "Test: Minimal transfers after multijoins",
    "Test: Minimal transfers after multileaves",
    "Test: Check Same config on servers",
)


def _servers(gid: int, count: int = 3) -> list[str]:
    return [f"{gid}{chr(ord('a') + i)}" for i in range(count)]


def _check_servers(cfg: CtrlTester, c: Configuration, gid: int, wanted: list[str]) -> None:
    got = list(dict(c.groups).get(gid, ()))
    if got != wanted:
        raise cfg.fail(f"wrong servers for gid {gid}: {got} instead of {wanted}")


def _steps_minimal(cfg: CtrlTester, ck: CtrlHandle, first: Configuration,
                   last: Configuration) -> KvTask[None]:
    """Every Join or Leave from `first` to `last` moved exactly the fewest shards a balanced
    assignment must (each configuration in between queried by number)."""
    before = first
    for num in range(first.num + 1, last.num + 1):
        after = yield from ck.query(num)
        if not minimal_movement(before, after):
            raise cfg.fail(f"configuration {num} moved more shards than it had to "
                           f"({list(before.shards)} -> {list(after.shards)})")
        before = after


def _minimal_after_joins(cfg: CtrlTester, ck: CtrlHandle, c1: Configuration,
                         c2: Configuration, what: str) -> KvTask[None]:
    if not balanced(c1):
        raise cfg.fail(f"the configuration before the {what} is not balanced")
    if not joins_give_old_groups_nothing(c1, c2):
        raise cfg.fail(f"non-minimal transfer after {what}: a group gained a shard "
                       f"({list(c1.shards)} -> {list(c2.shards)})")
    yield from _steps_minimal(cfg, ck, c1, c2)


def _minimal_after_leaves(cfg: CtrlTester, ck: CtrlHandle, c2: Configuration,
                          c3: Configuration, what: str) -> KvTask[None]:
    if not balanced(c2):
        raise cfg.fail(f"the configuration before the {what} is not balanced")
    if not leaves_keep_survivors_shards(c2, c3):
        raise cfg.fail(f"non-minimal transfer after {what}: a surviving group's shard "
                       f"moved ({list(c2.shards)} -> {list(c3.shards)})")
    yield from _steps_minimal(cfg, ck, c2, c3)


def basic(cfg: CtrlTester, upto: int = len(BASIC_TITLES)) -> KvTask[list[Summary]]:
    """TestBasic (scenarios §5.3)."""
    ck = cfg.make_clerk()
    lines: list[Summary] = []

    cfg.begin(BASIC_TITLES[0])
    cfa = [initial()] * 6  # cfa[3] stays configuration 0, as in the Go test
    cfa[0] = yield from ck.query(-1)
    yield from cfg.check(ck, [])
    gid1, gid2 = 1, 2
    yield from ck.join({gid1: ["x", "y", "z"]})
    yield from cfg.check(ck, [gid1])
    cfa[1] = yield from ck.query(-1)
    yield from ck.join({gid2: ["a", "b", "c"]})
    yield from cfg.check(ck, [gid1, gid2])
    cfa[2] = yield from ck.query(-1)
    cfx = yield from ck.query(-1)
    _check_servers(cfg, cfx, gid1, ["x", "y", "z"])
    _check_servers(cfg, cfx, gid2, ["a", "b", "c"])
    yield from ck.leave([gid1])
    yield from cfg.check(ck, [gid2])
    cfa[4] = yield from ck.query(-1)
    yield from ck.leave([gid2])
    cfa[5] = yield from ck.query(-1)
    lines.append(cfg.end())
    if upto <= 1:
        return lines

    cfg.begin(BASIC_TITLES[1])
    for s in range(cfg.n):
        cfg.shutdown_server(s)
        for recorded in cfa:
            c = yield from ck.query(recorded.num)
            cfg.check_same_config(c, recorded)
        cfg.start_server(s)
    lines.append(cfg.end())
    if upto <= 2:
        return lines

    cfg.begin(BASIC_TITLES[2])
    gid3, gid4 = 503, 504
    yield from ck.join({gid3: ["3a", "3b", "3c"]})
    yield from ck.join({gid4: ["4a", "4b", "4c"]})
    for i in range(NSHARDS):
        cf = yield from ck.query(-1)
        target = gid3 if i < NSHARDS // 2 else gid4
        yield from ck.move(i, target)
        if cf.shards[i] != target:
            cf1 = yield from ck.query(-1)
            if cf1.num <= cf.num:
                raise cfg.fail("Move should increase Config.Num")
    cf2 = yield from ck.query(-1)
    for i in range(NSHARDS):
        target = gid3 if i < NSHARDS // 2 else gid4
        if cf2.shards[i] != target:
            raise cfg.fail(f"expected shard {i} on gid {target} actually {cf2.shards[i]}")
    yield from ck.leave([gid3])
    yield from ck.leave([gid4])
    lines.append(cfg.end())
    if upto <= 3:
        return lines

    cfg.begin(BASIC_TITLES[3])

    def joiner(i: int) -> KvTask[None]:
        cka = cfg.make_clerk()
        gid = i * 10 + 100
        yield from cka.join({gid + 1000: [f"s{gid}a"]})
        yield from cka.join({gid: [f"s{gid}b"]})
        yield from cka.leave([gid + 1000])

    handles = [spawn(cfg.loop, joiner(i), f"joiner{i}") for i in range(NPARA)]
    for handle in handles:
        yield handle.finished
    gids = [i * 10 + 100 for i in range(NPARA)]
    yield from cfg.check(ck, gids)
    lines.append(cfg.end())
    if upto <= 4:
        return lines

    cfg.begin(BASIC_TITLES[4])
    c1 = yield from ck.query(-1)
    for i in range(5):
        gid = NPARA + 1 + i
        yield from ck.join({gid: [f"{gid}a", f"{gid}b", f"{gid}b"]})
    c2 = yield from ck.query(-1)
    yield from _minimal_after_joins(cfg, ck, c1, c2, "Join()s")
    lines.append(cfg.end())
    if upto <= 5:
        return lines

    cfg.begin(BASIC_TITLES[5])
    for i in range(5):
        yield from ck.leave([NPARA + 1 + i])
    c3 = yield from ck.query(-1)
    yield from _minimal_after_leaves(cfg, ck, c2, c3, "Leave()s")
    lines.append(cfg.end())
    return lines


def multi(cfg: CtrlTester, upto: int = len(MULTI_TITLES)) -> KvTask[list[Summary]]:
    """TestMulti (scenarios §5.4)."""
    ck = cfg.make_clerk()
    lines: list[Summary] = []

    cfg.begin(MULTI_TITLES[0])
    cfa = [initial()] * 6
    cfa[0] = yield from ck.query(-1)
    yield from cfg.check(ck, [])
    gid1, gid2, gid3 = 1, 2, 3
    yield from ck.join({gid1: ["x", "y", "z"], gid2: ["a", "b", "c"]})
    yield from cfg.check(ck, [gid1, gid2])
    cfa[1] = yield from ck.query(-1)
    yield from ck.join({gid3: ["j", "k", "l"]})
    yield from cfg.check(ck, [gid1, gid2, gid3])
    cfa[2] = yield from ck.query(-1)
    cfx = yield from ck.query(-1)
    _check_servers(cfg, cfx, gid1, ["x", "y", "z"])
    _check_servers(cfg, cfx, gid2, ["a", "b", "c"])
    _check_servers(cfg, cfx, gid3, ["j", "k", "l"])
    yield from ck.leave([gid1, gid3])
    yield from cfg.check(ck, [gid2])
    cfa[3] = yield from ck.query(-1)
    cfx = yield from ck.query(-1)
    _check_servers(cfg, cfx, gid2, ["a", "b", "c"])
    yield from ck.leave([gid2])
    lines.append(cfg.end())
    if upto <= 1:
        return lines

    cfg.begin(MULTI_TITLES[1])

    def joiner(i: int) -> KvTask[None]:
        cka = cfg.make_clerk()
        gid = 1000 + i
        yield from cka.join({gid: [f"{gid}a", f"{gid}b", f"{gid}c"],
                             gid + 1000: [f"{gid + 1000}a"], gid + 2000: [f"{gid + 2000}a"]})
        yield from cka.leave([gid + 1000, gid + 2000])

    handles = [spawn(cfg.loop, joiner(i), f"joiner{i}") for i in range(NPARA)]
    for handle in handles:
        yield handle.finished
    gids = [1000 + i for i in range(NPARA)]
    yield from cfg.check(ck, gids)
    lines.append(cfg.end())
    if upto <= 2:
        return lines

    cfg.begin(MULTI_TITLES[2])
    c1 = yield from ck.query(-1)
    joined = {NPARA + 1 + i: [f"{NPARA + 1 + i}a", f"{NPARA + 1 + i}b"] for i in range(5)}
    yield from ck.join(joined)
    c2 = yield from ck.query(-1)
    yield from _minimal_after_joins(cfg, ck, c1, c2, "multijoins")
    lines.append(cfg.end())
    if upto <= 3:
        return lines

    cfg.begin(MULTI_TITLES[3])
    yield from ck.leave(list(joined))
    c3 = yield from ck.query(-1)
    yield from _minimal_after_leaves(cfg, ck, c2, c3, "multileaves")
    lines.append(cfg.end())
    if upto <= 4:
        return lines

    cfg.begin(MULTI_TITLES[4])
    found, leader = cfg.leader()
    if not found:
        raise cfg.fail("Leader not found")
    c = yield from ck.query(-1)  # the configuration the leader claims
    cfg.shutdown_server(leader)
    # The Go test's wait loop looks for a leader only once (scenarios §5.4 #5); here the
    # clerk's query simply waits until a new leader answers, which it must.
    again = yield from ck.query(-1)
    found, _ = cfg.leader()
    if not found:
        raise cfg.fail("Leader not found after the old leader was shut down")
    cfg.check_same_config(c, again)
    lines.append(cfg.end())
    return lines


Play = Callable[[CtrlTester], KvTask[list[Summary]]]


@dataclass(frozen=True, slots=True)
class CtrlRun:
    """One played scenario: its pass lines and the tester."""

    tester: CtrlTester
    summaries: tuple[Summary, ...]
    wall_seconds: float


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str  # e.g. "move_4A": the pytest name without "test_"
    go_name: str  # the Go test function and sub-test, e.g. "TestBasic/Move"
    title: str  # the sub-test's printed title
    play: Play

    def tester(self, seed: int, trace: TraceWriter | None = None) -> CtrlTester:
        return CtrlTester(seed=seed, trace=trace, scenario=self.name)

    def run(self, seed: int, trace: TraceWriter | None = None) -> CtrlRun:
        """Play the test function up to and including this sub-test under `seed`; a failed
        lab check raises CtrlTestFailure."""
        cfg = self.tester(seed, trace)
        started = time.perf_counter()
        summaries = cfg.run(self.play(cfg))
        return CtrlRun(cfg, tuple(summaries), time.perf_counter() - started)


_BASIC_NAMES = ("basic_leave_join", "historical_queries", "move", "concurrent_leave_join",
                "minimal_transfers_after_joins", "minimal_transfers_after_leaves")
_MULTI_NAMES = ("multi_group_join_leave", "concurrent_multi_leave_join",
                "minimal_transfers_after_multijoins", "minimal_transfers_after_multileaves",
                "check_same_config_on_servers")

SCENARIOS: tuple[Scenario, ...] = (
    *(Scenario(f"{name}_4A", f"TestBasic/{title[6:]}", title, partial(basic, upto=k + 1))
      for k, (name, title) in enumerate(zip(_BASIC_NAMES, BASIC_TITLES, strict=True))),
    *(Scenario(f"{name}_4A", f"TestMulti/{title[6:]}", title, partial(multi, upto=k + 1))
      for k, (name, title) in enumerate(zip(_MULTI_NAMES, MULTI_TITLES, strict=True))),
)
BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def find(name: str) -> Scenario | None:
    """A scenario by its name (e.g. move_4A) or its Go name (TestBasic/Move)."""
    for scenario in SCENARIOS:
        if name in (scenario.name, scenario.go_name):
            return scenario
    return None
