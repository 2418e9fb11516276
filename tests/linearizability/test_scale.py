"""Large and hard histories with known verdicts: the generators' (checker/linearizability/
generate.py) Jepsen-style key/value runs with crashes, linearizable or with one stale read,
and replicated-log histories with many appends of unknown outcome; the shared hard/ history;
the kv model's read-off orders held to the naive twin; and the memory limit (UNKNOWN, never
OK). Verdicts only: tests never time anything (bench/lin_large.py does)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.linearizability import KV, LOG, check
from checker.linearizability.formats import load
from checker.linearizability.generate import generate, generate_log
from checker.verdict import Verdict
from tests.linearizability.naive_models import generated, naive_linearizable, tampered

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_generated_kv_run_with_crashes_is_linearizable(seed: int) -> None:
    made = generate(ops=3000, clients=30, keys=3, crash_rate=0.05, seed=seed)
    assert not made.anomaly
    assert sum(op.ret is None for op in made.operations) > 50  # many unknown outcomes
    assert check(made.operations, KV, timeout=300).verdict is Verdict.OK


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_injected_stale_read_is_found(seed: int) -> None:
    made = generate(ops=3000, clients=30, keys=3, crash_rate=0.05, anomaly="stale-read",
                    seed=seed)
    result = check(made.operations, KV, timeout=300)
    assert result.verdict is Verdict.VIOLATION, made.anomaly
    (failing,) = result.failing
    assert f"of {failing.key} at" in made.anomaly  # the part of the changed get


@pytest.mark.parametrize("anomaly", [None, "duplicate-index", "swapped"])
@pytest.mark.parametrize("proofs", [True, False], ids=["with-refutation", "search-only"])
def test_log_histories_with_many_unknown_appends(anomaly: str | None, proofs: bool) -> None:
    model = LOG if proofs else replace(LOG, refute=None)
    for seed in (1, 2, 3):
        made = generate_log(300, 30, 0.3, anomaly, seed)
        expected = Verdict.OK if anomaly is None else Verdict.VIOLATION
        assert check(made.operations, model, timeout=300).verdict is expected


def test_the_shared_hard_history_is_refuted_and_searched(shared_data: Path) -> None:
    path = shared_data / "histories" / "hard" / "raft-log-duplicate-index.jsonl"
    ops = load(str(path)).operations
    proved = check(ops, LOG, timeout=300)
    assert proved.verdict is Verdict.VIOLATION
    assert proved.failing[0].refutation == "two appends returned index 72"
    searched = check(ops, replace(LOG, refute=None), timeout=300)
    assert searched.verdict is Verdict.VIOLATION  # the search alone settles it too


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_kv_orders_read_off_unique_values_agree_with_the_twin(data: st.DataObject) -> None:
    ops = data.draw(generated("kv-unique", max_ops=7))
    if data.draw(st.booleans()):
        ops = tampered(data.draw, "kv-unique", ops)
    expected = naive_linearizable(ops, "kv-unique")
    assert check(ops, KV).verdict is (Verdict.OK if expected else Verdict.VIOLATION), ops


def test_a_memory_limit_gives_unknown_never_ok() -> None:
    made = generate(ops=2000, clients=20, keys=2, seed=4)
    result = check(made.operations, KV, max_memory=1)
    assert result.verdict is Verdict.UNKNOWN
    assert all(p.note.startswith("memory limit reached") for p in result.partitions)
    assert result.peak_memory > 0


def test_the_cli_names_what_a_limit_left_unfinished(tmp_path: Path) -> None:
    from checker.linearizability.generate import write_jsonl

    path = tmp_path / "run.jsonl"
    with path.open("w") as out:
        write_jsonl(generate(ops=2000, clients=20, keys=2, seed=5).operations, out)
    run = subprocess.run([sys.executable, "-m", "checker", "lin", "--max-memory", "1", str(path)],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 3
    assert "memory limit reached" in run.stdout
    assert "part 'k0': not finished" in run.stdout
    whole = subprocess.run([sys.executable, "-m", "checker", "lin", "--jobs", "2", str(path)],
                           capture_output=True, text=True, cwd=ROOT, check=False)
    assert whole.returncode == 0, whole.stdout + whole.stderr


def test_a_model_of_ones_own_from_a_file(tmp_path: Path) -> None:
    model = tmp_path / "counter.py"
    model.write_text(
        "from spec.sequential import Model\n"
        "MODEL = Model(name='counter', init=lambda: 0,\n"
        "              step=lambda n, i: (n + i[2], None) if i[0] == 'add' else (n, n),\n"
        "              read_only=lambda i: i[0] == 'get')\n"
    )
    history = tmp_path / "h.jsonl"
    history.write_text(
        '{"format": "dscheck-history", "version": 1}\n'
        '{"type": "invoke", "client": 0, "f": "add", "value": 2}\n{"type": "ok", "client": 0}\n'
        '{"type": "invoke", "client": 1, "f": "get"}\n{"type": "ok", "client": 1, "value": 3}\n'
    )
    run = subprocess.run([sys.executable, "-m", "checker", "lin", "--model-file", str(model),
                          str(history)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 1 and "VIOLATION  counter" in run.stdout
    broken = tmp_path / "broken.py"
    broken.write_text("MODEL = (\n")
    run = subprocess.run([sys.executable, "-m", "checker", "lin", "--model-file", str(broken),
                          str(history)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 2 and run.stderr.startswith(f"dscheck: {broken}:")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    run = subprocess.run([sys.executable, "-m", "checker", "lin", "--model-file", str(empty),
                          str(history)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 2 and "MODEL" in run.stderr
