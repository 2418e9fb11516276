"""Deliberately broken key/value servers (STYLE.md point 9: check the checkers), each a patch
applied with pytest's monkeypatch, so that the lab's checks, the audit of the history and
`dscheck check-trace` can each be shown to catch them.

Each `Mutant` names the bug, the scenario that shows it (and whether gets use ReadIndex), and
the KV property `check-trace` names for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from impl.kv import machine as kv_machine
from impl.kv import server as kv_server
from impl.kv.machine import APPEND, GET, Op, Outcome, StateMachine
from impl.raft import core as raft_core
from impl.raft.core import RaftCore, Role
from impl.raft.effects import Effects, ReadReady


def stale_read(mp: pytest.MonkeyPatch) -> None:
    def read(self: kv_server.KVServer, src: int | str, op: Op) -> None:
        # The bug: a server that believes it leads answers a get from its own store, without
        # the log — a leader cut off in a minority serves old values.
        value = self.machine.data.get(op.key)
        self._answer_op(src, op, "OK" if value is not None else "ErrNoKey", value or "")

    mp.setattr(kv_server.KVServer, "_read", read)


def no_duplicate_detection(mp: pytest.MonkeyPatch) -> None:
    apply = StateMachine.apply

    def apply_every_time(self: StateMachine, index: int, op: Op) -> Outcome:
        self.last_seq.pop(op.clerk, None)  # the bug: no duplicate detection
        return apply(self, index, op)

    mp.setattr(kv_machine.StateMachine, "apply", apply_every_time)


def snapshot_without_duplicate_table(mp: pytest.MonkeyPatch) -> None:
    encode = StateMachine.encode

    def encode_store_only(self: StateMachine) -> bytes:
        table, self.last_seq = self.last_seq, {}  # the bug: the table is not in the snapshot
        try:
            return encode(self)
        finally:
            self.last_seq = table

    mp.setattr(kv_machine.StateMachine, "encode", encode_store_only)


def restart_forgets_duplicates(mp: pytest.MonkeyPatch) -> None:
    init = kv_server.KVServer.__init__

    def restart(self: kv_server.KVServer, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        # The bug: the table is snapshotted (a leader's InstallSnapshot carries it), but a
        # server that restarts rebuilds it from the log after its snapshot only — so a write
        # retried after the snapshot, whose first copy the snapshot covers, applies twice.
        self.machine.last_seq.clear()

    mp.setattr(kv_server.KVServer, "__init__", restart)


def replicas_diverge(mp: pytest.MonkeyPatch) -> None:
    fresh = kv_server.KVServer._fresh_machine
    apply = StateMachine.apply

    class Prepending(StateMachine):
        def apply(self, index: int, op: Op) -> Outcome:
            if op.kind != APPEND or self.executed(op.clerk, op.seq):
                return apply(self, index, op)
            # The bug, on server 0 only: an append puts its value in front.
            outcome = apply(self, index, op)
            assert op.value is not None
            old = self.data[op.key][: -len(op.value)] if op.value else self.data[op.key]
            self.data[op.key] = op.value + old
            return outcome

    def machine(self: kv_server.KVServer) -> StateMachine:
        return Prepending() if self.id == 0 else fresh(self)

    mp.setattr(kv_server.KVServer, "_fresh_machine", machine)


def reply_before_apply(mp: pytest.MonkeyPatch) -> None:
    propose = kv_server.KVServer._propose

    def propose_and_reply(self: kv_server.KVServer, src: int | str, op: Op) -> None:
        propose(self, src, op)
        if op.kind != GET:
            self._answer_op(src, op, "OK", "")  # the bug: "OK" at Start, before commit

    mp.setattr(kv_server.KVServer, "_propose", propose_and_reply)


def read_index_without_round(mp: pytest.MonkeyPatch) -> None:
    def confirm_at_once(self: RaftCore, request: int) -> tuple[bool, Effects]:
        # The bug: a leader answers reads at its commit index without a heartbeat round —
        # it trusts that it still leads.
        if self.role is not Role.LEADER:
            return False, self._finish()
        self._out.reads.append(ReadReady(request=request, index=self.commit_index))
        return True, self._finish()

    mp.setattr(raft_core.RaftCore, "read_index", confirm_at_once)


@dataclass(frozen=True)
class Mutant:
    name: str
    patch: Callable[[pytest.MonkeyPatch], None]
    scenario: str
    invariant: str  # what check-trace names
    read_index: bool = False


MUTANTS = (
    Mutant("stale-read", stale_read, "persist_partition_unreliable_linearizable_3A",
           "ReplyMatchesState"),
    Mutant("no-duplicate-detection", no_duplicate_detection, "unreliable_3A",
           "NoCallAppliedTwice"),
    Mutant("snapshot-without-duplicate-table", snapshot_without_duplicate_table,
           "snapshot_unreliable_recover_3B", "NoCallAppliedTwice"),
    Mutant("restart-forgets-duplicates", restart_forgets_duplicates,
           "snapshot_unreliable_recover_3B", "NoCallAppliedTwice"),
    Mutant("replicas-diverge", replicas_diverge, "concurrent_3A", "ReplicasAgree"),
    Mutant("reply-before-apply", reply_before_apply, "persist_partition_3A",
           "ReplyMatchesState"),
    Mutant("read-index-without-round", read_index_without_round, "one_partition_3A",
           "NoStaleRead", read_index=True),
)
