"""Linearizability checker speed on the shared corpus, against Go Porcupine's figures.

    python bench/lin_corpus.py [--repeat N] [--files SUBSTRING]

CPU seconds (time.process_time) of `check(...)` per file (the best of --repeat runs, to damp
the noise of a shared machine), reading excluded (reported apart), plus the unpartitioned
key/value pair c10-ok/c10-bad. Prints a rich table and one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.linearizability import check, model_named  # noqa: E402
from checker.linearizability.formats import load  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "histories"

# Go Porcupine on this kind of machine (ISSUE-6): CPU seconds.
PORCUPINE = {
    "jepsen-etcd/etcd_002.log": 0.18,
    "jepsen-etcd/etcd_007.log": 0.12,
    "porcupine-kv/c50-ok.txt": 0.19,
    "porcupine-kv/c50-bad.txt": 0.03,
}
PORCUPINE_ETCD_TOTAL = 0.7
PORCUPINE_CORPUS_TOTAL = 0.9
PORCUPINE_UNPARTITIONED = {"porcupine-kv/c10-ok.txt": 2.3, "porcupine-kv/c10-bad.txt": 2.8}


def cpu_of(ops: list, model: str, repeat: int, **options: object) -> tuple[float, str]:
    best = float("inf")
    verdict = ""
    for _ in range(repeat):
        started = time.process_time()
        result = check(ops, model_named(model), timeout=600, **options)  # type: ignore[arg-type]
        best = min(best, time.process_time() - started)
        verdict = result.verdict.value
    return best, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", default="")
    args = parser.parse_args()
    with (CORPUS / "expected.tsv").open() as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if args.files in r["file"]]
    table = Table(title=f"dscheck lin on the corpus (CPU s, best of {args.repeat})")
    for column in ("file", "ops", "verdict", "expected", "read s", "check s", "Porcupine s", "ratio"):
        table.add_column(column, justify="right" if column not in ("file", "verdict", "expected") else "left")
    per_file = {}
    total = etcd_total = read_total = 0.0
    wrong = 0
    worst_ratio = 0.0
    for row in rows:
        started = time.process_time()
        loaded = load(str(CORPUS / row["file"]))
        read_s = time.process_time() - started
        seconds, verdict = cpu_of(loaded.operations, row["model"], args.repeat)
        expected = "ok" if row["linearizable"] == "true" else "violation"
        wrong += verdict != expected
        total += seconds
        read_total += read_s
        if "etcd" in row["file"]:
            etcd_total += seconds
        reference = PORCUPINE.get(row["file"])
        ratio = seconds / reference if reference else None
        if ratio is not None:
            worst_ratio = max(worst_ratio, ratio)
        per_file[row["file"]] = round(seconds, 5)
        if reference or seconds > 0.02 or verdict != expected:
            table.add_row(
                row["file"], str(len(loaded.operations)), verdict, expected, f"{read_s:.3f}",
                f"{seconds:.4f}", f"{reference:.2f}" if reference else "", f"{ratio:.2f}" if ratio else "",
            )
    unpartitioned = {}
    for name, reference in PORCUPINE_UNPARTITIONED.items():
        if args.files not in name:
            continue
        loaded = load(str(CORPUS / name))
        seconds, verdict = cpu_of(loaded.operations, "kv", args.repeat, partitioned=False)
        unpartitioned[name] = round(seconds, 4)
        table.add_row(
            name + " (unpartitioned)", str(len(loaded.operations)), verdict, "", "",
            f"{seconds:.4f}", f"{reference:.2f}", f"{seconds / reference:.2f}",
        )
    table.add_row("etcd total (102 files)", "", "", "", "", f"{etcd_total:.4f}", f"{PORCUPINE_ETCD_TOTAL:.2f}",
                  f"{etcd_total / PORCUPINE_ETCD_TOTAL:.2f}" if etcd_total else "")
    table.add_row(f"corpus total ({len(rows)} files)", "", "", "", f"{read_total:.3f}", f"{total:.4f}",
                  f"{PORCUPINE_CORPUS_TOTAL:.2f}", f"{total / PORCUPINE_CORPUS_TOTAL:.2f}")
    Console(width=150).print(table)
    print(json.dumps({
        "bench": "lin_corpus", "files": len(rows), "wrong_verdicts": wrong,
        "check_cpu_total": round(total, 4), "read_cpu_total": round(read_total, 4),
        "etcd_cpu_total": round(etcd_total, 4), "ratio_to_porcupine_total": round(total / PORCUPINE_CORPUS_TOTAL, 3),
        "worst_ratio_named_files": round(worst_ratio, 3), "unpartitioned": unpartitioned,
        "per_file": per_file, "repeat": args.repeat,
    }))


if __name__ == "__main__":
    main()
