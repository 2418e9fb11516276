"""`dscheck lin` on large generated histories: wall and CPU time, peak resident memory, side by
side with Go Porcupine.

    python bench/lin_large.py [--quick] [--porcupine BIN] [--memory-cap MB] [--timeout S]

Histories come from `checker.linearizability.generate` (Jepsen-style key/value runs with
crashes: linearizable, and with one injected stale read; replicated logs with many appends
of unknown outcome). Each check runs as `python -m checker lin --json` in a process of its
own, so its CPU and peak resident memory are its own (os.wait4). `--quick` runs the smaller
ones only.

Porcupine's column: `BIN kv FILE.edn TIMEOUT_S` on the same history written as Porcupine's
key/value EDN (see bench/lin_corpus.py for what BIN must print); it runs under an address
space cap (`--memory-cap`, default 4096 MB) so that a blow-up cannot take the machine, and a
run killed by it shows as "out of memory". Prints a rich table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.linearizability.generate import (  # noqa: E402
    generate,
    generate_log,
    write_edn,
    write_jsonl,
)
from checker.linearizability.history import Operation  # noqa: E402

# (name, ops, clients, keys, anomaly, jobs); the log cases have keys=0.
CASES: list[tuple[str, int, int, int, str | None, int]] = [
    ("kv 10k, 10 clients, 10 keys", 10_000, 10, 10, None, 1),
    ("kv 10k, 10 clients, 10 keys, stale read", 10_000, 10, 10, "stale-read", 1),
    ("kv 100k, 100 clients, 100 keys", 100_000, 100, 100, None, 1),
    ("kv 100k, 100 clients, 100 keys, stale read", 100_000, 100, 100, "stale-read", 1),
    ("kv 100k, 100 clients, 10 keys", 100_000, 100, 10, None, 1),
    ("kv 100k, 100 clients, 10 keys, 2 jobs", 100_000, 100, 10, None, 2),
    ("kv 100k, 100 clients, 10 keys, stale read", 100_000, 100, 10, "stale-read", 1),
    ("kv 100k, 200 clients, 10 keys", 100_000, 200, 10, None, 1),
    ("log 300 appends, 30 clients, 30% unknown", 300, 30, 0, None, 1),
    ("log 300 appends, duplicate index", 300, 30, 0, "duplicate-index", 1),
    ("log 300 appends, swapped indexes", 300, 30, 0, "swapped", 1),
]
QUICK = {0, 1, 8, 9, 10}


def measure(argv: list[str], memory_cap: int | None = None) -> dict[str, Any]:
    """Run argv; its wall time, CPU, peak RSS (MB), exit status and stdout."""

    def cap() -> None:
        if memory_cap is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))

    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL,
                                   preexec_fn=cap, cwd=ROOT)
        _pid, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        text = out.read()
    return {
        "wall_s": round(time.monotonic() - started, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "status": os.waitstatus_to_exitcode(status),
        "stdout": text,
    }


def ours(path: Path, timeout: float, jobs: int) -> dict[str, Any]:
    run = measure([sys.executable, "-m", "checker", "lin", "--json", "--timeout", str(timeout),
                   "--jobs", str(jobs), str(path)])
    try:
        data = json.loads(run["stdout"])
        run["verdict"], run["check_cpu_s"] = data["verdict"], data["seconds"]
    except (json.JSONDecodeError, KeyError):
        run["verdict"], run["check_cpu_s"] = f"exit {run['status']}", None
    del run["stdout"]
    return run


def theirs(binary: str, path: Path, timeout: float, memory_cap: int) -> dict[str, Any]:
    run = measure([binary, "kv", str(path), str(timeout)], memory_cap)
    try:
        data = json.loads(run["stdout"].strip().splitlines()[-1])
        run["verdict"], run["check_cpu_s"] = data["verdict"], round(float(data["cpu_s"]), 3)
    except (json.JSONDecodeError, KeyError, IndexError):
        run["verdict"], run["check_cpu_s"] = (
            "out of memory" if run["status"] != 0 else "no answer"), None
    del run["stdout"]
    return run


def write(ops: list[Operation], folder: Path, name: str) -> tuple[Path, Path]:
    jsonl, edn = folder / f"{name}.jsonl", folder / f"{name}.edn"
    with jsonl.open("w") as out:
        write_jsonl(ops, out)
    with edn.open("w") as out:
        write_edn(ops, out)
    return jsonl, edn


def write_log(ops: list[Operation], folder: Path, name: str) -> Path:
    path = folder / f"{name}.jsonl"
    with path.open("w") as out:
        out.write(json.dumps({"format": "dscheck-history", "version": 1, "model": "log"}) + "\n")
        events = sorted([(op.call, 0, op) for op in ops] +
                        [(op.ret, 1, op) for op in ops if op.ret is not None],
                        key=lambda e: (e[0], e[1]))
        for time_, kind, op in events:
            event: dict[str, Any] = {"client": op.client, "time": time_}
            if kind == 0:
                event.update(type="invoke", f="append", value=op.input[2])
            else:
                event.update(type="ok", value=op.output)
            out.write(json.dumps(event) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--porcupine", metavar="BIN")
    parser.add_argument("--memory-cap", type=int, default=4096, help="MB, for Porcupine")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    table = Table(title="dscheck lin on large generated histories")
    for column in ("history", "ops", "verdict", "wall s", "CPU s", "check CPU s", "peak MB",
                   "Porcupine", "P. CPU s", "P. peak MB"):
        table.add_column(column, justify="left" if column in ("history", "verdict",
                                                                "Porcupine") else "right")
    rows = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, (name, n, clients, keys, anomaly, jobs) in enumerate(CASES):
            if args.quick and i not in QUICK:
                continue
            if keys:
                made = generate(n, clients, keys, 0.02, anomaly, seed=1)
                jsonl, edn = write(made.operations, folder, f"case{i}")
                mine = ours(jsonl, args.timeout, jobs)
                other = (theirs(args.porcupine, edn, args.timeout, args.memory_cap << 20)
                         if args.porcupine and jobs == 1 else None)
            else:
                made = generate_log(n, clients, 0.3, anomaly, seed=2)
                mine = ours(write_log(made.operations, folder, f"case{i}"), args.timeout, jobs)
                other = None
            rows.append({"history": name, "ops": len(made.operations), "ours": mine,
                         "porcupine": other})
            table.add_row(
                name, f"{len(made.operations):,}", mine["verdict"], f"{mine['wall_s']:.2f}",
                f"{mine['cpu_s']:.2f}", "" if mine["check_cpu_s"] is None else
                f"{mine['check_cpu_s']:.2f}", f"{mine['peak_mb']:.0f}",
                "" if other is None else other["verdict"],
                "" if other is None or other["check_cpu_s"] is None else
                f"{other['check_cpu_s']:.2f}",
                "" if other is None else f"{other['peak_mb']:.0f}",
            )
    Console(width=170).print(table)
    print(f"load average at the start: {load:.2f} (2-core machine shared with other jobs)")
    print(json.dumps({"bench": "lin_large", "load": load, "rows": rows}))


if __name__ == "__main__":
    main()
