"""Benchmark: how fast `dscheck check-trace` judges a long simulator trace.

Records a long random-fault run of the simulator (5 servers, unreliable network, snapshots),
then checks it a few times and reports events (global states) per second and server states
per second. Usage: python bench/trace_check_speed.py [--duration SECONDS] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.trace_check import check_trace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120.0, help="virtual seconds simulated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "long.jsonl"
        subprocess.run([sys.executable, "-m", "checker", "sim", "raft", "--servers", "5",
                        "--unreliable", "--snapshots", "--duration", str(args.duration),
                        "--seed", str(args.seed), "--trace", str(trace)],
                       cwd=ROOT, capture_output=True, check=False)
        size = trace.stat().st_size
        runs = [check_trace(trace) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r.seconds)
    median = statistics.median(r.seconds for r in runs)
    row = {
        "trace_events": best.events,
        "server_states": best.states,
        "re_evaluated": best.evaluated,
        "trace_mb": round(size / 1e6, 1),
        "seconds_best": round(best.seconds, 3),
        "seconds_median": round(median, 3),
        "events_per_s": round(best.events / best.seconds),
        "server_states_per_s": round(best.states / best.seconds),
        "verdict": best.verdict.value,
    }
    table = Table(title="check-trace speed (long simulator trace, 5 servers)")
    for key in row:
        table.add_column(key)
    table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row.values()))
    Console().print(table)
    print(json.dumps({"bench": "trace_check_speed", **row}))


if __name__ == "__main__":
    main()
