"""Check the checks: deliberately broken key/value servers must fail the scenarios, or the
audit of their history (STYLE.md point 9). A suite that passes a broken service proves
nothing."""

from __future__ import annotations

import pytest

from checker.kv_audit import audit
from checker.verdict import Verdict
from impl.kv import machine as kv_machine
from impl.kv import server as kv_server
from impl.kv.labtester import KVTestFailure
from impl.kv.machine import GET, Op, Outcome, StateMachine
from impl.kv.scenarios import BY_NAME
from tests.kv.lab import SEARCH_BUDGET, play


def _stale_read(self: kv_server.KVServer, src: int | str, op: Op) -> None:
    # The bug: a server that believes it leads answers a get from its own store, without
    # the log — a leader cut off in a minority serves old values.
    value = self.machine.data.get(op.key)
    self._answer_op(src, op, "OK" if value is not None else "ErrNoKey", value or "")


def test_stale_reads_are_caught_by_the_minority_check_3A(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kv_server.KVServer, "_read", _stale_read)
    with pytest.raises(KVTestFailure, match="Get in minority completed"):
        play("one_partition_3A", 1)


@pytest.mark.parametrize("seed", [1, 2])
def test_stale_reads_the_lab_checks_miss_are_caught_by_the_audit_3A(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kv_server.KVServer, "_read", _stale_read)
    # With random keys the lab only looks at the history, and lets a time-out pass; every
    # check of the run itself holds here...
    run = BY_NAME["persist_partition_unreliable_linearizable_3A"].run(seed)
    # ... and the audit finds the stale read.
    result = audit(run.tester.history, run.tester.witness(), search_budget=SEARCH_BUDGET)
    assert result.verdict is Verdict.VIOLATION


def test_forgetting_duplicates_is_caught_3A(monkeypatch: pytest.MonkeyPatch) -> None:
    apply = StateMachine.apply

    def apply_every_time(self: StateMachine, index: int, op: Op) -> Outcome:
        self.last_seq.pop(op.clerk, None)  # the bug: no duplicate detection
        return apply(self, index, op)

    monkeypatch.setattr(kv_machine.StateMachine, "apply", apply_every_time)
    with pytest.raises(KVTestFailure, match="executed twice"):
        play("unreliable_3A", 1)


def test_a_snapshot_without_the_duplicate_table_is_caught_3B(
        monkeypatch: pytest.MonkeyPatch) -> None:
    encode = StateMachine.encode

    def encode_store_only(self: StateMachine) -> bytes:
        table, self.last_seq = self.last_seq, {}  # the bug: the table is not in the snapshot
        try:
            return encode(self)
        finally:
            self.last_seq = table

    monkeypatch.setattr(kv_machine.StateMachine, "encode", encode_store_only)
    with pytest.raises(KVTestFailure, match="executed twice"):
        play("snapshot_unreliable_recover_3B", 1)


def test_replying_before_the_write_is_applied_is_caught_3A(
        monkeypatch: pytest.MonkeyPatch) -> None:
    propose = kv_server.KVServer._propose

    def propose_and_reply(self: kv_server.KVServer, src: int | str, op: Op) -> None:
        propose(self, src, op)
        if op.kind != GET:
            self._answer_op(src, op, "OK", "")  # the bug: "OK" at Start, before commit

    monkeypatch.setattr(kv_server.KVServer, "_propose", propose_and_reply)
    with pytest.raises(KVTestFailure):
        play("persist_partition_3A", 1)


def test_never_snapshotting_is_caught_by_the_log_size_bound_3B(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kv_server.KVServer, "_maybe_snapshot", lambda self: None)
    with pytest.raises(KVTestFailure, match="logs were not trimmed"):
        play("snapshot_size_3B", 1)
