"""The clients' history in a trace: Raft as a replicated log (the history built from a
trace, and the log model's verdicts), and `dscheck lin` reading a trace directly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from checker.linearizability import check, history
from checker.linearizability.formats import detect, load
from checker.linearizability.models import LOG
from checker.trace_check.history import log_history
from checker.verdict import Verdict
from spec.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "traces" / "golden"
RAFT_HEADER = {"format": "dscheck-trace", "version": 1, "system": "raft",
               "config": {"servers": 3}, "seed": None}


def _start(seq: int, call: int, command: Any) -> dict[str, Any]:
    return {"seq": seq, "event": "invoke", "call": call, "op": {"type": "start", "command": command}}


def _accepted(seq: int, call: int, index: int, term: int) -> dict[str, Any]:
    return {"seq": seq, "event": "return", "call": call,
            "output": {"index": index, "term": term, "is_leader": True}}


def _apply(seq: int, index: int, term: int, command: Any) -> dict[str, Any]:
    return {"seq": seq, "event": "apply", "kind": "command", "index": index, "term": term,
            "command": command}


def test_golden_trace_gives_one_append_per_accepted_start_and_is_linearizable() -> None:
    path = GOLDEN / "raft-basic-agree-2B-seed1.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    ops = log_history(events)
    assert [(op.input[2], op.output) for op in ops] == [(100, 1), (200, 2), (300, 3)]
    assert all(op.ret is not None and op.ret > op.call for op in ops)
    assert check(history(ops), LOG).verdict is Verdict.OK


def test_rejected_starts_are_not_operations() -> None:
    events = [_start(1, 1, "x"),
              {"seq": 2, "event": "return", "call": 1,
               "output": {"index": -1, "term": 3, "is_leader": False}}]
    assert log_history(events) == []


def test_two_entries_committed_at_one_index_is_a_violation() -> None:
    # Two leaders' entries (index 1, terms 1 and 2) both applied: a lost committed entry.
    events = [_start(1, 1, "a"), _accepted(2, 1, 1, 1), _apply(3, 1, 1, "a"),
              _start(4, 2, "b"), _accepted(5, 2, 1, 2), _apply(6, 1, 2, "b")]
    assert check(history(log_history(events)), LOG).verdict is Verdict.VIOLATION


def test_an_index_that_real_time_forbids_is_a_violation() -> None:
    # "a" commits at index 2 before "b" is even started, yet "b" lands at index 1.
    events = [_start(1, 1, "a"), _accepted(2, 1, 2, 1), _apply(3, 2, 1, "a"),
              _start(4, 2, "b"), _accepted(5, 2, 1, 1), _apply(6, 1, 1, "b")]
    assert check(history(log_history(events)), LOG).verdict is Verdict.VIOLATION


def test_concurrent_appends_may_commit_in_either_order() -> None:
    events = [_start(1, 1, "a"), _accepted(2, 1, 2, 1), _start(3, 2, "b"),
              _accepted(4, 2, 1, 1), _apply(5, 1, 1, "b"), _apply(6, 2, 1, "a")]
    assert check(history(log_history(events)), LOG).verdict is Verdict.OK


def test_a_start_never_applied_has_an_unknown_outcome() -> None:
    events = [_start(1, 1, "lost"), _accepted(2, 1, 1, 1),
              _start(3, 2, "kept"), _accepted(4, 2, 1, 2), _apply(5, 1, 2, "kept")]
    ops = log_history(events)
    assert [op.ret for op in ops] == [None, 5]
    assert check(history(ops), LOG).verdict is Verdict.OK


def test_one_start_given_an_index_twice_gives_two_appends() -> None:
    # A broken leader hands out (index 1, term 1) twice: both calls are operations, and no
    # sequential log returns one index to two appends.
    events = [_start(1, 1, "a"), _accepted(2, 1, 1, 1), _start(3, 2, "b"),
              _accepted(4, 2, 1, 1), _apply(5, 1, 1, "a")]
    ops = log_history(events)
    assert [(op.input[2], op.output, op.ret) for op in ops] == [("a", 1, 5), ("b", 1, 5)]
    assert check(history(ops), LOG).verdict is Verdict.VIOLATION


def write_trace(path: Path, events: list[dict[str, Any]]) -> Path:
    lines = [RAFT_HEADER] + [{"time": 0, "node": 0, **e} for e in events]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def lin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", "lin", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def test_lin_reads_a_raft_trace_as_a_log_history() -> None:
    path = GOLDEN / "raft-basic-agree-2B-seed1.jsonl"
    assert detect(path.read_text(), str(path)) == "dscheck-trace"
    loaded = load(str(path))
    assert (loaded.format, loaded.model, len(loaded.operations)) == ("dscheck-trace", "log", 3)
    events = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert loaded.operations == log_history(events)  # the same view as the library's
    assert all(op.line == op.call + 1 for op in loaded.operations)  # the invoke's line
    result = lin(str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["verdict"], report["model"], report["format"], report["operations"]) == (
        "ok", "log", "dscheck-trace", 3)


def test_lin_finds_a_violation_in_a_trace(tmp_path: Path) -> None:
    events = [_start(1, 1, "a"), _accepted(2, 1, 1, 1), _apply(3, 1, 1, "a"),
              _start(4, 2, "b"), _accepted(5, 2, 1, 2), _apply(6, 1, 2, "b")]
    result = lin(str(write_trace(tmp_path / "t.jsonl", events)))
    assert result.returncode == 1, result.stderr
    assert "VIOLATION  log  2 operations" in result.stdout
    assert "line 5" in result.stdout  # the second append's invoke (seq 4) is line 5


@pytest.mark.parametrize(("edit", "line", "words"), [
    (lambda es: es[0].__setitem__("op", "start"), 2, "'op' must be a dict"),
    (lambda es: es[1]["output"].__setitem__("index", "one"), 3, "integers index and term"),
    (lambda es: es[2].__setitem__("seq", 9), 4, "seq is 9"),
])
def test_a_malformed_trace_is_one_line_and_exit_2(tmp_path: Path, edit: Any, line: int,
                                                  words: str) -> None:
    events = [_start(1, 1, "a"), _accepted(2, 1, 1, 1), _apply(3, 1, 1, "a")]
    edit(events)
    path = write_trace(tmp_path / "t.jsonl", events)
    with pytest.raises(BadInput) as caught:
        load(str(path))
    assert caught.value.line == line and words in caught.value.message
    result = lin(str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and f"{path}:{line}:" in result.stderr


def test_a_trace_without_client_history_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "mr.jsonl"
    header = {"format": "dscheck-trace", "version": 1, "system": "mapreduce",
              "config": {"n_map": 1, "n_reduce": 1, "task_timeout_ms": 10}, "seed": None}
    path.write_text(json.dumps(header) + "\n")
    result = lin(str(path))
    assert result.returncode == 2
    assert (f"{path}:1: system 'mapreduce': expected a \"raft\", \"kv\", \"shardkv\" or "
            "\"shardctrler\" trace here") in result.stderr
