"""Benchmark: how long `dscheck prove raft` takes, for the correct spec and each bug flag.

Runs the inductiveness proof (initiation, consecution with Houdini pruning, Leader
Append-Only) at the default bounds (3 servers, terms ≤ 3, logs ≤ 1 entry, ≤ 2 messages in
flight) and reports the wall time, the rounds, and how many invariants were proved.
Usage: python bench/prove_speed.py [--bugs] [--max-term T] [--max-log L]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.invariants import ALL  # noqa: E402
from checker.proofs.ghost_invariants import GHOST_INVARIANTS  # noqa: E402
from checker.proofs.induction import prove  # noqa: E402
from spec.raft import BUGS, Config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bugs", action="store_true", help="also time each bug flag")
    parser.add_argument("--max-term", type=int, default=3)
    parser.add_argument("--max-log", type=int, default=1)
    parser.add_argument("--ghost", action="store_true",
                        help="include the ghost-variable lemmas (checker/proofs/ghost_invariants)")
    args = parser.parse_args()
    runs = [("correct", frozenset[str]())]
    if args.bugs:
        runs += [(b, frozenset({b})) for b in sorted(BUGS)]
    table = Table(title="prove raft (3 servers)")
    for col in ("spec", "seconds", "rounds", "proved", "of", "safety proved", "checks", "slowest check s"):
        table.add_column(col)
    rows = []
    for name, bugs in runs:
        config = Config(max_term=args.max_term, max_log=args.max_log, bugs=bugs,
                        max_restarts=1 if "unpersisted-vote" in bugs else 0)
        r = prove(config, invariants=ALL + GHOST_INVARIANTS if args.ghost else ALL)
        safety = [n for n in r.proved if n in ("TypeOK", "CommitIndexInLog", "ElectionSafety",
                                                "LogMatching", "LeaderCompleteness",
                                                "StateMachineSafety")]
        row = {"spec": name, "seconds": round(r.seconds, 2), "rounds": r.rounds,
               "proved": len(r.proved) + int(r.transition_proved), "of": len(r.invariants),
               "safety_proved": safety + (["LeaderAppendOnly"] if r.transition_proved else []),
               "checks": len(r.checks),
               "slowest_check_s": round(max(c.seconds for c in r.checks), 2)}
        rows.append(row)
        table.add_row(name, str(row["seconds"]), str(r.rounds), str(row["proved"]),
                      str(row["of"]), ", ".join(row["safety_proved"]), str(row["checks"]),
                      str(row["slowest_check_s"]))
    Console().print(table)
    print(json.dumps({"bench": "prove_speed", "ghost": args.ghost, "max_term": args.max_term,
                      "max_log": args.max_log, "runs": rows}))


if __name__ == "__main__":
    main()
