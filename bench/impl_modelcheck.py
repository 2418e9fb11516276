"""Model checking the Raft cores against the spec, and hunting each fault flag.

    python bench/impl_modelcheck.py                       # speed, and every flag
    python bench/impl_modelcheck.py --flags no-step-down --hunt-budget 60
    python bench/impl_modelcheck.py --no-speed --flags commit-to-last-index   # one hunt, 240 s
    python bench/impl_modelcheck.py --all                 # campaign-only flags too (none now)

Part 1, speed: distinct states, seconds and distinct states per CPU second for the cores
(`ImplRaftModel`) and for the spec (`RaftModel`, spec.raft) at the same bounds (3 servers,
terms ≤ 2, logs ≤ 1, 1 value, ≤ 2 messages in flight, no restarts).

Part 2, per flag: the model checker's shortest counterexample at the flag's bounds
(`FLAG_BOUNDS`: its length in core events, states, CPU seconds), and a hunt (`checker.hunt`): time
to the first failing random schedule, time spent shrinking (bounded by --hunt-budget), the
faults in the shrunk schedule, and the core events its run takes up to the failure — the
unit of the model checker's steps, so their ratio compares the shrunk run with the optimum —
both for Hypothesis's shrunk schedule and after the hunt's post-pass (checker/hunt_tighten.py),
measured the same way.

Prints a table and one JSON line, with the load average and CPU seconds (the machine is
shared: figures depend on its load; say so when quoting them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from checker.hunt import hunt
from checker.modelcheck import Options, check
from checker.modelcheck.models import RaftModel
from checker.modelcheck.models.impl_raft import (
    CAMPAIGN_FLAGS,
    FLAG_BOUNDS,
    ImplRaftConfig,
    ImplRaftModel,
)
from spec import raft

SAME = {"servers": 3, "max_term": 2, "max_log": 1, "values": 1, "max_messages": 2,
        "max_restarts": 0}
LIMIT = 900.0  # seconds per model check: UNKNOWN past it, reported as such


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _timed(model: Any) -> dict[str, Any]:
    load = os.getloadavg()[0]
    cpu, wall = _cpu(), time.perf_counter()
    result = check(model, Options(time_limit=LIMIT))
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    return {"verdict": result.verdict.value, "distinct": result.distinct_states,
            "depth": result.depth, "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "per_cpu_second": round(result.distinct_states / cpu) if cpu else None,
            "load": round(load, 1),
            "length": (len(result.counterexample.steps) if result.counterexample else None),
            "invariant": (result.counterexample.invariant if result.counterexample else None)}


def speed() -> dict[str, Any]:
    """Both at SAME, without and with drops: without, a core's broadcast overfills ≤ 2 in
    flight (a candidate's RequestVotes) and the cores stop after 4 states."""
    out: dict[str, Any] = {"bounds": SAME}
    for drops in (False, True):
        key = "drops" if drops else "no drops"
        out[key] = {
            "spec": _timed(RaftModel(config=raft.Config(drops=drops, **SAME), engine="spec")),
            "core": _timed(ImplRaftModel(config=ImplRaftConfig(requests=1, drops=drops,
                                                               **SAME)))}
    return out


def flag(name: str, budget: float, examples: int, cpu_budget: bool = False) -> dict[str, Any]:
    bounds = FLAG_BOUNDS[name]
    mc = _timed(ImplRaftModel(config=ImplRaftConfig(bugs=frozenset({name}), **bounds)))
    load = os.getloadavg()[0]
    found = hunt(name, budget_s=budget, max_examples=examples, cpu_budget=cpu_budget)
    events = found.outcome.core_events if found.outcome else None
    shrunk = found.shrunk_outcome.core_events if found.shrunk_outcome else None
    return {
        "flag": name, "bounds": bounds, "model_check": mc,
        "hunt": {k: v for k, v in found.to_json().items() if k != "schedule"},
        "schedule": found.schedule.text() if found.schedule else None,
        "ratio": round(events / mc["length"], 1) if events and mc["length"] else None,
        "shrunk_ratio": round(shrunk / mc["length"], 1) if shrunk and mc["length"] else None,
        "hunt_load": [round(load, 1), round(os.getloadavg()[0], 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flags", nargs="*", default=None)
    parser.add_argument("--all", action="store_true", help="the campaign flags too")
    parser.add_argument("--hunt-budget", type=float, default=240.0)
    parser.add_argument("--hunt-examples", type=int, default=2000)
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--cpu-budget", action="store_true",
                        help="count --hunt-budget in CPU seconds of this process")
    args = parser.parse_args()
    names = args.flags if args.flags is not None else [
        f for f in FLAG_BOUNDS if args.all or f not in CAMPAIGN_FLAGS]
    out: dict[str, Any] = {"speed": None if args.no_speed else speed(), "flags": []}
    print(json.dumps({"speed": out["speed"]}), flush=True)
    for name in names:
        out["flags"].append(flag(name, args.hunt_budget, args.hunt_examples, args.cpu_budget))
        print(json.dumps(out["flags"][-1]), flush=True)  # each as it comes: runs are long
    console = Console()
    if out["speed"]:
        s = out["speed"]
        table = Table(title="distinct states per CPU second, same bounds (3 servers, terms ≤ 2,"
                            " logs ≤ 1, ≤ 2 in flight)")
        for column in ("model", "verdict", "distinct", "depth", "seconds", "CPU s",
                       "states/CPU s", "load"):
            table.add_column(column)
        for key in ("spec", "core"):
            for drops in ("no drops", "drops"):
                r = s[drops][key]
                table.add_row(f"{key}, {drops}", r["verdict"], f"{r['distinct']:,}",
                              str(r["depth"]), str(r["seconds"]), str(r["cpu_seconds"]),
                              f"{r['per_cpu_second'] or 0:,}", str(r["load"]))
        console.print(table)
    table = Table(title="each fault flag: shortest counterexample vs hunted and shrunk")
    for column in ("flag", "MC steps", "MC states", "MC CPU s", "schedules",
                   "first failure s (CPU s)", "shrink s", "shrink done", "faults first→shrunk",
                   "core events (× optimal)", "tighten s", "tightened faults",
                   "core events", "× optimal"):
        table.add_column(column)
    for f in out["flags"]:
        mc, h = f["model_check"], f["hunt"]
        table.add_row(f["flag"], str(mc["length"]), f"{mc['distinct']:,}", str(mc["cpu_seconds"]),
                      str(h["runs"]),
                      f"{h['seconds_to_first_failure']} ({h['cpu_to_first_failure']})",
                      str(h["shrink_seconds"]),
                      "yes" if h["shrink_complete"] else "budget",
                      f"{h['first_faults']}→{h['shrunk_faults']}",
                      f"{h['shrunk_core_events']} ({f['shrunk_ratio']})",
                      f"{h['tighten_seconds']}" + ("" if h["tighten_complete"] else " (budget)"),
                      str(h["faults"]), str(h["core_events"]), str(f["ratio"]))
    console.print(table)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
