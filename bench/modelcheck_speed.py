"""Model-checking speed: distinct states per second (1 process, all cores), time to exhaust
the default configuration, and the raft.tla comparison configuration (TLC: 2,187,261 distinct
states, depth 54, 215 s with 2 workers).

    python bench/modelcheck_speed.py                  # the default and raft.tla configs
    python bench/modelcheck_speed.py --quick          # small configurations only
    python bench/modelcheck_speed.py --in-flight-3    # also ≤ 3 in flight (about half an hour)

Prints a rich table and one JSON line, with the load average before/after each run and the CPU
seconds it used (workers included): figures depend on the machine's load, say so.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from checker.modelcheck import Options, check
from checker.modelcheck.models import RaftModel
from spec import raft

TLC_REFERENCE = {"distinct_states": 2_187_261, "depth": 54, "seconds": 215.0, "workers": 2}


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(label: str, model: RaftModel, options: Options) -> dict[str, object]:
    # The machine is shared: the load average before and after, and the CPU seconds spent
    # (this process and its reaped workers), say how much of the wall time was ours.
    load_before, cpu_before = os.getloadavg()[0], _cpu_seconds()
    result = check(model, options)
    cpu = _cpu_seconds() - cpu_before
    return {
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "cpu_seconds": round(cpu, 2),
        "label": label,
        "engine": model.engine_used,
        "model": model.semantics,
        "workers": options.workers,
        "verdict": result.verdict.value,
        "distinct_states": result.distinct_states,
        "states_generated": result.states_generated,
        "depth": result.depth,
        "seconds": round(result.seconds, 2),
        "distinct_per_second": round(result.distinct_states / max(result.seconds, 1e-9)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small configurations only")
    parser.add_argument("--skip-tla", action="store_true", help="skip the raft.tla comparison")
    parser.add_argument(
        "--in-flight-3",
        action="store_true",
        help="also exhaust the raft.tla configuration with ≤ 3 messages in flight (long)",
    )
    parser.add_argument(
        "--spec-engine",
        action="store_true",
        help="also run the raft.tla configuration on the readable spec's engine (slow)",
    )
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    rows = []
    # A fresh model per run: the packed model memoises property verdicts, and a second run on
    # the same model object would start with the first one's memo.
    small = raft.Config(max_term=2)
    rows.append(run("terms ≤ 2", RaftModel(config=small), Options(workers=1)))
    if cores > 1:
        rows.append(run("terms ≤ 2", RaftModel(config=small), Options(workers=cores)))
    tla_small = raft.Config(servers=3, max_term=2, max_log=1, values=1, max_messages=1)
    for engine in ("packed", "spec"):
        model = RaftModel(config=tla_small, semantics="raft-tla-clean-bag", engine=engine)
        rows.append(run(f"raft.tla ≤ 1 in flight, {engine} engine", model, Options()))
    if not args.quick:
        rows.append(run("default config, exhaust", RaftModel(), Options(workers=1)))
    if not (args.quick or args.skip_tla):
        tla = raft.Config(servers=3, max_term=2, max_log=1, values=1, max_messages=2)
        engines = ("packed", "spec") if args.spec_engine else ("packed",)
        for engine in engines:
            for workers in sorted({1, cores}):
                model = RaftModel(config=tla, semantics="raft-tla-clean-bag", engine=engine)
                options = Options(workers=workers)
                rows.append(run(f"raft.tla ≤ 2 in flight, {engine} engine", model, options))
        if args.in_flight_3:
            tla3 = RaftModel(config=replace(tla, max_messages=3), semantics="raft-tla-clean-bag")
            rows.append(run("raft.tla ≤ 3 in flight, packed engine", tla3, Options(workers=cores)))
    table = Table(title=f"dscheck model-check speed ({cores} cores, load {os.getloadavg()[0]:.1f})")
    for column in (
        "run",
        "workers",
        "verdict",
        "distinct",
        "generated",
        "depth",
        "s",
        "CPU s",
        "distinct/s",
        "load before/after",
    ):
        table.add_column(column, justify="right" if column != "run" else "left")
    for r in rows:
        table.add_row(
            str(r["label"]),
            str(r["workers"]),
            str(r["verdict"]),
            f"{r['distinct_states']:,}",
            f"{r['states_generated']:,}",
            str(r["depth"]),
            str(r["seconds"]),
            str(r["cpu_seconds"]),
            f"{r['distinct_per_second']:,}",
            f"{r['load_before']} / {r['load_after']}",
        )
    table.add_row(
        "TLC on raft.tla (reference)", "2", "ok", "2,187,261", "18.7 M", "54", "215", "", "10,173"
    )
    Console(width=140).print(table)
    print(
        json.dumps(
            {
                "bench": "modelcheck_speed",
                "cores": cores,
                "load": os.getloadavg()[0],
                "runs": rows,
                "tlc_reference": TLC_REFERENCE,
            }
        )
    )


if __name__ == "__main__":
    main()
