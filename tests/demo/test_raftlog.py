"""Raft as a replicated log: the history built from a trace, and the log model's verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from checker.demo.raftlog import LOG, log_history
from checker.linearizability import check, history
from checker.verdict import Verdict

GOLDEN = Path(__file__).resolve().parents[2] / "traces" / "golden"


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
