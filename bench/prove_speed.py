"""Benchmark: how long `dscheck prove raft` takes, for the correct spec and each bug flag.

Runs the inductiveness proof (initiation, consecution with Houdini pruning, Leader
Append-Only) at the given bounds (default: 3 servers, terms ≤ 3, logs ≤ 1 entry, ≤ 2 messages
in flight, with the ghost lemmas) `--runs` times and reports the median wall time, the CPU
seconds (this process and the workers), the load average before and after (the machine is
shared: wall time is only comparable at equal load), the rounds, and how much was proved.
Usage: python bench/prove_speed.py [--runs 3] [--workers N] [--no-ghost] [--snapshots]
                                   [--bugs] [--servers S] [--max-term T] [--max-log L]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.proofs.induction import candidate_invariants, prove  # noqa: E402
from checker.proofs.parallel import available_cores  # noqa: E402
from spec.raft import BUGS, Config  # noqa: E402

SAFETY = ("TypeOK", "CommitIndexInLog", "ElectionSafety", "LogMatching", "LeaderCompleteness",
          "StateMachineSafety")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per spec (median reported)")
    parser.add_argument("--workers", type=int, default=available_cores())
    parser.add_argument("--bugs", action="store_true", help="also time each bug flag")
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--max-term", type=int, default=3)
    parser.add_argument("--max-log", type=int, default=1)
    parser.add_argument("--snapshots", action="store_true")
    parser.add_argument("--no-ghost", action="store_true",
                        help="leave out the ghost-variable lemmas (checker/proofs/ghost_invariants)")
    args = parser.parse_args()
    runs = [("correct", frozenset[str]())]
    if args.bugs:
        runs += [(b, frozenset({b})) for b in sorted(BUGS)]
    table = Table(title=f"prove raft ({args.servers} servers, {args.workers} worker(s), "
                        f"median of {args.runs})")
    for col in ("spec", "wall s", "CPU s", "load before→after", "rounds", "proved", "of",
                "safety proved", "slowest check s"):
        table.add_column(col)
    rows = []
    for name, bugs in runs:
        config = Config(servers=args.servers, max_term=args.max_term, max_log=args.max_log,
                        snapshots=args.snapshots, bugs=bugs,
                        max_restarts=1 if "unpersisted-vote" in bugs else 0)
        candidates = candidate_invariants(config, ghost=not args.no_ghost)
        walls, cpus, loads = [], [], []
        for _ in range(args.runs):
            before = os.getloadavg()[0]
            r = prove(config, invariants=candidates, workers=args.workers)
            walls.append(r.seconds)
            cpus.append(r.cpu_seconds)
            loads.append((before, os.getloadavg()[0]))
        safety = [n for n in r.proved if n in SAFETY] + (
            ["LeaderAppendOnly"] if r.transition_proved else [])
        row: dict[str, object] = {"spec": name, "seconds": round(statistics.median(walls), 2),
               "seconds_all": [round(w, 2) for w in walls],
               "cpu_seconds": round(statistics.median(cpus), 2),
               "load_1min": [[round(a, 2), round(b, 2)] for a, b in loads],
               "rounds": r.rounds, "proved": len(r.proved) + int(r.transition_proved),
               "of": len(r.invariants),
               "safety_proved": safety,
               "slowest_check_s": round(max(c.seconds for c in r.checks), 2)}
        rows.append(row)
        table.add_row(name, str(row["seconds"]), str(row["cpu_seconds"]),
                      ", ".join(f"{a:.1f}→{b:.1f}" for a, b in loads), str(r.rounds),
                      str(row["proved"]), str(row["of"]), ", ".join(safety),
                      str(row["slowest_check_s"]))
    Console().print(table)
    print(json.dumps({"bench": "prove_speed", "ghost": not args.no_ghost,
                      "workers": args.workers, "servers": args.servers,
                      "max_term": args.max_term, "max_log": args.max_log,
                      "snapshots": args.snapshots, "cores": available_cores(), "runs": rows}))


if __name__ == "__main__":
    main()
