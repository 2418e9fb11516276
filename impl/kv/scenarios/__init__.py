"""The 23 scenarios of the lab's key/value test suite (scenarios §4.3–4.4), by name.

Each `Scenario` names its lab test, its part label (3A/3B), the tester configuration it runs
in (servers, reliability, maxraftstate) and the tester task that plays it. Tests,
`dscheck sim kv --scenario NAME` and the benchmark all run them from this one table. A run
returns its pass lines (TestOnePartition3A has three) and the tester, whose history holds
every clerk call of the run, the in-flight ones settled.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from impl.kv.labtester import KVTester, Summary
from impl.kv.scenarios import special
from impl.kv.scenarios.generic import generic
from impl.kv.tasks import KvTask
from impl.raft.core import RaftConfig
from impl.trace import TraceWriter

Play = Callable[[KVTester], KvTask[list[Summary]]]


@dataclass(frozen=True, slots=True)
class KvRun:
    """One played scenario: its pass lines, the tester (cluster, counters, history), how
    many in-flight calls were settled from the servers and how many stay unknown."""

    tester: KVTester
    summaries: tuple[Summary, ...]
    settled: int
    unknown: int
    wall_seconds: float


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str  # e.g. "persist_partition_unreliable_3A": the pytest name without "test_"
    go_name: str  # e.g. "TestPersistPartitionUnreliable3A"
    part: str  # "3A" or "3B"
    servers: int
    clients: int  # concurrent clients (besides the main clerk)
    unreliable: bool
    maxraftstate: int
    play: Play

    def tester(self, seed: int, trace: TraceWriter | None = None,
               read_index: bool = False, raft: RaftConfig | None = None) -> KVTester:
        return KVTester(self.servers, unreliable=self.unreliable,
                        maxraftstate=self.maxraftstate, seed=seed, trace=trace,
                        scenario=self.name, read_index=read_index, raft=raft)

    def run(self, seed: int, trace: TraceWriter | None = None,
            read_index: bool = False, raft: RaftConfig | None = None) -> KvRun:
        """Play once under `seed` (gets by ReadIndex if `read_index`; `raft`: the Raft
        cores' configuration, the service's default when None); a failed lab check raises
        KVTestFailure."""
        cfg = self.tester(seed, trace, read_index, raft)
        started = time.perf_counter()
        summaries = cfg.run(self.play(cfg))
        settled, unknown = cfg.settle()
        return KvRun(cfg, tuple(summaries), settled, unknown, time.perf_counter() - started)


def _generic(name: str, go: str, part: str, clients: int, servers: int, unreliable: bool,
             crash: bool, partitions: bool, maxraftstate: int,
             randomkeys: bool = False) -> Scenario:
    play = partial(generic, part=part, nclients=clients, crash=crash, partitions=partitions,
                   randomkeys=randomkeys, unreliable=unreliable)
    return Scenario(f"{name}_{part}", go, part, servers, clients, unreliable, maxraftstate,
                    play)


def _special(name: str, go: str, part: str, servers: int, clients: int, unreliable: bool,
             maxraftstate: int, play: Play) -> Scenario:
    return Scenario(f"{name}_{part}", go, part, servers, clients, unreliable, maxraftstate,
                    play)


_U, _R = True, False  # unreliable, reliable
SCENARIOS: tuple[Scenario, ...] = (
    # 3A: name, Go name, part, clients, servers, unreliable, restarts, partitions, maxraftstate
    _generic("basic", "TestBasic3A", "3A", 1, 5, _R, False, False, -1),
    _special("speed", "TestSpeed3A", "3A", 3, 1, _R, -1, partial(special.speed, part="3A")),
    _generic("concurrent", "TestConcurrent3A", "3A", 5, 5, _R, False, False, -1),
    _generic("unreliable", "TestUnreliable3A", "3A", 5, 5, _U, False, False, -1),
    _special("unreliable_one_key", "TestUnreliableOneKey3A", "3A", 3, 5, _U, -1,
             special.unreliable_one_key),
    _special("one_partition", "TestOnePartition3A", "3A", 5, 3, _R, -1,
             special.one_partition),
    _generic("many_partitions_one_client", "TestManyPartitionsOneClient3A", "3A", 1, 5, _R,
             False, True, -1),
    _generic("many_partitions_many_clients", "TestManyPartitionsManyClients3A", "3A", 5, 5, _R,
             False, True, -1),
    _generic("persist_one_client", "TestPersistOneClient3A", "3A", 1, 5, _R, True, False, -1),
    _generic("persist_concurrent", "TestPersistConcurrent3A", "3A", 5, 5, _R, True, False, -1),
    _generic("persist_concurrent_unreliable", "TestPersistConcurrentUnreliable3A", "3A", 5, 5,
             _U, True, False, -1),
    _generic("persist_partition", "TestPersistPartition3A", "3A", 5, 5, _R, True, True, -1),
    _generic("persist_partition_unreliable", "TestPersistPartitionUnreliable3A", "3A", 5, 5,
             _U, True, True, -1),
    _generic("persist_partition_unreliable_linearizable",
             "TestPersistPartitionUnreliableLinearizable3A", "3A", 15, 7, _U, True, True, -1,
             randomkeys=True),
    # 3B
    _special("snapshot_rpc", "TestSnapshotRPC3B", "3B", 3, 1, _R, 1000, special.snapshot_rpc),
    _special("snapshot_size", "TestSnapshotSize3B", "3B", 3, 1, _R, 1000,
             special.snapshot_size),
    _special("speed", "TestSpeed3B", "3B", 3, 1, _R, 1000, partial(special.speed, part="3B")),
    _generic("snapshot_recover", "TestSnapshotRecover3B", "3B", 1, 5, _R, True, False, 1000),
    _generic("snapshot_recover_many_clients", "TestSnapshotRecoverManyClients3B", "3B", 20, 5,
             _R, True, False, 1000),
    _generic("snapshot_unreliable", "TestSnapshotUnreliable3B", "3B", 5, 5, _U, False, False,
             1000),
    _generic("snapshot_unreliable_recover", "TestSnapshotUnreliableRecover3B", "3B", 5, 5, _U,
             True, False, 1000),
    _generic("snapshot_unreliable_recover_concurrent_partition",
             "TestSnapshotUnreliableRecoverConcurrentPartition3B", "3B", 5, 5, _U, True, True,
             1000),
    _generic("snapshot_unreliable_recover_concurrent_partition_linearizable",
             "TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable3B", "3B", 15, 7, _U,
             True, True, 1000, randomkeys=True),
)

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def find(name: str) -> Scenario | None:
    """A scenario by its name (e.g. basic_3A) or its Go name (TestBasic3A)."""
    for scenario in SCENARIOS:
        if name in (scenario.name, scenario.go_name):
            return scenario
    return None


__all__ = ["BY_NAME", "SCENARIOS", "KvRun", "Scenario", "find"]
