"""Benchmark: which Raft fault flags trace validation catches, and which invariants alone do.

For every fault flag of the core (impl/raft/bugs.py), plays the lab's scenarios under seeds
1..N with the flag on, records each run's trace to a file and judges it as
`dscheck check-trace` does (invariants and validation in one pass), and counts the runs in
which validation found a mismatch, the invariants a violation, and the lab's own checks a
failure. reliable_churn_2C is left out by default: its traces repeat 2,700-entry logs on
every line (about 300 MB each), and it adds nothing the other churn scenario does not
(--all includes it). Usage: python bench/trace_validate_bugs.py [--seeds N] [--bug NAME ...]
"""

from __future__ import annotations

import argparse
import json
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
from checker.validation.engine import Validation, binding_for  # noqa: E402
from impl.raft.bugs import BUGS  # noqa: E402
from impl.raft.scenarios import SCENARIOS  # noqa: E402
from impl.raft.scenarios.chaos import simulate  # noqa: E402
from impl.trace import TraceWriter  # noqa: E402

SLOW = {"reliable_churn_2C"}


def judge(path: Path) -> tuple[bool, bool, str]:
    """(validation found a mismatch, invariants found a violation, the mismatch's rule)."""
    validations: list[Validation] = []

    def observe(header: Header) -> Callable[[Event], None]:
        binding = binding_for(header.system)
        assert binding is not None
        validation = Validation(binding, header, str(path), check_types=False)
        validations.append(validation)
        return validation.feed

    checked = check_trace(path, observe=observe)
    validated = validations[0].finish(fill=False)
    rule = validated.mismatch.rule if validated.mismatch else ""
    return validated.mismatch is not None, bool(checked.violations), rule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1..N per scenario")
    parser.add_argument("--bug", action="append", default=None, help="only these flags")
    parser.add_argument("--all", action="store_true", help="include reliable_churn_2C")
    args = parser.parse_args()
    flags = args.bug or list(BUGS)
    scenarios = [s for s in SCENARIOS if args.all or s.name not in SLOW]
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.jsonl"
        for flag in flags:
            runs = validation = invariants = lab = 0
            rules: dict[str, int] = {}
            for scenario in scenarios:
                for seed in range(1, args.seeds + 1):
                    with path.open("w", encoding="utf-8") as stream:
                        run = simulate(seed=seed, scenario=scenario, trace=TraceWriter(stream),
                                       bugs=frozenset({flag}))
                    caught, violated, rule = judge(path)
                    runs += 1
                    validation += caught
                    invariants += violated
                    lab += run.failure is not None
                    if rule:
                        rules[rule] = rules.get(rule, 0) + 1
            rows.append({"flag": flag, "runs": runs, "validation": validation,
                         "invariants": invariants, "lab_checks": lab, "rules": rules})
            print(json.dumps({"bench": "trace_validate_bugs", **rows[-1]}), flush=True)
    table = Table(title=f"Fault flags: runs caught, {len(scenarios)} lab scenarios × seeds "
                        f"1..{args.seeds}")
    for column in ("flag", "runs", "trace validation", "invariants alone", "lab checks",
                   "mismatch rules"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["flag"], str(row["runs"]), str(row["validation"]),
                      str(row["invariants"]), str(row["lab_checks"]),
                      ", ".join(f"{k} {v}" for k, v in sorted(row["rules"].items())))
    Console().print(table)
    print(json.dumps({"bench": "trace_validate_bugs", "seeds": args.seeds,
                      "scenarios": len(scenarios), "seconds": round(time.perf_counter() - started),
                      "rows": rows}))


if __name__ == "__main__":
    main()
