"""Check the checks: deliberately broken key/value servers (tests/kv/mutants.py) must fail the
scenarios, or the audit of their history (STYLE.md point 9) — and each is caught by
`dscheck check-trace` on its trace, with the KV property it breaks named. A suite that passes
a broken service proves nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from checker.kv_audit import audit
from checker.trace_check import check_trace
from checker.verdict import Verdict
from impl.kv import server as kv_server
from impl.kv.labtester import KVTestFailure
from impl.kv.scenarios import BY_NAME
from impl.kv.scenarios.chaos import simulate
from impl.trace import TraceWriter
from tests.kv import mutants
from tests.kv.lab import SEARCH_BUDGET, play

ROOT = Path(__file__).resolve().parents[2]


def test_stale_reads_are_caught_by_the_minority_check_3A(monkeypatch: pytest.MonkeyPatch) -> None:
    mutants.stale_read(monkeypatch)
    with pytest.raises(KVTestFailure, match="Get in minority completed"):
        play("one_partition_3A", 1)


@pytest.mark.parametrize("seed", [1, 2])
def test_stale_reads_the_lab_checks_miss_are_caught_by_the_audit_3A(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    mutants.stale_read(monkeypatch)
    # With random keys the lab only looks at the history, and lets a time-out pass; every
    # check of the run itself holds here...
    run = BY_NAME["persist_partition_unreliable_linearizable_3A"].run(seed)
    # ... and the audit finds the stale read.
    result = audit(run.tester.history, run.tester.witness(), search_budget=SEARCH_BUDGET)
    assert result.verdict is Verdict.VIOLATION


def test_forgetting_duplicates_is_caught_3A(monkeypatch: pytest.MonkeyPatch) -> None:
    mutants.no_duplicate_detection(monkeypatch)
    with pytest.raises(KVTestFailure, match="executed twice"):
        play("unreliable_3A", 1)


def test_a_snapshot_without_the_duplicate_table_is_caught_3B(
        monkeypatch: pytest.MonkeyPatch) -> None:
    mutants.snapshot_without_duplicate_table(monkeypatch)
    with pytest.raises(KVTestFailure, match="executed twice"):
        play("snapshot_unreliable_recover_3B", 1)


def test_a_restart_that_forgets_the_duplicate_table_applies_a_write_twice_3B(
        monkeypatch: pytest.MonkeyPatch) -> None:
    mutants.restart_forgets_duplicates(monkeypatch)
    with pytest.raises(KVTestFailure, match="executed twice"):
        play("snapshot_unreliable_recover_3B", 1)


def test_replicas_that_diverge_are_caught_3A(monkeypatch: pytest.MonkeyPatch) -> None:
    mutants.replicas_diverge(monkeypatch)
    with pytest.raises(KVTestFailure, match="where another server read"):
        play("concurrent_3A", 1)


def test_replying_before_the_write_is_applied_is_caught_3A(
        monkeypatch: pytest.MonkeyPatch) -> None:
    mutants.reply_before_apply(monkeypatch)
    with pytest.raises(KVTestFailure):
        play("persist_partition_3A", 1)


def test_never_snapshotting_is_caught_by_the_log_size_bound_3B(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kv_server.KVServer, "_maybe_snapshot", lambda self: None)
    with pytest.raises(KVTestFailure, match="logs were not trimmed"):
        play("snapshot_size_3B", 1)


@pytest.mark.parametrize("mutant", mutants.MUTANTS, ids=lambda m: m.name)
def test_check_trace_names_the_property_each_mutant_breaks(
        mutant: mutants.Mutant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mutant.patch(monkeypatch)
    path = tmp_path / "run.jsonl"
    with path.open("w", encoding="utf-8") as sink:
        simulate(seed=1, scenario=BY_NAME[mutant.scenario], trace=TraceWriter(sink),
                 read_index=mutant.read_index)
    monkeypatch.undo()
    result = check_trace(path, max_violations=100)
    assert result.verdict is Verdict.VIOLATION
    assert mutant.invariant in {v.invariant for v in result.violations}
    # The same scenario, unbroken, checks clean: the property is the mutant's doing.
    clean = tmp_path / "clean.jsonl"
    with clean.open("w", encoding="utf-8") as sink:
        simulate(seed=1, scenario=BY_NAME[mutant.scenario], trace=TraceWriter(sink),
                 read_index=mutant.read_index)
    assert check_trace(clean).verdict is Verdict.OK


def test_check_trace_reports_a_stale_read_in_words_and_exits_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mutants.read_index_without_round(monkeypatch)
    path = tmp_path / "run.jsonl"
    with path.open("w", encoding="utf-8") as sink:
        simulate(seed=1, scenario=BY_NAME["one_partition_3A"], trace=TraceWriter(sink),
                 read_index=True)
    monkeypatch.undo()
    done = subprocess.run([sys.executable, "-m", "checker", "check-trace", str(path)],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "VIOLATION NoStaleRead" in done.stdout
    assert "below the commit index" in done.stdout
