"""Benchmark: the shard controller (4A) and sharded key/value (4B) lab suites, one seed, in one
process, audits included.

4A: the 11 sub-tests as the test suite runs them (each replays its Go test function up to
itself, then audits the clerks' history against the controller's spec), and the two Go
functions as the lab runs them (TestBasic and TestMulti whole, audited). 4B: the 13 tests
(the 3 challenges included), each simulated and its whole history audited for
linearizability with the kv model (the search, or — when its budget runs out — the groups'
order verified as a linearization; checker/kv_audit.py). Per test: wall time of the
simulation and of the audit, virtual time, calls. Totals beside the lab pages' times
(shardctrler 5.9 s, shardkv 101.5 s on the 2023 UBC page), with the load average before and
after (the machine is shared: wall times compare only at equal load). Then one JSON line.
Usage: python bench/shardkv_suite.py [--seed N] [--runs K] (K runs: medians)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from checker.kv_audit import audit
from checker.shardctrler.audit import audit as ctrl_audit
from checker.verdict import Verdict
from impl.shardctrler.scenarios import SCENARIOS as CTRL_SCENARIOS
from impl.shardkv.scenarios import SCENARIOS

LAB_PAGE_SECONDS = {"4A": 5.9, "4B": 101.5}  # shardctrler, shardkv (2023 UBC lab page)
SEARCH_BUDGET = 1.0  # as in tests/shardkv/lab.py
GO_FUNCTIONS = ("minimal_transfers_after_leaves_4A", "check_same_config_on_servers_4A")

Row = dict[str, float | int | str]


def run_4a(seed: int, names: tuple[str, ...] | None = None) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for scenario in CTRL_SCENARIOS:
        if names is not None and scenario.name not in names:
            continue
        started = time.perf_counter()
        run = scenario.run(seed)
        sim = time.perf_counter() - started
        result = ctrl_audit(run.tester.history, run.tester.witness(),
                            search_budget=SEARCH_BUDGET)
        if result.verdict is not Verdict.OK:
            raise SystemExit(f"{scenario.name} seed {seed}: history {result.verdict.value}")
        rows[scenario.name] = {"sim_s": sim, "lin_s": result.seconds,
                               "virtual_s": run.tester.now / 1000,
                               "calls": result.operations, "decided_by": result.how}
    return rows


def run_4b(seed: int) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for scenario in SCENARIOS:
        started = time.perf_counter()
        run = scenario.run(seed)
        sim = time.perf_counter() - started
        result = audit(run.tester.history, run.tester.witness(), search_budget=SEARCH_BUDGET)
        if result.verdict is not Verdict.OK:
            raise SystemExit(f"{scenario.name} seed {seed}: history {result.verdict.value}")
        rows[scenario.name] = {"sim_s": sim, "lin_s": result.seconds,
                               "virtual_s": run.tester.now / 1000,
                               "calls": result.operations, "decided_by": result.how}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="repeat K times; report medians")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    load_before = os.getloadavg()[0]
    suites = {"4A": [run_4a(args.seed) for _ in range(args.runs)],
              "4A (Go functions)": [run_4a(args.seed, GO_FUNCTIONS) for _ in range(args.runs)],
              "4B": [run_4b(args.seed) for _ in range(args.runs)]}
    load_after = os.getloadavg()[0]

    def median(runs: list[dict[str, Row]], name: str, field: str) -> float:
        return statistics.median(float(r[name][field]) for r in runs)

    console = Console()
    totals: dict[str, dict[str, float]] = {}
    for label, runs in suites.items():
        first = runs[0]
        if label != "4A (Go functions)":
            table = Table(title=f"{label} on the simulator, seed {args.seed}, median of "
                                f"{args.runs} run(s), one process")
            for column in ("test", "calls", "virtual s", "sim s", "audit s", "decided by"):
                table.add_column(column, justify="left" if column in ("test", "decided by")
                                 else "right")
            for name in first:
                table.add_row(name, str(first[name]["calls"]),
                              f"{median(runs, name, 'virtual_s'):.1f}",
                              f"{median(runs, name, 'sim_s'):.2f}",
                              f"{median(runs, name, 'lin_s'):.2f}", str(first[name]["decided_by"]))
            console.print(table)
        sim = sum(median(runs, n, "sim_s") for n in first)
        lin = sum(median(runs, n, "lin_s") for n in first)
        virtual = sum(median(runs, n, "virtual_s") for n in first)
        totals[label] = {"tests": len(first), "wall": sim + lin, "lin": lin, "virtual": virtual}
    summary = Table(title="per suite (wall = simulation + audits)")
    for column in ("suite", "tests", "wall s", "of which audits", "virtual s",
                   "virtual s / wall s", "lab page s"):
        summary.add_column(column, justify="right")
    for label, t in totals.items():
        summary.add_row(label, f"{t['tests']:.0f}", f"{t['wall']:.2f}", f"{t['lin']:.2f}",
                        f"{t['virtual']:.1f}", f"{t['virtual'] / t['wall']:.0f}",
                        f"{LAB_PAGE_SECONDS[label[:2]]:.1f}")
    console.print(summary)
    console.print(f"load {load_before:.2f} → {load_after:.2f}; target: 4B under 30 s, audits "
                  "included")
    print(json.dumps({
        "bench": "shardkv_suite", "seed": args.seed, "runs": args.runs,
        "python": platform.python_version(),
        "load_before": round(load_before, 2), "load_after": round(load_after, 2),
        "suites": {label: {"tests": t["tests"], "wall_s": round(t["wall"], 2),
                           "audits_s": round(t["lin"], 2), "virtual_s": round(t["virtual"], 1),
                           "lab_page_s": LAB_PAGE_SECONDS[label[:2]]}
                   for label, t in totals.items()},
        "tests": {name: {"wall_s": round(median(runs, name, "sim_s")
                                         + median(runs, name, "lin_s"), 3),
                         "calls": runs[0][name]["calls"]}
                  for label, runs in suites.items() if label != "4A (Go functions)"
                  for name in runs[0]},
    }))


if __name__ == "__main__":
    main()
