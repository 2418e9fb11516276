"""The 13 tests of the lab's sharded key/value suite (scenarios §6.2), by name.

Each `Scenario` names its lab test, the tester configuration it runs in (reliability,
maxraftstate) and the tester task that plays it (impl.shardkv.scenarios.lab). Tests,
`dscheck sim shardkv --scenario NAME` and the benchmark all run them from this one table. A
run returns its pass line and the tester, whose history holds every clerk call of the run,
the in-flight ones settled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from impl.kv.labtester import Summary
from impl.shardkv.labtester import ShardTester
from impl.shardkv.scenarios import lab
from impl.trace import TraceWriter


@dataclass(frozen=True, slots=True)
class ShardRun:
    """One played scenario: its pass lines, the tester (service, counters, history), how
    many in-flight calls were settled from the servers and how many stay unknown."""

    tester: ShardTester
    summaries: tuple[Summary, ...]
    settled: int
    unknown: int
    wall_seconds: float


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str  # e.g. "static_shards_4B": the pytest name without "test_"
    go_name: str  # e.g. "TestStaticShards"
    unreliable: bool
    maxraftstate: int
    challenge: bool
    play: lab.Play

    def tester(self, seed: int, trace: TraceWriter | None = None,
               bugs: frozenset[str] = frozenset()) -> ShardTester:
        return ShardTester(3, unreliable=self.unreliable, maxraftstate=self.maxraftstate,
                           seed=seed, trace=trace, scenario=self.name, bugs=bugs)

    def run(self, seed: int, trace: TraceWriter | None = None,
            bugs: frozenset[str] = frozenset()) -> ShardRun:
        """Play once under `seed`; a failed lab check raises ShardTestFailure."""
        cfg = self.tester(seed, trace, bugs)
        started = time.perf_counter()
        summaries = cfg.run(self.play(cfg))
        settled, unknown = cfg.settle()
        return ShardRun(cfg, tuple(summaries), settled, unknown, time.perf_counter() - started)


_U, _R = True, False
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("static_shards_4B", "TestStaticShards", _R, -1, False, lab.static_shards),
    Scenario("join_leave_4B", "TestJoinLeave", _R, -1, False, lab.join_leave),
    Scenario("snapshot_4B", "TestSnapshot", _R, 1000, False, lab.snapshot),
    Scenario("miss_change_4B", "TestMissChange", _R, 1000, False, lab.miss_change),
    Scenario("concurrent1_4B", "TestConcurrent1", _R, 100, False, lab.concurrent1),
    Scenario("concurrent2_4B", "TestConcurrent2", _R, -1, False, lab.concurrent2),
    Scenario("concurrent3_4B", "TestConcurrent3", _R, 300, False, lab.concurrent3),
    Scenario("unreliable1_4B", "TestUnreliable1", _U, 100, False, lab.unreliable1),
    Scenario("unreliable2_4B", "TestUnreliable2", _U, 100, False, lab.unreliable2),
    Scenario("unreliable3_4B", "TestUnreliable3", _U, 100, False, lab.unreliable3),
    Scenario("challenge1_delete_4B", "TestChallenge1Delete", _R, 1, True,
             lab.challenge1_delete),
    Scenario("challenge2_unaffected_4B", "TestChallenge2Unaffected", _U, 100, True,
             lab.challenge2_unaffected),
    Scenario("challenge2_partial_4B", "TestChallenge2Partial", _U, 100, True,
             lab.challenge2_partial),
)

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def find(name: str) -> Scenario | None:
    """A scenario by its name (e.g. static_shards_4B) or its Go name (TestStaticShards)."""
    for scenario in SCENARIOS:
        if name in (scenario.name, scenario.go_name):
            return scenario
    return None


__all__ = ["BY_NAME", "SCENARIOS", "Scenario", "ShardRun", "find"]
