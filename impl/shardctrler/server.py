"""The shard controller's server core: the configurations on one Raft core, sans I/O (lab 4A).

Theory of operation
-------------------
A `CtrlServer` is a replicated state machine on Raft (impl.rsm.server: the Raft core, the
waiters, applying in log order, snapshots) whose machine is the history of configurations
and its duplicate table (impl.shardctrler.machine). Every call — Join, Leave, Move and
Query alike — goes through the log and is answered once applied at its index, so a
Query(-1) reflects every Join, Leave and Move that completed before it was received (section
5.1's linearizable Query).

Rules this module keeps (with those of impl.rsm.server):

* A follower answers ErrWrongLeader; so does a leader whose entry at the waiter's index turns
  out to be another call, or that loses its term (the clerk tries elsewhere; the duplicate
  table makes the retry execute once).
* A change already executed (the table says so) is answered at once with the answer it got
  then: OK, or ErrInvalid with the reason it was refused.
* Rebalancing is the spec's rule (spec.shardctrler.rebalance), applied inside `apply` on every
  replica at the same index: deterministic, so every replica computes the same configuration.
"""

from __future__ import annotations

from typing import Any

from impl.rsm.server import ReplicatedServer, ServerConfig, Waiter
from impl.shardctrler.machine import JOIN, LEAVE, MOVE, QUERY, Controller, CtrlOp, Outcome
from impl.shardctrler.messages import (
    ERR_INVALID,
    ERR_WRONG_LEADER,
    OK,
    ChangeReply,
    CtrlRequest,
    JoinArgs,
    LeaveArgs,
    MoveArgs,
    QueryArgs,
    QueryReply,
)

__all__ = ["CtrlServer", "ServerConfig", "to_op"]


def to_op(m: CtrlRequest) -> CtrlOp:
    """The log entry of a clerk's request."""
    match m:
        case JoinArgs():
            return CtrlOp(JOIN, m.groups, m.clerk, m.seq)
        case LeaveArgs():
            return CtrlOp(LEAVE, m.gids, m.clerk, m.seq)
        case MoveArgs():
            return CtrlOp(MOVE, (m.shard, m.gid), m.clerk, m.seq)
        case QueryArgs():
            return CtrlOp(QUERY, m.num, m.clerk, m.seq)
    raise TypeError(f"not a controller request: {m!r}")


class CtrlServer(ReplicatedServer[CtrlOp, Controller]):
    """One controller server (the lab's StartServer): construct, `boot()`, then feed inputs."""

    def _fresh_machine(self) -> Controller:
        return Controller()

    def _decode_machine(self, data: bytes) -> Controller:
        return Controller.decode(data)

    def _command(self, raw: Any) -> CtrlOp:
        return CtrlOp(*raw)

    def _same(self, waiting: CtrlOp, applied: CtrlOp) -> bool:
        return waiting.same_call(applied)

    def _on_request(self, src: int | str, m: CtrlRequest) -> None:
        op = to_op(m)
        if not self.is_leader:
            self._answer(src, op, ERR_WRONG_LEADER)
            return
        if op.kind != QUERY and self.machine.executed(op.clerk, op.seq):
            # A retry of a change already applied: answer as it was answered then.
            reason = self.machine.answer_for(op.clerk, op.seq)
            self._answer(src, op, OK if reason is None else ERR_INVALID, reason=reason or "")
            return
        self._propose(src, op)

    def _answer_applied(self, waiter: Waiter[CtrlOp], command: CtrlOp,
                        outcome: Outcome) -> None:
        if command.kind == QUERY:
            self._send(waiter.to, QueryReply(err=OK, seq=command.seq, config=outcome.config))
        elif outcome.error is not None:
            self._answer(waiter.to, command, ERR_INVALID, reason=outcome.error)
        else:
            self._answer(waiter.to, command, OK)

    def _refuse(self, waiter: Waiter[CtrlOp]) -> None:
        self._answer(waiter.to, waiter.command, ERR_WRONG_LEADER)

    def _answer(self, to: int | str, op: CtrlOp, err: Any, reason: str = "") -> None:
        if op.kind == QUERY:
            self._send(to, QueryReply(err=err, seq=op.seq))
        else:
            self._send(to, ChangeReply(err=err, seq=op.seq, reason=reason))
