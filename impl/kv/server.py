"""The key/value server core: a replicated store on one Raft core, sans I/O (lab 3A–3B).

Theory of operation
-------------------
A `KVServer` is a replicated state machine on Raft (impl.rsm.server: the Raft core, the
waiters, applying in log order, snapshots) whose machine is the store and its duplicate table
(`StateMachine`). Its driver feeds it the same inputs as Raft's — a delivered message (Raft's
or a clerk's request), a timer — and carries out the `ServerEffects` each returns, in the
order of impl.rsm.effects. Every clerk call, get included, goes through the log: the server
that believes it leads appends the call with `_propose`, and answers once the entry comes
back applied at its index.

Rules this module keeps (with those of impl.rsm.server):

* A reply reports success only for a call whose entry was applied at its index: the waiter
  at index i is answered when entry i is applied, with what applying it did (a get's value
  is read at i; "Linearizability" in the Raft paper's §8).
* A waiter is answered ErrWrongLeader, and the clerk tries elsewhere, when another call is
  applied at its index (a new leader overwrote it), or when this server stops being leader
  or its term changes: then its entry may still commit, or never; the clerk's retry and the
  duplicate table make either case execute exactly once (§8, "client interactions").
* No stale reads: a get is answered only from an entry it appended and saw applied, i.e.
  committed by a majority in this leader's term — a leader cut off in a minority never
  answers. All reads go through `_read`.
* With `ServerConfig.read_index`, a get is answered by ReadIndex (Raft thesis §6.4;
  impl.rsm.server) instead: nothing goes to the log; the leader answers from its store once
  Raft confirmed, after the get arrived, that it still led with an entry of its term
  committed, and the store has applied through that commit index. A leader cut off in a
  minority never hears from a majority, so it never answers either. Such a get does not
  touch the duplicate table (it changes nothing, so a retry may simply read again).
* Writes already executed (the duplicate table says so) are answered OK at once: applying
  them again would change nothing, and the table only holds committed, applied calls.
* Snapshots (§7): when Raft's persisted state approaches `maxraftstate`, the store and the
  duplicate table are snapshotted and Raft trims its log (impl.rsm.server).
"""

from __future__ import annotations

from typing import Any

from impl.kv.effects import Read
from impl.kv.machine import APPEND, GET, NOOP_OP, PUT, Op, Outcome, StateMachine
from impl.kv.messages import (
    ERR_NO_KEY,
    ERR_WRONG_LEADER,
    OK,
    ClerkReply,
    ClerkRequest,
    Err,
    GetArgs,
    GetReply,
    PutAppendReply,
)
from impl.rsm.server import ReplicatedServer, ServerConfig, Waiter

__all__ = ["KVServer", "ServerConfig"]


class KVServer(ReplicatedServer[Op, StateMachine]):
    """One key/value server. Construct it (fresh, or from persisted Raft state and snapshot),
    call `boot()`, then feed it inputs; each returns the `ServerEffects` to carry out."""

    # ---------------------------------------------------------------- the state machine
    def _fresh_machine(self) -> StateMachine:
        return StateMachine()

    def _decode_machine(self, data: bytes) -> StateMachine:
        return StateMachine.decode(data)

    def _command(self, raw: Any) -> Op:
        return Op(*raw)

    def _same(self, waiting: Op, applied: Op) -> bool:
        return waiting.same_call(applied)

    # ---------------------------------------------------------------- clerk requests
    def _on_request(self, src: int | str, m: ClerkRequest) -> None:
        if not self.is_leader:
            self._answer(src, m, ERR_WRONG_LEADER)
            return
        if isinstance(m, GetArgs):
            self._read(src, Op(GET, m.key, None, m.clerk, m.seq))
            return
        if self.machine.executed(m.clerk, m.seq):
            self._answer(src, m, OK)  # a retry of a write already applied: nothing to redo
            return
        self._propose(src, Op(PUT if m.op == "Put" else APPEND, m.key, m.value, m.clerk, m.seq))

    def _read(self, src: int | str, op: Op) -> None:
        """The read path: a get is an entry in the log, answered when applied; or, with
        ReadIndex on, answered from the store once Raft confirms a read index."""
        if self.config.read_index:
            self._read_index(src, op, NOOP_OP)
        else:
            self._propose(src, op)

    def _answer_read(self, waiter: Waiter[Op], index: int) -> None:
        op = waiter.command
        value = self.machine.data.get(op.key)
        outcome = Outcome(executed=False, output=value or "", found=value is not None)
        self._events.append(Read(index=self.machine.applied, read_index=index, op=op,
                                 outcome=outcome))
        self._answer_op(waiter.to, op, OK if outcome.found else ERR_NO_KEY, outcome.output or "")

    # ---------------------------------------------------------------- replies
    def _answer_applied(self, waiter: Waiter[Op], command: Op, outcome: Outcome) -> None:
        if command.kind == GET:
            err: Err = OK if outcome.found else ERR_NO_KEY
            self._answer_op(waiter.to, command, err, outcome.output or "")
        else:
            self._answer_op(waiter.to, command, OK, "")

    def _refuse(self, waiter: Waiter[Op]) -> None:
        self._answer_op(waiter.to, waiter.command, ERR_WRONG_LEADER, "")

    def _answer(self, to: int | str, m: ClerkRequest, err: Err) -> None:
        reply: ClerkReply = (GetReply(err=err, value="", seq=m.seq) if isinstance(m, GetArgs)
                             else PutAppendReply(err=err, seq=m.seq))
        self._send(to, reply)

    def _answer_op(self, to: int | str, op: Op, err: Err, value: str) -> None:
        reply: ClerkReply = (GetReply(err=err, value=value, seq=op.seq) if op.kind == GET
                             else PutAppendReply(err=err, seq=op.seq))
        self._send(to, reply)
