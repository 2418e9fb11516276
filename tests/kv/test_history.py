"""Histories of key/value runs: calls in flight settled from the servers or left unknown, and
the history file that `dscheck lin` reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from checker.kv_audit import audit, operations
from checker.linearizability.formats import parse
from checker.verdict import Verdict
from impl.kv.history import Execution, History
from impl.kv.scenarios.chaos import simulate

ROOT = Path(__file__).resolve().parents[2]


def small_history() -> History:
    h = History()
    h.invoke(1, 1, "put", "k", "a", time=10)
    h.complete(1, None, time=20)
    h.invoke(2, 1, "append", "k", "b", time=30)  # in flight at the end, executed at 35
    h.invoke(3, 1, "get", "k", None, time=31)  # in flight at the end, executed at 36
    h.invoke(4, 1, "append", "k", "zz", time=32)  # in flight at the end, executed nowhere
    return h


def test_settling_gives_executed_calls_their_outcome_and_leaves_the_rest_unknown() -> None:
    h = small_history()
    executed = {(2, 1): Execution(index=2, output=None, time=35),
                (3, 1): Execution(index=3, output="ab", time=36),
                (1, 1): Execution(index=1, output=None, time=15)}
    assert h.settle(executed) == (2, 1)
    by_clerk = {c.clerk: c for c in h.calls}
    assert (by_clerk[2].returned, by_clerk[2].settled) == (35, True)
    assert (by_clerk[3].returned, by_clerk[3].output) == (36, "ab")
    assert by_clerk[4].pending and not by_clerk[4].settled
    assert [c.clerk for c in h.pending] == [4]
    ops = operations(h)
    assert [op.ret for op in ops] == [20, 35, 36, None]
    assert audit(h).verdict is Verdict.OK


def test_a_settled_read_constrains_the_history_as_a_returned_one_does() -> None:
    # A get in flight at the end constrains nothing while its outcome is unknown; settled
    # with what the servers read, it is checked like any returned get.
    h = small_history()
    assert audit(h).verdict is Verdict.OK
    h.settle({(2, 1): Execution(index=2, output=None, time=35),
              (3, 1): Execution(index=3, output="b", time=36)})  # no order reads "b"
    assert audit(h).verdict is Verdict.VIOLATION


def test_the_history_file_round_trips_through_the_reader_and_dscheck_lin(tmp_path: Path) -> None:
    run = simulate(seed=5, servers=3, clients=4, unreliable=True, duration_ms=3000)
    assert run.failure is None and run.settled + run.unknown > 0
    history = run.tester.history
    text = history.to_jsonl(run.tester.stamp(), note="test")
    loaded = parse(text, "h.jsonl")
    assert loaded.model == "kv"
    assert len(loaded.operations) == len(history.calls)
    assert sum(1 for op in loaded.operations if op.ret is None) == run.unknown
    ours = sorted((op.client, op.input, op.output, op.call, op.ret) for op in operations(history)
                  if op.ret is not None)
    theirs = sorted((op.client, op.input, op.output, op.call, op.ret)
                    for op in loaded.operations if op.ret is not None)
    assert ours == theirs
    path = tmp_path / "h.jsonl"
    path.write_text(text)
    result = subprocess.run([sys.executable, "-m", "checker", "lin", "--model", "kv", str(path)],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
