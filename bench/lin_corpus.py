"""Linearizability checker speed on the shared corpus and the hard histories, side by side with
Go Porcupine.

    python bench/lin_corpus.py [--repeat N] [--files SUBSTRING] [--porcupine BIN]

CPU seconds (time.process_time) of `check(...)` per file (the best of --repeat runs, to damp
the noise of a shared machine), reading excluded (reported apart), plus the unpartitioned
key/value pair c10-ok/c10-bad and the files of hard/ (small histories that defeat a plain
search). Prints a rich table and one JSON line.

Porcupine's column: with `--porcupine BIN`, BIN is run on every file as
`BIN MODEL FILE TIMEOUT_S` (MODEL: `kv`, `kv-nopartition` or `cas-register`) and must print one
JSON line with `verdict` ("ok", "violation" or "unknown") and `cpu_s` (the CPU of its check,
reading excluded), for instance a small Go main over github.com/anishathalye/porcupine with
Porcupine's own kv and etcd models; this repository ships no such binary. Without it the
column holds the figures measured that way on this project's machine (2026-12-02).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.linearizability import check, model_named  # noqa: E402
from checker.linearizability.formats import load  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "histories"

# Go Porcupine (go1.19, commit 55508eb) on this machine, through a harness as described
# above, 2026-12-02: CPU seconds of its check. The whole corpus: 1.20 s.
PORCUPINE = {
    "porcupine-kv/c50-ok.txt": 0.199,
    "porcupine-kv/c50-bad.txt": 0.031,
    "jepsen-etcd/etcd_002.log": 0.170,
    "jepsen-etcd/etcd_007.log": 0.117,
}
PORCUPINE_CORPUS_TOTAL = 1.20
# The reference for the unpartitioned pair (Porcupine's own test models).
PORCUPINE_UNPARTITIONED = {"porcupine-kv/c10-ok.txt": 3.2, "porcupine-kv/c10-bad.txt": 3.7}
_PORCUPINE_MODEL = {"kv": "kv", "cas-register": "cas-register"}


def cpu_of(ops: list[Any], model: str, repeat: int, **options: Any) -> tuple[float, str]:
    best = float("inf")
    verdict = ""
    for _ in range(repeat):
        started = time.process_time()
        result = check(ops, model_named(model), timeout=600, **options)
        best = min(best, time.process_time() - started)
        verdict = result.verdict.value
    return best, verdict


def porcupine(binary: str, model: str, path: Path, repeat: int) -> tuple[float, str]:
    best, verdict = float("inf"), ""
    for _ in range(repeat):
        run = subprocess.run([binary, model, str(path), "600"], capture_output=True, text=True,
                             check=False)
        if run.returncode != 0:
            return float("nan"), f"failed ({run.returncode})"
        out = json.loads(run.stdout.strip().splitlines()[-1])
        best, verdict = min(best, float(out["cpu_s"])), str(out["verdict"])
    return best, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", default="")
    parser.add_argument("--porcupine", metavar="BIN", help="a Porcupine harness (see above)")
    args = parser.parse_args()
    with (CORPUS / "expected.tsv").open() as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if args.files in r["file"]]
    measured = "measured now" if args.porcupine else "recorded"
    table = Table(title=f"dscheck lin on the corpus (CPU s, best of {args.repeat}); "
                        f"Porcupine {measured}")
    for column in ("file", "ops", "verdict", "expected", "read s", "check s", "Porcupine s",
                   "ratio", "excess ms"):
        table.add_column(column, justify="left" if column in ("file", "verdict", "expected")
                         else "right")
    per_file: dict[str, float] = {}
    theirs: dict[str, float] = {}
    total = read_total = their_total = 0.0
    wrong = 0
    worst_excess = (-float("inf"), "")
    for row in rows:
        path = CORPUS / row["file"]
        started = time.process_time()
        loaded = load(str(path))
        read_s = time.process_time() - started
        seconds, verdict = cpu_of(loaded.operations, row["model"], args.repeat)
        expected = "ok" if row["linearizable"] == "true" else "violation"
        wrong += verdict != expected
        total += seconds
        read_total += read_s
        per_file[row["file"]] = round(seconds, 5)
        reference: float | None = PORCUPINE.get(row["file"])
        if args.porcupine:
            reference, their_verdict = porcupine(args.porcupine, _PORCUPINE_MODEL[row["model"]],
                                                 path, args.repeat)
            wrong += their_verdict != expected
            theirs[row["file"]] = round(reference, 5)
            their_total += reference
        excess = None if reference is None else seconds - reference
        if excess is not None and excess > worst_excess[0]:
            worst_excess = (excess, row["file"])
        if row["file"] in PORCUPINE or seconds > 0.02 or verdict != expected or (
                reference is not None and reference > 0.05):
            table.add_row(
                row["file"], str(len(loaded.operations)), verdict, expected, f"{read_s:.3f}",
                f"{seconds:.4f}", "" if reference is None else f"{reference:.3f}",
                "" if not reference else f"{seconds / reference:.2f}",
                "" if excess is None else f"{excess * 1000:+.1f}",
            )
    their_total = their_total if args.porcupine else PORCUPINE_CORPUS_TOTAL
    unpartitioned: dict[str, float] = {}
    for name, reference in PORCUPINE_UNPARTITIONED.items():
        if args.files not in name:
            continue
        loaded = load(str(CORPUS / name))
        seconds, verdict = cpu_of(loaded.operations, "kv", args.repeat, partitioned=False)
        unpartitioned[name] = round(seconds, 4)
        table.add_row(name + " (unpartitioned)", str(len(loaded.operations)), verdict, "", "",
                      f"{seconds:.4f}", f"{reference:.2f} (issue)", f"{seconds / reference:.2f}",
                      "")
    hard: dict[str, float] = {}
    for path in sorted((CORPUS / "hard").glob("*.jsonl")):
        if args.files not in path.name:
            continue
        loaded = load(str(path))
        assert loaded.model is not None
        seconds, verdict = cpu_of(loaded.operations, loaded.model, args.repeat)
        hard[path.name] = round(seconds, 5)
        table.add_row(f"hard/{path.name}", str(len(loaded.operations)), verdict, "violation",
                      "", f"{seconds:.4f}", "", "", "")
    table.add_row(f"corpus total ({len(rows)} files)", "", "", "", f"{read_total:.3f}",
                  f"{total:.4f}", f"{their_total:.3f}",
                  f"{total / their_total:.2f}" if their_total else "", "")
    Console(width=160).print(table)
    print(json.dumps({
        "bench": "lin_corpus", "files": len(rows), "wrong_verdicts": wrong,
        "check_cpu_total": round(total, 4), "read_cpu_total": round(read_total, 4),
        "porcupine_cpu_total": round(their_total, 4), "porcupine": measured,
        "ratio_to_porcupine_total": round(total / their_total, 3) if their_total else None,
        "worst_excess_ms": round(worst_excess[0] * 1000, 2), "worst_excess_file": worst_excess[1],
        "unpartitioned": unpartitioned, "hard": hard, "per_file": per_file,
        "porcupine_per_file": theirs, "repeat": args.repeat,
    }))


if __name__ == "__main__":
    main()
