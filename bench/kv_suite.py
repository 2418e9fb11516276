"""Benchmark: the whole key/value 3A–3B lab suite, one seed, in one process, audits included.

For each of the 23 scenarios: the wall time of the simulation and of the linearizability
audit of its whole history (the search, or — when its budget runs out — the servers' order
verified as a linearization; checker/kv_audit.py), the virtual time simulated, the calls
recorded. Then per part and in total, with virtual seconds per wall second, beside the Go
lab's times (the seed's own Go run here: 386 s for the 23 tests; the lab pages: 3A 290 s,
3B 162 s), the largest history checked and how long its check took, and the load average
before and after (the machine is shared: wall times compare only at equal load). Then one
JSON line. Usage: python bench/kv_suite.py [--seed N] [--runs K] (K runs: medians)
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
from checker.verdict import Verdict
from impl.kv.scenarios import SCENARIOS

GO_LAB_SECONDS = {"3A": 290.0, "3B": 162.0}  # the lab pages' times for the parts
GO_SEED_RUN_SECONDS = 386.0  # the seed's Go run on this machine, 23 tests
SEARCH_BUDGET = 1.0  # as in tests/kv/lab.py


def one_run(seed: int) -> dict[str, dict[str, float | int | str]]:
    rows: dict[str, dict[str, float | int | str]] = {}
    for scenario in SCENARIOS:
        started = time.perf_counter()
        run = scenario.run(seed)
        sim = time.perf_counter() - started
        result = audit(run.tester.history, run.tester.witness(), search_budget=SEARCH_BUDGET)
        if result.verdict is not Verdict.OK:
            raise SystemExit(f"{scenario.name} seed {seed}: history {result.verdict.value}")
        rows[scenario.name] = {
            "part": scenario.part, "sim_s": sim, "lin_s": result.seconds,
            "virtual_s": run.tester.now / 1000, "calls": result.operations,
            "decided_by": result.how}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="repeat K times; report medians")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    load_before = os.getloadavg()[0]
    runs = [one_run(args.seed) for _ in range(args.runs)]
    load_after = os.getloadavg()[0]

    def median(name: str, field: str) -> float:
        return statistics.median(float(r[name][field]) for r in runs)

    names = [s.name for s in SCENARIOS]
    first = runs[0]
    table = Table(title=f"kvraft 3A–3B on the simulator, seed {args.seed}, median of "
                        f"{args.runs} run(s), one process")
    for column in ("scenario", "calls", "virtual s", "sim s", "audit s", "decided by"):
        table.add_column(column, justify="left" if column in ("scenario", "decided by")
                         else "right")
    for name in names:
        table.add_row(name, str(first[name]["calls"]), f"{median(name, 'virtual_s'):.1f}",
                      f"{median(name, 'sim_s'):.2f}", f"{median(name, 'lin_s'):.2f}",
                      str(first[name]["decided_by"]))
    Console().print(table)

    parts: dict[str, dict[str, float]] = {}
    for name in names:
        part = parts.setdefault(str(first[name]["part"]), {"sim": 0.0, "lin": 0.0,
                                                           "virtual": 0.0, "tests": 0})
        part["sim"] += median(name, "sim_s")
        part["lin"] += median(name, "lin_s")
        part["virtual"] += median(name, "virtual_s")
        part["tests"] += 1
    totals = Table(title="per part (wall = simulation + audits)")
    for column in ("part", "tests", "wall s", "of which audits", "virtual s",
                   "virtual s / wall s", "Go lab s"):
        totals.add_column(column, justify="right")
    wall_total = virtual_total = lin_total = 0.0
    for name, part in parts.items():
        wall = part["sim"] + part["lin"]
        wall_total += wall
        lin_total += part["lin"]
        virtual_total += part["virtual"]
        totals.add_row(name, f"{part['tests']:.0f}", f"{wall:.2f}", f"{part['lin']:.2f}",
                       f"{part['virtual']:.1f}", f"{part['virtual'] / wall:.0f}",
                       f"{GO_LAB_SECONDS[name]:.0f}")
    totals.add_row("total", str(len(names)), f"{wall_total:.2f}", f"{lin_total:.2f}",
                   f"{virtual_total:.1f}", f"{virtual_total / wall_total:.0f}",
                   f"{sum(GO_LAB_SECONDS.values()):.0f} (seed's run: {GO_SEED_RUN_SECONDS:.0f})")
    Console().print(totals)
    largest = max(names, key=lambda n: int(first[n]["calls"]))
    slowest = max(names, key=lambda n: median(n, "lin_s"))
    Console().print(f"largest history: {largest}, {first[largest]['calls']} calls, checked in "
                    f"{median(largest, 'lin_s'):.2f} s; slowest audit: {slowest}, "
                    f"{median(slowest, 'lin_s'):.2f} s (decided by "
                    f"{first[slowest]['decided_by']}); load {load_before:.2f} → {load_after:.2f}")
    print(json.dumps({
        "bench": "kv_suite", "seed": args.seed, "runs": args.runs,
        "python": platform.python_version(),
        "load_before": round(load_before, 2), "load_after": round(load_after, 2),
        "total_wall_s": round(wall_total, 2), "audits_wall_s": round(lin_total, 2),
        "total_virtual_s": round(virtual_total, 1),
        "virtual_per_wall": round(virtual_total / wall_total, 1),
        "parts": {k: {"wall_s": round(v["sim"] + v["lin"], 2), "audits_s": round(v["lin"], 2),
                      "virtual_s": round(v["virtual"], 1), "go_lab_s": GO_LAB_SECONDS[k]}
                  for k, v in parts.items()},
        "largest_history": {"scenario": largest, "calls": first[largest]["calls"],
                            "check_s": round(median(largest, "lin_s"), 3)},
        "slowest_audit": {"scenario": slowest, "check_s": round(median(slowest, "lin_s"), 3),
                          "decided_by": first[slowest]["decided_by"]},
        "go_seed_run_s": GO_SEED_RUN_SECONDS,
        "scenarios": {n: {"wall_s": round(median(n, "sim_s") + median(n, "lin_s"), 3),
                          "calls": first[n]["calls"]} for n in names},
    }))


if __name__ == "__main__":
    main()
