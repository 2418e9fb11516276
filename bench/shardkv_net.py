"""Benchmark: the sharded key/value service's throughput over the network, one replica group
against two (issue 15's sharded runtime).

Two sharded clusters run side by side on loopback, each with the shard controller's three
servers: one with one replica group of 3 servers, one with two (gids 100 and 101, the
shards split five and five). The same closed-loop load — 16 clerks in this process, each one
call at a time, 100-byte values, 20 keys spread over the ten shards — measures puts, then
gets (answered by ReadIndex, the servers' default: a heartbeat round of the key's group, no
log entry). Rounds interleave the two clusters row by row and each figure is the median
over rounds; the load average is printed before and after, and every group leader's CPU
seconds per 1,000 calls (from /proc) say whether a group is CPU-bound. Then the table and
one JSON line.

Usage: python bench/shardkv_net.py [--duration S] [--rounds R] [--clients N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from impl.net.clerk import NetClerk
from impl.net.load import LoadSettings, run_load
from impl.net.local import LocalCluster, wait_for_leaders
from impl.net.server import run_loop

KINDS = ("put", "get")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(directory: Path, groups: int) -> LocalCluster:
    cluster = LocalCluster.create_sharded(directory, groups, 3)
    cluster.start_all()
    leaders = run_loop(wait_for_leaders(cluster, 60.0))
    if any(s is None for s in leaders.values()):
        cluster.stop_all()
        raise SystemExit(f"no leader in some group of the {groups}-group cluster: {leaders}")
    sharded = cluster.sharded
    assert sharded is not None

    async def join() -> None:
        clerk = NetClerk(sharded, controller=True)
        try:
            await clerk.run(lambda core: core.join({g: sharded.names(g)
                                                    for g in sharded.gids()}))
        finally:
            clerk.close()
    run_loop(join())
    return cluster


def one_row(cluster: LocalCluster, kind: str, clients: int, duration: float) -> dict[str, Any]:
    sharded = cluster.sharded
    assert sharded is not None
    pids = {str(n): p.pid for n, p in cluster.procs.items() if str(n).startswith("server")}
    before = {n: cpu_seconds(p) for n, p in pids.items()}
    settings = LoadSettings(clients=clients, duration=duration, keys=20, value_size=100,
                            mix=((kind, 1.0),))
    result = run_loop(run_load(sharded, settings))
    cpu = {n: cpu_seconds(p) - before[n] for n, p in pids.items()}
    summary = result.summary()
    calls = max(1, summary["calls"])
    return {"per_second": summary["per_second"], "p50_ms": summary["all"].get("p50_ms"),
            "p99_ms": summary["all"].get("p99_ms"), "calls": summary["calls"],
            "busiest_cpu_s_per_1000": round(max(cpu.values()) * 1000 / calls, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()
    load_before = os.getloadavg()
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="shardkv-net-") as tmp:
        clusters = {}
        try:
            for groups in (1, 2):
                clusters[groups] = start(Path(tmp) / f"g{groups}", groups)
            for _ in range(args.rounds):
                for kind in KINDS:
                    for groups, cluster in clusters.items():
                        runs.setdefault((kind, groups), []).append(
                            one_row(cluster, kind, args.clients, args.duration))
        finally:
            for cluster in clusters.values():
                cluster.stop_all()
    load_after = os.getloadavg()
    table = Table(title=f"sharded KV over TCP, {args.clients} clients, median of "
                        f"{args.rounds} rounds of {args.duration:g} s")
    for column in ("call", "groups", "calls/s", "p50 ms", "p99 ms", "2 groups ÷ 1",
                   "busiest server CPU s / 1000 calls"):
        table.add_column(column, justify="left" if column == "call" else "right")
    rows = []
    for kind in KINDS:
        for groups in (1, 2):
            got = runs[(kind, groups)]
            row = {"call": kind, "groups": groups, "clients": args.clients,
                   **{k: statistics.median(r[k] for r in got if r[k] is not None)
                      for k in ("per_second", "p50_ms", "p99_ms", "busiest_cpu_s_per_1000")},
                   "rounds": [r["per_second"] for r in got]}
            rows.append(row)
        one, two = rows[-2]["per_second"], rows[-1]["per_second"]
        rows[-1]["ratio"] = round(two / one, 2) if one else None
        for row in rows[-2:]:
            table.add_row(kind, str(row["groups"]), f"{row['per_second']:,.0f}",
                          f"{row['p50_ms']:.2f}", f"{row['p99_ms']:.1f}",
                          f"{row['ratio']:.2f}" if row.get("ratio") else "",
                          f"{row['busiest_cpu_s_per_1000']:.3f}")
    console = Console()
    console.print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} "
                  f"({os.cpu_count()} cores)")
    console.print(table)
    line = json.dumps({"bench": "shardkv_net", "duration": args.duration,
                       "rounds": args.rounds, "load_before": load_before[0],
                       "load_after": load_after[0], "rows": rows})
    print(line)
    if args.json_path:
        Path(args.json_path).write_text(line + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
