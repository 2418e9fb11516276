"""Benchmark: the sharded KV spec — `model-check shardkv` (distinct states per second, time to
exhaust) and `prove shardkv` (the inductive proof's time), plus `model-check shardctrler` and
`check-rebalance`'s Z3 minimality check per step.

    python bench/shardkv_speed.py                 # defaults, median of 3 runs each
    python bench/shardkv_speed.py --runs 1 --bigger   # also --calls 3 (318k states)

Prints a rich table and one JSON line. The machine is shared: each row carries the 1-minute
load average before and after and the CPU seconds used, so wall times can be compared at equal
load only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from checker.modelcheck import Options, check
from checker.modelcheck.models import ShardCtrlerModel, ShardKVModel
from checker.proofs.shardkv.induction import prove
from checker.shardctrler.minimality import judge
from spec import shardctrler, shardkv


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure(label: str, runs: int, job: Callable[[], dict[str, object]]) -> dict[str, object]:
    walls, cpus, loads, last = [], [], [], {}
    for _ in range(runs):
        load, cpu, start = os.getloadavg()[0], _cpu(), time.perf_counter()
        last = job()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
        loads.append([round(load, 2), round(os.getloadavg()[0], 2)])
    return {"label": label, "seconds": round(statistics.median(walls), 2),
            "seconds_all": [round(w, 2) for w in walls],
            "cpu_seconds": round(statistics.median(cpus), 2), "load_1min": loads, **last}


def model_check(config: shardkv.Config) -> Callable[[], dict[str, object]]:
    def job() -> dict[str, object]:
        r = check(ShardKVModel(config=config), Options())
        return {"verdict": r.verdict.value, "distinct_states": r.distinct_states,
                "depth": r.depth,
                "distinct_per_second": round(r.distinct_states / max(r.seconds, 1e-9))}
    return job


def proof(config: shardkv.Config) -> Callable[[], dict[str, object]]:
    def job() -> dict[str, object]:
        r = prove(config)
        return {"verdict": r.verdict.value, "proved": len(r.proved), "of": len(r.invariants),
                "rounds": r.rounds}
    return job


def controller() -> dict[str, object]:
    r = check(ShardCtrlerModel(), Options())
    return {"verdict": r.verdict.value, "distinct_states": r.distinct_states,
            "distinct_per_second": round(r.distinct_states / max(r.seconds, 1e-9))}


def rebalance_steps() -> dict[str, object]:
    """Z3's minimality check on the steps of a 12-operation sequence up to 11 groups."""
    ops: list[shardctrler.Change] = [shardctrler.Join.of({g: ("s",)}) for g in range(1, 12)]
    ops.append(shardctrler.Leave.of(range(1, 9)))
    history = shardctrler.run(ops)
    verdicts = [judge(b.shards, a.shards, a.gids).verdict.value
                for b, a in itertools.pairwise(history)]
    return {"verdict": "ok" if set(verdicts) == {"ok"} else "not ok", "steps": len(verdicts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per row (median reported)")
    parser.add_argument("--bigger", action="store_true", help="also --calls 3 (model check)")
    args = parser.parse_args()
    rows = [
        measure("model-check shardkv (defaults)", args.runs, model_check(shardkv.Config())),
        measure("prove shardkv (defaults)", args.runs, proof(shardkv.Config())),
        measure("prove shardkv (1 clerk, 1 call, ≤ 2 in flight)", args.runs,
                proof(shardkv.Config(clerks=1, calls=1, max_messages=2))),
        measure("model-check shardctrler (defaults)", args.runs, controller),
        measure("check-rebalance: 12 steps, Z3", args.runs, rebalance_steps),
    ]
    if args.bigger:
        rows.append(measure("model-check shardkv --calls 3", args.runs,
                            model_check(shardkv.Config(calls=3))))
    table = Table(title=f"sharded KV specs (median of {args.runs}, 1 process)")
    for col in ("what", "verdict", "wall s", "CPU s", "load before→after", "states",
                "states/s"):
        table.add_column(col)
    for row in rows:
        table.add_row(str(row["label"]), str(row["verdict"]), str(row["seconds"]),
                      str(row["cpu_seconds"]),
                      ", ".join(f"{a}→{b}" for a, b in row["load_1min"]),  # type: ignore[attr-defined]
                      f"{row['distinct_states']:,}" if "distinct_states" in row else "-",
                      f"{row['distinct_per_second']:,}" if "distinct_per_second" in row else "-")
    Console(width=150).print(table)
    print(json.dumps({"bench": "shardkv_speed", "runs": rows}))


if __name__ == "__main__":
    main()
