"""The demo's sharded stages: replica groups joining and leaving under faults while clerks
write, recorded, then judged by the same checkers as the other runs (DESIGN.md section 6).

1. shardkv simulate — the sharded key/value service (lab 4B: a shard controller and three
   replica groups of three servers, snapshots on) on the simulator under the random schedule
   of `dscheck sim shardkv`: groups join and leave, servers and whole groups crash and
   restart, the network is unreliable (unless `--reliable`), clients call on random keys, the
   lab's own checks on; recorded as a `shardkv` trace. A broken implementation is a
   violation of this stage, and its trace is kept and judged;
2. shardkv trace invariants — every state of that trace, in one pass: every group's Raft
   invariants (the controller's group too), the controller's properties, the key/value
   properties per group, and the sharded KV invariants of checker/invariants/shardkv.py on
   the view rebuilt after each step (`checker.trace_check`): exactly what
   `dscheck check-trace TRACE` does;
3. shardkv linearizability — the clerks' calls read from the trace itself (calls in flight at
   the end settled from the groups' applies), across every reconfiguration, audited against
   the kv model: exactly what `dscheck lin TRACE` does.

Stages 2 and 3 are `checker.demo.judges`, which the key/value and sharded stages share.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker.demo.stage import Stage
from checker.verdict import Verdict
from impl.files import open_atomically

if TYPE_CHECKING:
    from checker.demo.run import DemoSettings

SHARD_SERVERS = 3  # per replica group, as in the lab
SHARD_CLIENTS = 5
SHARD_MAXRAFTSTATE = 1000  # snapshots, as in most of the lab's 4B tests


def shardkv_trace_path(settings: DemoSettings, seed: int) -> Path:
    name = "shardkv-trace.jsonl" if settings.seeds == 1 else f"shardkv-trace-seed{seed}.jsonl"
    return settings.out / name


def simulate_shardkv(settings: DemoSettings, seed: int, trace_path: Path) -> Stage:
    # Imported here: the simulator is the implementation, loaded only by the stage that runs it.
    from impl.shardkv.scenarios.chaos import simulate
    from impl.trace import TraceWriter

    started = time.perf_counter()
    with open_atomically(trace_path) as sink:
        run = simulate(seed=seed, servers=SHARD_SERVERS, clients=SHARD_CLIENTS,
                       unreliable=settings.unreliable, maxraftstate=SHARD_MAXRAFTSTATE,
                       duration_ms=settings.duration_ms, trace=TraceWriter(sink))
    cfg = run.tester
    figures: dict[str, Any] = {
        "virtual_seconds": cfg.now / 1000, "groups": list(cfg.gids),
        "servers_per_group": SHARD_SERVERS, "clients": SHARD_CLIENTS,
        "maxraftstate": SHARD_MAXRAFTSTATE, "calls": len(cfg.history.calls),
        "applies": cfg.applies, "rpcs": cfg.rpc_total(),
        "messages_dropped": cfg.net.stats.dropped,
        "fault": run.fault.to_json() if run.fault is not None else None,
    }
    figures.update(_count(trace_path))
    verdict = Verdict.OK if run.failure is None else Verdict.VIOLATION
    finding = (
        f"{figures['virtual_seconds']:.1f} virtual s, {len(figures['groups'])} groups: "
        f"{figures['joins']} joins, {figures['leaves']} leaves, {figures['crashes']} crashes, "
        f"{figures['messages_dropped']:,} messages lost, {figures['shards_moved']} shards "
        f"handed over, {figures['calls']:,} clerk calls; "
        + ("every lab check held" if run.failure is None else run.failure))
    return Stage("shardkv simulate", verdict, finding, time.perf_counter() - started, figures,
                 (str(trace_path),), seed=seed)


def _count(trace_path: Path) -> dict[str, int]:
    """The reconfigurations, faults and handoffs of the run, counted from its trace."""
    counts = {"joins": 0, "leaves": 0, "crashes": 0, "network_changes": 0, "shards_moved": 0}
    keys = {'"op":{"type":"join"': "joins", '"op":{"type":"leave"': "leaves",
            '"event":"crash"': "crashes", '"event":"network"': "network_changes"}
    with trace_path.open(encoding="utf-8") as lines:
        installs: set[str] = set()
        for line in lines:
            # Cheap substring tests: the writer's key order and spacing are fixed.
            for needle, key in keys.items():
                if needle in line:
                    counts[key] += 1
                    break
            else:
                at = line.find('"command":["install",')
                if at >= 0 and '"executed":true' in line:
                    # Each replica applies it: one handover per (group, configuration, shard).
                    node = line[line.find('"node":"') + 8:].split('"', 1)[0]
                    group = node.rsplit("-", 1)[0]
                    installs.add(group + line[at:].split(",{", 1)[0])
        counts["shards_moved"] = len(installs)
    return counts
