"""Benchmark: the whole Raft 2A–2D lab suite, one seed, in one process, on the simulator.

Prints, per part and in total, the wall time, the virtual time simulated, virtual seconds per
wall second, and the Go lab's published real time for the same part; then one JSON line.
Usage: python bench/raft_suite.py [--seed N] [--seeds K]   (K seeds: figures are per seed)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from impl.raft.scenarios import SCENARIOS

GO_LAB_SECONDS = {"2A": 16.0, "2B": 36.0, "2C": 124.0, "2D": 294.0}  # the lab's published times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=1, help="run seeds seed..seed+K-1")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    seeds = range(args.seed, args.seed + args.seeds)
    parts: dict[str, dict[str, float]] = {}
    scenarios: dict[str, dict[str, float]] = {}
    for scenario in SCENARIOS:
        for seed in seeds:
            started = time.perf_counter()
            summary = scenario.run(seed)
            wall = time.perf_counter() - started
            part = parts.setdefault(scenario.part, {"wall": 0.0, "virtual": 0.0, "tests": 0})
            part["wall"] += wall / len(seeds)
            part["virtual"] += summary.virtual_ms / 1000 / len(seeds)
            part["tests"] += 1 / len(seeds)
            row = scenarios.setdefault(scenario.name, {"wall": 0.0, "virtual": 0.0})
            row["wall"] += wall / len(seeds)
            row["virtual"] += summary.virtual_ms / 1000 / len(seeds)

    table = Table(title=f"Raft 2A–2D lab suite on the simulator (per seed, seeds {list(seeds)})")
    for column in ("part", "tests", "wall s", "virtual s", "virtual s / wall s", "Go lab s",
                   "speed-up vs Go"):
        table.add_column(column, justify="right")
    total = {"wall": 0.0, "virtual": 0.0, "tests": 0.0}
    for name, part in parts.items():
        for key in total:
            total[key] += part[key]
        table.add_row(name, f"{part['tests']:.0f}", f"{part['wall']:.2f}", f"{part['virtual']:.1f}",
                      f"{part['virtual'] / part['wall']:.0f}", f"{GO_LAB_SECONDS[name]:.0f}",
                      f"{GO_LAB_SECONDS[name] / part['wall']:.0f}×")
    go_total = sum(GO_LAB_SECONDS.values())
    table.add_row("total", f"{total['tests']:.0f}", f"{total['wall']:.2f}",
                  f"{total['virtual']:.1f}", f"{total['virtual'] / total['wall']:.0f}",
                  f"{go_total:.0f}", f"{go_total / total['wall']:.0f}×")
    Console().print(table)
    slowest = sorted(scenarios.items(), key=lambda kv: -kv[1]["wall"])[:5]
    Console().print("slowest scenarios: " + ", ".join(f"{n} {r['wall']:.2f} s" for n, r in slowest))
    print(json.dumps({
        "bench": "raft_suite", "seeds": list(seeds), "python": platform.python_version(),
        "parts": {k: {"wall_s": round(v["wall"], 3), "virtual_s": round(v["virtual"], 1),
                      "tests": int(v["tests"]), "go_lab_s": GO_LAB_SECONDS[k]}
                  for k, v in parts.items()},
        "total_wall_s": round(total["wall"], 3), "total_virtual_s": round(total["virtual"], 1),
        "virtual_per_wall": round(total["virtual"] / total["wall"], 1),
        "go_lab_total_s": go_total,
    }))


if __name__ == "__main__":
    main()
