"""Two workers against one (and TLC) on the raft.tla comparison configuration, interleaved.

Issue 17's targets are ratios of wall times on a machine whose speed drifts by ±15% from
minute to minute, so one run of each says little: this runs `dscheck model-check` with 1
and 2 workers in alternating order, round after round, each in a fresh process (the packed
engine's module-level memos would otherwise carry one run's work into the next), and
optionally TLC once in the middle round (`bench/modelcheck_tlc.sh 2 FALSE 2`, needs Java and
tla2tools.jar). The figure compared is the search's own time (the report's `seconds`: start-up
and the one-process run's freeing of its states at exit left out).

    python3 bench/modelcheck_workers.py --rounds 5 [--tlc] [--pair]

Prints a table and one JSON line: each run, the medians, the ratio of the medians, each
round's ratio and their median, the CPU seconds, the load average before and after, and
before each round a probe of the two cores' speeds (a fixed loop pinned to each, both at once).
With --pair, each round also starts two one-worker searches together: twice the work of one
in the time of the slower, the most that two processes could gain on this machine at that
moment (`pair`), and the share of it that the two-worker search reached.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ["--semantics", "raft-tla-clean-bag", "--servers", "3", "--max-term", "2",
          "--max-log", "1", "--max-messages", "2"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _search(workers: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "checker", "model-check", "raft", *CONFIG, "--workers",
         str(workers), "--json"], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def _report(proc: subprocess.Popen[str]) -> dict[str, Any]:
    stdout, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"dscheck model-check exited with {proc.returncode}")
    return json.loads(stdout)  # type: ignore[no-any-return]


def dscheck(workers: int) -> dict[str, Any]:
    cpu, wall = _children_cpu(), time.perf_counter()
    out = _report(_search(workers))
    return {"workers": workers, "seconds": out["seconds"], "distinct": out["distinct_states"],
            "depth": out["depth"], "verdict": out["verdict"],
            "wall": round(time.perf_counter() - wall, 2), "cpu": round(_children_cpu() - cpu, 2)}


def pair() -> dict[str, Any]:
    """Two one-worker searches started together: what this machine gives two processes at
    that moment. Each does the whole search, so together they do twice the work of one in
    the time of the slower: 2 x (one alone) / that is the most two workers could gain over
    one then, whatever the code."""
    cpu = _children_cpu()
    procs = [_search(1), _search(1)]
    try:
        seconds = [_report(p)["seconds"] for p in procs]
    finally:  # if the first failed, the second is not left running on its own
        for p in procs:
            if p.poll() is None:
                p.kill()
    return {"workers": "1+1", "seconds": max(seconds), "each": seconds,
            "cpu": round(_children_cpu() - cpu, 2)}


# A fixed loop of dict work (~1.5 s on this machine), the probe of each core's speed.
PROBE = """
import time
t = time.perf_counter()
d = {}
for i in range(6_000_000):
    d[(i, i & 1023)] = i
    if len(d) > 100_000:
        d.clear()
