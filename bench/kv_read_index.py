"""Benchmark: what ReadIndex (Raft thesis §6.4; ServerConfig.read_index) saves on read-heavy
work — the virtual-time latency of gets and the growth of the Raft log.

Without ReadIndex a get is a log entry like a write: the leader appends it, replicates it,
commits it, applies it, and only then answers; every get grows the log (and, in a real
deployment, the disk and every snapshot's work). With ReadIndex the leader confirms with one
heartbeat round that it still leads, waits until it has applied up to the commit index it
recorded, and answers from its store: no entry at all.

The workload: 5 servers, CLIENTS clerks on KEYS keys, each clerk in a loop doing a get with
probability READ_FRACTION (else an append), for VIRTUAL_MS of virtual time, no snapshots (so
the log's size is its growth), no faults, and a reliable network (or, with --unreliable, the
lab's: lost and late messages) — latency here is the protocol's, not a fault schedule's.
The network's one-way latency is fixed (3 ms), so on a reliable network every call takes one
of a few exact times: a get through the log is a round trip to the clerk plus one
AppendEntries round, and usually waits for the batch in flight to a follower (flow control)
before its own; a ReadIndex get is the round trip plus one heartbeat round. Each (read fraction, mode, seed) run's history is
audited for linearizability (checker/kv_audit.py); a run that fails its audit stops the
bench. Figures are virtual time, so they do not depend on the machine's load; wall time is
shown only for completeness.

Per read fraction and mode, over the seeds (medians of per-run figures): gets and writes
completed, get latency (median and 99th percentile, virtual ms), write latency (median), log
entries (the highest index any server applied), the Raft state's bytes at the end, and the
saving in log entries and median get latency. Then one JSON line.

Usage: python bench/kv_read_index.py [--seeds K] [--seconds S] [--reads 0.5,0.9,0.99]
                                    [--unreliable]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from checker.kv_audit import audit
from checker.verdict import Verdict
from impl.kv.history import NS_PER_MS, Call
from impl.kv.labtester import KVTester
from impl.kv.tasks import KvTask, spawn

SERVERS = 5
CLIENTS = 5
KEYS = 5
SEARCH_BUDGET = 2.0  # seconds of search per audit, then the servers' order is verified


@dataclass(frozen=True)
class Figures:
    gets: int
    writes: int
    get_ms_median: float
    get_ms_p99: float
    write_ms_median: float
    log_entries: int
    raft_state_bytes: int
    wall_s: float


def client(cfg: KVTester, cli: int, read_fraction: float, stop: list[bool]) -> KvTask[None]:
    clerk = cfg.make_client(list(range(cfg.n)))
    rng = cfg.rng
    j = 0
    while not stop[0]:
        key = str(rng.randrange(KEYS))
        if rng.random() < read_fraction:
            yield from clerk.get(key)
        else:
            yield from clerk.append(key, f"x {cli} {j} y")
            j += 1
    cfg.delete_client(clerk)


def workload(cfg: KVTester, read_fraction: float, virtual_ms: int) -> KvTask[None]:
    stop = [False]
    for cli in range(CLIENTS):
        spawn(cfg.loop, client(cfg, cli, read_fraction, stop), f"client{cli}")
    yield virtual_ms
    stop[0] = True


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(seed: int, read_fraction: float, read_index: bool, virtual_ms: int,
            unreliable: bool) -> Figures:
    started = time.perf_counter()
    cfg = KVTester(SERVERS, seed=seed, read_index=read_index, scenario="read-heavy",
                   unreliable=unreliable)
    cfg.run(workload(cfg, read_fraction, virtual_ms))
    cfg.settle()
    wall = time.perf_counter() - started
    result = audit(cfg.history, cfg.witness(), search_budget=SEARCH_BUDGET)
    mode = "ReadIndex" if read_index else "log"
    if result.verdict is not Verdict.OK:
        raise SystemExit(f"seed {seed}, reads {read_fraction}, {mode}: history "
                         f"{result.verdict.value}")
    done = [c for c in cfg.history.calls if c.returned is not None and not c.settled]

    def latency(call: Call) -> float:
        assert call.returned is not None
        return (call.returned - call.invoked) / NS_PER_MS

    gets = [latency(c) for c in done if c.f == "get"]
    writes = [latency(c) for c in done if c.f != "get"]
    return Figures(
        gets=len(gets), writes=len(writes),
        get_ms_median=statistics.median(gets) if gets else 0.0,
        get_ms_p99=percentile(gets, 0.99) if gets else 0.0,
        write_ms_median=statistics.median(writes) if writes else 0.0,
        log_entries=cfg.max_index_applied(), raft_state_bytes=cfg.log_size(), wall_s=wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1..K (medians)")
    parser.add_argument("--seconds", type=float, default=10.0, help="virtual seconds per run")
    parser.add_argument("--reads", default="0.5,0.9,0.99",
                        help="read fractions, comma-separated")
    parser.add_argument("--unreliable", action="store_true",
                        help="the lab's unreliable network (lost and late messages)")
    args = parser.parse_args()
    if args.seeds < 1 or args.seconds <= 0:
        parser.error("--seeds must be at least 1 and --seconds positive")
    try:
        fractions = [float(f) for f in args.reads.split(",")]
    except ValueError:
        parser.error("--reads: comma-separated numbers in [0, 1]")
    if not all(0 <= f <= 1 for f in fractions):
        parser.error("--reads: comma-separated numbers in [0, 1]")
    virtual_ms = int(args.seconds * 1000)
    load_before = os.getloadavg()[0]
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for fraction in fractions:
        for read_index in (False, True):
            runs = [one_run(seed, fraction, read_index, virtual_ms, args.unreliable)
                    for seed in range(1, args.seeds + 1)]
            rows.setdefault(str(fraction), {})["ReadIndex" if read_index else "log"] = {
                name: round(statistics.median(float(getattr(r, name)) for r in runs), 3)
                for name in Figures.__dataclass_fields__}
    load_after = os.getloadavg()[0]
    network = "unreliable" if args.unreliable else "reliable"

    table = Table(title=f"gets by the log vs by ReadIndex: {SERVERS} servers, {CLIENTS} clerks, "
                        f"{KEYS} keys, {args.seconds:g} virtual s, {network} network, median "
                        f"of seeds 1–{args.seeds}")
    for column in ("reads", "gets by", "gets", "writes", "get ms p50", "get ms p99",
                   "write ms p50", "log entries", "raft state KB", "wall s"):
        table.add_column(column, justify="left" if column == "gets by" else "right")
    for fraction, modes in rows.items():
        for mode, f in modes.items():
            table.add_row(f"{float(fraction):.0%}", mode, f"{f['gets']:.0f}",
                          f"{f['writes']:.0f}", f"{f['get_ms_median']:.0f}",
                          f"{f['get_ms_p99']:.0f}", f"{f['write_ms_median']:.0f}",
                          f"{f['log_entries']:.0f}", f"{f['raft_state_bytes'] / 1024:.1f}",
                          f"{f['wall_s']:.2f}")
    console = Console(width=120)
    console.print(table)
    savings: dict[str, dict[str, float]] = {}
    for fraction, modes in rows.items():
        log, ri = modes["log"], modes["ReadIndex"]
        # Per operation completed: the modes complete different numbers of calls.
        entries_per_op = [m["log_entries"] / max(1.0, m["gets"] + m["writes"]) for m in (log, ri)]
        savings[fraction] = {
            "log_entries_per_call": round(entries_per_op[0], 3),
            "read_index_log_entries_per_call": round(entries_per_op[1], 3),
            "log_entries_saved_pct": round(100 * (1 - entries_per_op[1] / entries_per_op[0]), 1),
            "get_latency_saved_pct": round(
                100 * (1 - ri["get_ms_median"] / log["get_ms_median"]), 1),
        }
        console.print(
            f"reads {float(fraction):.0%}: log entries per completed call "
            f"{entries_per_op[0]:.2f} → {entries_per_op[1]:.2f} "
            f"({savings[fraction]['log_entries_saved_pct']:.0f}% fewer); median get "
            f"{log['get_ms_median']:.0f} → {ri['get_ms_median']:.0f} virtual ms "
            f"({savings[fraction]['get_latency_saved_pct']:.0f}% less)")
    console.print(f"every history audited linearizable; load {load_before:.2f} → "
                    f"{load_after:.2f}")
    print(json.dumps({
        "bench": "kv_read_index", "seeds": args.seeds, "virtual_s": args.seconds,
        "servers": SERVERS, "clients": CLIENTS, "keys": KEYS, "network": network,
        "python": platform.python_version(),
        "load_before": round(load_before, 2), "load_after": round(load_after, 2),
        "rows": rows, "savings": savings,
    }))


if __name__ == "__main__":
    main()
