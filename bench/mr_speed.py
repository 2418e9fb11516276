"""Wall time of `dscheck mr run wc` with 1, 2 and 4 workers against `dscheck mr sequential wc`.

Every figure is the wall time of the whole command as a user runs it (interpreter start-up
included), measured `--repeat` times; the table shows the median and the best, and the speed-up
of each run over the sequential run (median / median). Each run's output is compared with the
sequential oracle, so a fast but wrong run cannot pass unnoticed. The load average before and
after is printed: figures taken while other work shares the CPUs are not a quiet machine's.

    python bench/mr_speed.py                      # the eight texts, as the issue asks
    python bench/mr_speed.py --scale 4            # each text 4 times: 32 map tasks
    python bench/mr_speed.py --workers 1,2 --repeat 7
    python bench/mr_speed.py --fixed-cost         # also both commands on a one-line input

`--fixed-cost` adds two rows: `sequential` and `2 workers` on a one-line input, i.e. what each
command costs before any real work (interpreter, imports, for `run` also the coordinator, the
forks and the RPCs). With the full rows it bounds the speed-up (Amdahl): `run` can never be
faster than its fixed cost plus half of the sequential run's work.

The target (issue 4): 2 workers at least 1.6x faster than sequential on the eight texts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
PG = ROOT.parent / "shared" / "data" / "pg"
TARGET = 1.6


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def timed(command: list[str], cwd: Path, cpu: list[float]) -> float:
    """Wall seconds of the command; appends the CPU seconds it and its children used to `cpu`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=environment(), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"mr_speed: {' '.join(command)} failed: {result.stderr.strip()}")
    return elapsed


def sorted_lines(directory: Path, pattern: str) -> list[bytes]:
    lines: list[bytes] = []
    for path in directory.glob(pattern):
        lines.extend(line for line in path.read_bytes().splitlines() if line)
    return sorted(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs per configuration")
    parser.add_argument("--scale", type=int, default=1, help="pass each text this many times")
    parser.add_argument(
        "--fixed-cost", action="store_true", help="also time both commands on a one-line input"
    )
    args = parser.parse_args()
    files = sorted(str(p) for p in PG.glob("pg-*.txt")) * args.scale
    if not files:
        raise SystemExit(f"mr_speed: no inputs under {PG}")
    counts = [int(n) for n in args.workers.split(",")]
    mr = [sys.executable, "-m", "checker", "mr"]
    load_before = os.getloadavg()

    times: dict[str, list[float]] = {"sequential": []}
    times.update({f"{n} workers": [] for n in counts})
    if args.fixed_cost:
        times.update({"sequential, 1 line": [], "2 workers, 1 line": []})
    cpu: dict[str, list[float]] = {name: [] for name in times}
    with tempfile.TemporaryDirectory(prefix="mr-speed-") as scratch:
        base = Path(scratch)
        tiny = base / "one-line.txt"
        tiny.write_text("a one line input\n")
        # Interleave the configurations so that a burst of load hits them alike.
        for _ in range(args.repeat):
            seq_dir = base / "seq"
            seq_dir.mkdir(exist_ok=True)
            times["sequential"].append(
                timed(
                    [*mr, "sequential", "wc", *files, "--dir", str(seq_dir)],
                    base,
                    cpu["sequential"],
                )
            )
            expected = sorted_lines(seq_dir, "mr-out-0")
            for n in counts:
                run_dir = base / f"run{n}"
                times[f"{n} workers"].append(
                    timed(
                        [*mr, "run", "wc", *files, "--workers", str(n), "--dir", str(run_dir)],
                        base,
                        cpu[f"{n} workers"],
                    )
                )
                if sorted_lines(run_dir, "mr-out-*") != expected:
                    raise SystemExit(
                        f"mr_speed: {n}-worker output differs from the sequential oracle"
                    )
            if args.fixed_cost:
                name = "sequential, 1 line"
                command = [*mr, "sequential", "wc", str(tiny), "--dir", str(seq_dir)]
                times[name].append(timed(command, base, cpu[name]))
                name = "2 workers, 1 line"
                command = [
                    *mr,
                    "run",
                    "wc",
                    str(tiny),
                    "--workers",
                    "2",
                    "--dir",
                    str(base / "run2"),
                ]
                times[name].append(timed(command, base, cpu[name]))
                if sorted_lines(base / "run2", "mr-out-*") != sorted_lines(seq_dir, "mr-out-0"):
                    raise SystemExit(
                        "mr_speed: 1-line run output differs from the sequential oracle"
                    )
    load_after = os.getloadavg()

    sequential_median = statistics.median(times["sequential"])
    table = Table(
        title=f"dscheck mr run wc, {len(files)} inputs, {os.cpu_count()} CPUs, {args.repeat} runs each"
    )
    for column in (
        "configuration",
        "median s",
        "best s",
        "speed-up vs sequential",
        "CPU s",
    ):
        table.add_column(column, justify="right" if column != "configuration" else "left")
    rows = {}
    for name, samples in times.items():
        median = statistics.median(samples)
        cpu_median = statistics.median(cpu[name])
        # A one-line row is compared with the one-line sequential row, not the full one.
        baseline = (
            statistics.median(times["sequential, 1 line"])
            if "1 line" in name
            else sequential_median
        )
        rows[name] = {
            "median_s": round(median, 3),
            "best_s": round(min(samples), 3),
            "speedup": round(baseline / median, 2),
            "cpu_s": round(cpu_median, 3),
        }
        table.add_row(
            name,
            f"{median:.3f}",
            f"{min(samples):.3f}",
            f"{baseline / median:.2f}x",
            f"{cpu_median:.3f}",
        )
    console = Console()
    console.print(table)
    two = rows.get("2 workers", {}).get("speedup")
    console.print(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
        f"(a value near or above the CPU count means the machine was shared). "
        f"Target: 2 workers >= {TARGET}x: {'met' if two is not None and two >= TARGET else 'NOT met'}."
    )
    print(
        json.dumps(
            {
                "bench": "mr_speed",
                "inputs": len(files),
                "cpus": os.cpu_count(),
                "repeat": args.repeat,
                "loadavg_before": round(load_before[0], 2),
                "loadavg_after": round(load_after[0], 2),
                "results": rows,
                "target_2_workers": TARGET,
                "target_met": two is not None and two >= TARGET,
            }
        )
    )


if __name__ == "__main__":
    main()
