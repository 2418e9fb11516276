"""The 28 scenarios of the lab's Raft test suite (scenarios §3.2–3.5), by name.

Each `Scenario` names its lab test, the part label (2A–2D), the tester configuration it runs
in (servers, reliability, snapshot applier), and the tester task that plays it. Tests,
`dscheck sim raft --scenario NAME` and the benchmarks all run them from this one table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from impl.raft.core import RaftConfig
from impl.raft.labtester import RaftTester, Summary
from impl.raft.scenarios import part2a, part2b, part2c, part2d
from impl.sim.loop import Task
from impl.trace import TraceWriter


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str  # e.g. "figure8_unreliable_2C": the pytest name without "test_"
    go_name: str  # the lab's test function, e.g. "TestFigure8Unreliable2C"
    part: str  # "2A" .. "2D"
    servers: int
    unreliable: bool
    snapshot: bool
    play: Callable[[RaftTester], Task[None]]

    def run(self, seed: int, trace: TraceWriter | None = None,
            bugs: frozenset[str] = frozenset(), config: RaftConfig | None = None) -> Summary:
        """Play the scenario once under `seed`; raises RaftTestFailure if a check fails.
        `bugs`: fault flags of the core (impl.raft.bugs), none by default; `config`: the
        cores' configuration (the tester's default when None)."""
        cfg = self.tester(seed, trace, bugs, config=config)
        cfg.run(self.play(cfg))
        return cfg.end()

    def tester(self, seed: int, trace: TraceWriter | None = None,
               bugs: frozenset[str] = frozenset(),
               drop_rate: float | None = None, config: RaftConfig | None = None) -> RaftTester:
        return RaftTester(self.servers, unreliable=self.unreliable, snapshot=self.snapshot,
                          seed=seed, trace=trace, scenario=self.name, bugs=bugs,
                          drop_rate=drop_rate, config=config)


def _s(name: str, go: str, part: str, servers: int, play: Callable[[RaftTester], Task[None]],
       unreliable: bool = False, snapshot: bool = False) -> Scenario:
    return Scenario(f"{name}_{part}", go, part, servers, unreliable, snapshot, play)


SCENARIOS: tuple[Scenario, ...] = (
    _s("initial_election", "TestInitialElection2A", "2A", 3, part2a.initial_election),
    _s("re_election", "TestReElection2A", "2A", 3, part2a.re_election),
    _s("many_elections", "TestManyElections2A", "2A", 7, part2a.many_elections),
    _s("basic_agree", "TestBasicAgree2B", "2B", 3, part2b.basic_agree),
    _s("rpc_bytes", "TestRPCBytes2B", "2B", 3, part2b.rpc_bytes),
    _s("follower_failure", "TestFollowerFailure2B", "2B", 3, part2b.follower_failure),
    _s("leader_failure", "TestLeaderFailure2B", "2B", 3, part2b.leader_failure),
    _s("fail_agree", "TestFailAgree2B", "2B", 3, part2b.fail_agree),
    _s("fail_no_agree", "TestFailNoAgree2B", "2B", 5, part2b.fail_no_agree),
    _s("concurrent_starts", "TestConcurrentStarts2B", "2B", 3, part2b.concurrent_starts),
    _s("rejoin", "TestRejoin2B", "2B", 3, part2b.rejoin),
    _s("backup", "TestBackup2B", "2B", 5, part2b.backup),
    _s("count", "TestCount2B", "2B", 3, part2b.count),
    _s("persist1", "TestPersist12C", "2C", 3, part2c.persist1),
    _s("persist2", "TestPersist22C", "2C", 5, part2c.persist2),
    _s("persist3", "TestPersist32C", "2C", 3, part2c.persist3),
    _s("figure8", "TestFigure82C", "2C", 5, part2c.figure8),
    _s("unreliable_agree", "TestUnreliableAgree2C", "2C", 5, part2c.unreliable_agree,
       unreliable=True),
    _s("figure8_unreliable", "TestFigure8Unreliable2C", "2C", 5, part2c.figure8_unreliable,
       unreliable=True),
    _s("reliable_churn", "TestReliableChurn2C", "2C", 5, part2c.reliable_churn),
    _s("unreliable_churn", "TestUnreliableChurn2C", "2C", 5, part2c.unreliable_churn,
       unreliable=True),
    _s("snapshot_basic", "TestSnapshotBasic2D", "2D", 3, part2d.snapshot_basic, snapshot=True),
    _s("snapshot_install", "TestSnapshotInstall2D", "2D", 3, part2d.snapshot_install,
       snapshot=True),
    _s("snapshot_install_unreliable", "TestSnapshotInstallUnreliable2D", "2D", 3,
       part2d.snapshot_install_unreliable, unreliable=True, snapshot=True),
    _s("snapshot_install_crash", "TestSnapshotInstallCrash2D", "2D", 3,
       part2d.snapshot_install_crash, snapshot=True),
    _s("snapshot_install_uncrash", "TestSnapshotInstallUnCrash2D", "2D", 3,
       part2d.snapshot_install_uncrash, unreliable=True, snapshot=True),
    _s("snapshot_all_crash", "TestSnapshotAllCrash2D", "2D", 3, part2d.snapshot_all_crash,
       snapshot=True),
    _s("snapshot_init", "TestSnapshotInit2D", "2D", 3, part2d.snapshot_init, snapshot=True),
)

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def find(name: str) -> Scenario | None:
    """A scenario by its name, with or without the part suffix, or by its Go name."""
    for scenario in SCENARIOS:
        if name in (scenario.name, scenario.go_name, scenario.name.rsplit("_", 1)[0]):
            return scenario
    return None


__all__ = ["BY_NAME", "SCENARIOS", "Scenario", "find"]
