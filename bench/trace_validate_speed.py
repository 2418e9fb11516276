"""Benchmark: how fast trace validation judges long simulator traces, and how many events
needed a search.

Records long random-fault runs of the simulator (5 servers, unreliable network, snapshots),
then validates each several times: alone (`checker.validation.engine.validate_trace`, one
process, reading and parsing the file included) and riding along `dscheck check-trace`'s
invariant pass (what it adds to the pass: the pass with validation minus the pass without).
Times are CPU seconds of the process (the machine is shared). Reports events validated per
CPU second (median of the repeats, per trace), the share of events that needed a search
among candidate actions, and the load average.
Usage: python bench/trace_validate_speed.py [--duration SECONDS] [--seeds N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.trace_check import check_trace  # noqa: E402
from checker.trace_check.reader import Event, Header  # noqa: E402
from checker.validation.engine import Validation, binding_for, validate_trace  # noqa: E402


def cpu(work: Callable[[], object]) -> float:
    """CPU seconds of this process spent in `work` (the machine is shared: wall time would
    measure the other jobs too)."""
    start = time.process_time()
    work()
    return time.process_time() - start


def with_validation(path: Path) -> None:
    """One `dscheck check-trace` pass, invariants and validation."""
    validations: list[Validation] = []

    def observe(header: Header) -> Callable[[Event], None]:
        binding = binding_for(header.system)
        assert binding is not None
        validation = Validation(binding, header, str(path), check_types=False)
        validations.append(validation)
        return validation.feed

    check_trace(path, observe=observe)
    assert validations[0].finish(fill=False).mismatch is None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=100.0, help="virtual seconds")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.seeds + 1):
            trace = Path(tmp) / f"long{seed}.jsonl"
            subprocess.run([sys.executable, "-m", "checker", "sim", "raft", "--servers", "5",
                            "--unreliable", "--snapshots", "--duration", str(args.duration),
                            "--seed", str(seed), "--trace", str(trace)],
                           cwd=ROOT, capture_output=True, check=False)
            result = validate_trace(trace)
            assert result is not None and result.mismatch is None, result
            alone, inside = [], []
            for _ in range(args.repeat):
                alone.append(cpu(lambda: validate_trace(trace)))  # noqa: B023
                invariants = cpu(lambda: check_trace(trace))  # noqa: B023
                inside.append(cpu(lambda: with_validation(trace)) - invariants)  # noqa: B023
            events = result.events
            rows.append({
                "seed": seed, "events": events,
                "trace_mb": round(trace.stat().st_size / 1e6, 1),
                "alone_s": round(statistics.median(alone), 3),
                "alone_events_per_s": round(events / statistics.median(alone)),
                "added_to_check_trace_s": round(statistics.median(inside), 3),
                "added_events_per_s": round(events / statistics.median(inside)),
                "searched": result.searched,
                "search_share": round(result.search_share, 6),
                "load_average": round(os.getloadavg()[0], 1),
            })
    table = Table(title=f"Trace validation speed ({args.duration:g} virtual s, 5 servers, "
                        f"unreliable, snapshots; median of {args.repeat})")
    for key in rows[0]:
        table.add_column(key)
    for row in rows:
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row.values()))
    Console().print(table)
    print(json.dumps({"bench": "trace_validate_speed", "rows": rows}))


if __name__ == "__main__":
    main()
