"""Measure how far legitimate simulations stay from the event loop's watchdog bounds.

For every lab scenario under a range of seeds, and for the random fault schedule under several
seeds, cluster sizes and networks, record the most work done at one virtual instant (events run
plus steps and sends charged) and the largest heap of waiting events. The watchdog's bounds
(`impl.sim.loop.MAX_WORK_PER_INSTANT`, `MAX_PENDING`) must stay far above both; this is the
script that justifies them. Prints a table, then one JSON line.
Usage: python bench/sim_watchdog_margin.py [--seeds K] [--random-seeds K]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from impl.raft.labtester import RaftTester
from impl.raft.scenarios import SCENARIOS
from impl.raft.scenarios.chaos import random_faults
from impl.sim.loop import MAX_PENDING, MAX_WORK_PER_INSTANT


def _peaks(cfg: RaftTester) -> tuple[int, int]:
    loop = cfg.loop
    return max(loop.peak_work, loop.work), max(loop.peak_pending, len(loop._heap))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 1..K per lab scenario")
    parser.add_argument("--random-seeds", type=int, default=5,
                        help="seeds per random-schedule configuration")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    for scenario in SCENARIOS:
        work = pending = 0
        for seed in range(1, args.seeds + 1):
            cfg = scenario.tester(seed)
            cfg.run(scenario.play(cfg))
            w, p = _peaks(cfg)
            work, pending = max(work, w), max(pending, p)
        rows.append({"run": scenario.name, "seeds": args.seeds, "work": work, "pending": pending})
    for servers in (3, 5, 7, 15):
        for unreliable in (False, True):
            work = pending = 0
            for seed in range(1, args.random_seeds + 1):
                cfg = RaftTester(servers, unreliable=unreliable, snapshot=seed % 2 == 1,
                                 seed=seed, scenario="random")
                cfg.run(random_faults(cfg, 30_000))
                w, p = _peaks(cfg)
                work, pending = max(work, w), max(pending, p)
            rows.append({"run": f"random {servers} servers "
                         f"{'unreliable' if unreliable else 'reliable'} 30 s",
                         "seeds": args.random_seeds, "work": work, "pending": pending})
    table = Table("run", "seeds", "most work at one instant", "largest heap",
                  title="distance from the watchdog's bounds")
    for row in rows:
        table.add_row(str(row["run"]), str(row["seeds"]), f"{row['work']:,}",
                      f"{row['pending']:,}")
    Console().print(table)
    most_work = max(int(str(r["work"])) for r in rows)
    most_pending = max(int(str(r["pending"])) for r in rows)
    print(f"bounds: {MAX_WORK_PER_INSTANT:,} work per instant ({MAX_WORK_PER_INSTANT / most_work:,.0f}x "
          f"the most seen), {MAX_PENDING:,} waiting events ({MAX_PENDING / most_pending:,.0f}x)")
    print(json.dumps({"bench": "sim_watchdog_margin", "most_work_per_instant": most_work,
                      "largest_heap": most_pending, "max_work_per_instant": MAX_WORK_PER_INSTANT,
                      "max_pending": MAX_PENDING, "runs": rows}))


if __name__ == "__main__":
    main()