print(time.perf_counter() - t)
"""


def probe() -> list[float]:
    """The probe loop on each of the first two cores at once, pinned: the seconds of each.
    A virtual machine's two cores are not always two full cores; a round whose probe shows
    one core slower (or both slower than usual) says why its two-worker search was slow."""
    procs = [subprocess.Popen([sys.executable, "-c", PROBE], stdout=subprocess.PIPE, text=True,
                              preexec_fn=lambda k=k: os.sched_setaffinity(0, {k}))
             for k in range(2)]
    return [round(float(p.communicate()[0]), 2) for p in procs]


def tlc() -> dict[str, Any]:
    cpu, wall = _children_cpu(), time.perf_counter()
    proc = subprocess.run(["bash", str(ROOT / "bench" / "modelcheck_tlc.sh"), "2", "FALSE", "2"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    found = re.findall(r"(\d+) distinct states found", proc.stdout)  # progress, then the end
    return {"workers": 2, "seconds": round(time.perf_counter() - wall, 2),
            "distinct": int(found[-1]) if found else None,
            "cpu": round(_children_cpu() - cpu, 2)}


def median(values: Any) -> float:
    return round(statistics.median(values), 3)  # an even count averages two


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tlc", action="store_true", help="TLC once, in the middle round")
    parser.add_argument("--pair", action="store_true",
                        help="each round, also two one-worker searches at once (see pair())")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    runs: list[dict[str, Any]] = []
    tlc_run = None
    probes: list[list[float]] = []
    pairs: list[dict[str, Any]] = []
    for k in range(args.rounds):
        probes.append(probe())
        for workers in ((1, 2) if k % 2 == 0 else (2, 1)):  # the order alternates with drift
            run = dscheck(workers)
            run["round"] = k + 1
            runs.append(run)
            print(f"round {k + 1}: {workers} worker(s) {run['seconds']} s", file=sys.stderr)
        if args.pair:
            both = pair()
            both["round"] = k + 1
            pairs.append(both)
            print(f"round {k + 1}: two one-worker searches at once {both['each']} s",
                  file=sys.stderr)
        if args.tlc and k == args.rounds // 2:
            tlc_run = tlc()
            print(f"TLC: {tlc_run['seconds']} s", file=sys.stderr)
    one = [r["seconds"] for r in runs if r["workers"] == 1]
    two = [r["seconds"] for r in runs if r["workers"] == 2]
    per_round = [round(a / b, 2) for a, b in zip(one, two, strict=True)]
    summary: dict[str, Any] = {
        "median_1": median(one), "median_2": median(two),
        "two_over_one": round(statistics.median(one) / statistics.median(two), 2),
        "per_round": per_round, "per_round_median": median(per_round),
        "cpu_median_1": median(r["cpu"] for r in runs if r["workers"] == 1),
        "cpu_median_2": median(r["cpu"] for r in runs if r["workers"] == 2),
    }
    if pairs:
        # The machine's ceiling for two workers over one, and the share of it they reached.
        ceiling = [round(2 * a / b["seconds"], 2) for a, b in zip(one, pairs, strict=True)]
        share = [round(b["seconds"] / (2 * t), 2) for t, b in zip(two, pairs, strict=True)]
        summary.update(median_pair=median(b["seconds"] for b in pairs), ceiling=ceiling,
                       ceiling_median=median(ceiling), share=share, share_median=median(share))
    if tlc_run is not None:
        summary["tlc_over_two"] = round(tlc_run["seconds"] / summary["median_2"], 2)
    load_after = os.getloadavg()[0]
    table = Table(title=f"raft.tla, ≤ 2 in flight: {args.rounds} interleaved rounds "
                        f"(load {load_before:.1f} → {load_after:.1f})")
    for column in ("run", "search s (each round)", "median s", "CPU s (median)"):
        table.add_column(column)
    table.add_row("dscheck, 1 worker", ", ".join(map(str, one)), str(summary["median_1"]),
                  str(summary["cpu_median_1"]))
    table.add_row("dscheck, 2 workers", ", ".join(map(str, two)), str(summary["median_2"]),
                  str(summary["cpu_median_2"]))
    if pairs:
        table.add_row("two 1-worker searches at once (the slower)",
                      ", ".join(str(b["seconds"]) for b in pairs), str(summary["median_pair"]),
                      str(median(b["cpu"] for b in pairs)))
    if tlc_run is not None:
        table.add_row("TLC, 2 workers (wall)", str(tlc_run["seconds"]), str(tlc_run["seconds"]),
                      str(tlc_run["cpu"]))
    console = Console(width=140)
    console.print(table)
    console.print(f"2 workers over 1: {summary['two_over_one']}x by the medians; per round "
                  f"{per_round} (median {summary['per_round_median']})"
                  + (f"; TLC over 2 workers: {summary['tlc_over_two']}x" if tlc_run else ""))
    if pairs:
        console.print(f"the machine's ceiling, 2 x (1 worker) / (two at once), per round "
                      f"{summary['ceiling']} (median {summary['ceiling_median']}); 2 workers "
                      f"reached {summary['share']} of it (median {summary['share_median']})")
    console.print(f"probe loop on cores 0 and 1 at once, before each round (s): {probes}")
    print(json.dumps({"bench": "modelcheck_workers", "rounds": args.rounds, "runs": runs,
                      "pairs": pairs,
                      "tlc": tlc_run, "summary": summary, "probes": probes,
                      "load": [round(load_before, 2), round(load_after, 2)]}))


if __name__ == "__main__":
    main()
