"""The key/value server core: a replicated store on one Raft core, sans I/O (lab 3A–3B).

Theory of operation
-------------------
A `KVServer` owns a `RaftCore` and a `StateMachine`. Its driver feeds it the same inputs as
Raft's — a delivered message (Raft's or a clerk's request), a timer — and carries out the
`ServerEffects` each returns, in the order of impl.kv.effects. Every clerk call, get included,
goes through the log: the server that believes it leads appends the call with `start`,
remembers who waits at that index, and answers once the entry comes back applied.

Rules this module keeps:

* A reply reports success only for a call whose entry was applied at its index: the waiter
  at index i is answered when entry i is applied, with what applying it did (a get's value
  is read at i; "Linearizability" in the Raft paper's §8).
* A waiter is answered ErrWrongLeader, and the clerk tries elsewhere, when another call is
  applied at its index (a new leader overwrote it), or when this server stops being leader
  or its term changes: then its entry may still commit, or never; the clerk's retry and the
  duplicate table make either case execute exactly once (§8, "client interactions").
* No stale reads: a get is answered only from an entry it appended and saw applied, i.e.
  committed by a majority in this leader's term — a leader cut off in a minority never
  answers. All reads go through `_read`, the one place a ReadIndex path would replace.
* Writes already executed (the duplicate table says so) are answered OK at once: applying
  them again would change nothing, and the table only holds committed, applied calls.
* Snapshots (§7): after a step that applied entries, if Raft's persisted state is at least
  `snapshot_fraction` of `maxraftstate` bytes, the service snapshots the store and the
  duplicate table and Raft trims its log. `maxraftstate = -1` never snapshots. A server
  restarts from its snapshot and re-applies the committed entries after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from impl.kv.effects import Applied, Compacted, Installed, Outgoing, ServerEffects, ServiceEvent
from impl.kv.machine import APPEND, GET, PUT, Op, StateMachine
from impl.kv.messages import (
    ERR_NO_KEY,
    ERR_WRONG_LEADER,
    OK,
    ClerkReply,
    ClerkRequest,
    Err,
    GetArgs,
    GetReply,
    PutAppendArgs,
    PutAppendReply,
)
from impl.raft.core import RaftConfig, RaftCore, Role
from impl.raft.effects import (
    ApplyCommand,
    Effects,
    HardState,
    Persist,
    Send,
    TimerOp,
)
from impl.raft.messages import Message
from impl.raft.persister import encode_state


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    maxraftstate: int = -1  # bytes of persisted Raft state that call for a snapshot; -1: never
    # "Approaches maxraftstate": snapshot at this fraction of it, so the state rarely passes it.
    snapshot_fraction: float = 0.9
    # One batch in flight per follower: under a steady stream of calls, heartbeats would
    # otherwise start extra replication streams (see RaftConfig.strict_flow_control).
    raft: RaftConfig = field(default_factory=lambda: RaftConfig(strict_flow_control=True))

    def __post_init__(self) -> None:
        if self.maxraftstate != -1 and self.maxraftstate < 1:
            raise ValueError(f"maxraftstate must be -1 (never snapshot) or at least 1 byte, "
                             f"not {self.maxraftstate}")
        if not 0 < self.snapshot_fraction <= 1:
            raise ValueError("snapshot_fraction must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class _Waiter:
    """A clerk waiting for the entry this leader appended at some index."""

    clerk_node: int | str  # where to send the reply
    op: Op


class KVServer:
    """One key/value server. Construct it (fresh, or from persisted Raft state and snapshot),
    call `boot()`, then feed it inputs; each returns the `ServerEffects` to carry out."""

    def __init__(
        self,
        node_id: int,
        peers: Sequence[int],
        config: ServerConfig | None = None,
        restored: HardState | None = None,
        snapshot: bytes = b"",
    ) -> None:
        self.id = node_id
        self.config = config or ServerConfig()
        self.raft = RaftCore(node_id, peers, self.config.raft, restored, snapshot)
        # The persisted snapshot is the service's own state as of Raft's snapshot index;
        # Raft resumes applying right after it.
        self.machine = StateMachine.decode(snapshot) if snapshot else StateMachine()
        if self.machine.applied != self.raft.last_applied:
            raise ValueError(f"snapshot covers index {self.machine.applied}, Raft's "
                             f"{self.raft.last_applied}")
        self._threshold = (-1 if self.config.maxraftstate < 0
                           else int(self.config.maxraftstate * self.config.snapshot_fraction))
        self._waiting: dict[int, _Waiter] = {}
        self._waiting_term = 0  # every waiter was registered as leader of this term
        self._persist: HardState | None = None  # the latest Raft state to persist this step
        self._snapshot: bytes | None = None  # the snapshot to persist with it, if it changed
        self._messages: list[Send] = []
        self._events: list[ServiceEvent] = []
        self._replies: list[Outgoing] = []
        self._timers: dict[str, TimerOp] = {}

    # ---------------------------------------------------------------- the driving surface
    def boot(self) -> ServerEffects:
        self._absorb(self.raft.boot())
        return self._finish()

    def step(self, src: int | str, message: Message | ClerkRequest) -> ServerEffects:
        """Deliver one message: a Raft peer's, or a clerk's request."""
        if isinstance(message, GetArgs | PutAppendArgs):
            self._on_request(src, message)
        else:
            assert isinstance(src, int)
            self._absorb(self.raft.step(src, message))
        return self._finish()

    def timeout(self, name: str) -> ServerEffects:
        self._absorb(self.raft.timeout(name))
        return self._finish()

    @property
    def is_leader(self) -> bool:
        return self.raft.role is Role.LEADER

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
        """The read path: a get is an entry in the log, answered when applied (no stale
        reads). A ReadIndex read (Raft thesis §6.4) would replace this one function."""
        self._propose(src, op)

    def _propose(self, src: int | str, op: Op) -> None:
        result, effects = self.raft.start(op)
        if not result.is_leader:  # unreachable after the check above; kept for safety
            self._answer_op(src, op, ERR_WRONG_LEADER, "")
            return
        if self._waiting and self._waiting_term != result.term:
            self._fail_waiters()
        self._waiting_term = result.term
        self._waiting[result.index] = _Waiter(src, op)
        self._absorb(effects)  # a cluster of one applies at once: the waiter must be there

    # ---------------------------------------------------------------- Raft's output
    def _absorb(self, effects: Effects) -> None:
        """Take one Raft bundle: keep its messages and timers, apply what it commits."""
        if effects.persist is not None:
            # Raft's later bundles hold later states: the last state, and the last snapshot
            # that changed, are what this step must make durable.
            self._persist = effects.persist.state
            if effects.persist.snapshot is not None:
                self._snapshot = effects.persist.snapshot
        self._messages.extend(effects.messages)
        for op in effects.timers:
            self._timers[op.name] = op
        for msg in effects.applies:
            if isinstance(msg, ApplyCommand):
                self._apply(msg.index, msg.term, Op(*msg.command))
            else:
                self._install(msg.index, msg.term, msg.data)
        if self._waiting and (not self.is_leader or self.raft.term != self._waiting_term):
            self._fail_waiters()  # lost the term: these entries may commit, or never

    def _apply(self, index: int, term: int, op: Op) -> None:
        outcome = self.machine.apply(index, op)
        self._events.append(Applied(index=index, term=term, op=op, outcome=outcome))
        waiter = self._waiting.pop(index, None)
        if waiter is None:
            return
        if not waiter.op.same_call(op):
            self._answer_op(waiter.clerk_node, waiter.op, ERR_WRONG_LEADER, "")
        elif op.kind == GET:
            err: Err = OK if outcome.found else ERR_NO_KEY
            self._answer_op(waiter.clerk_node, op, err, outcome.output or "")
        else:
            self._answer_op(waiter.clerk_node, op, OK, "")

    def _install(self, index: int, term: int, data: bytes) -> None:
        self.machine = StateMachine.decode(data)
        if self.machine.applied != index:
            raise ValueError(f"snapshot says index {self.machine.applied}, Raft says {index}")
        self._events.append(Installed(index=index, term=term))
        for at in [i for i in self._waiting if i <= index]:
            waiter = self._waiting.pop(at)  # which call is at `at` is no longer known here
            self._answer_op(waiter.clerk_node, waiter.op, ERR_WRONG_LEADER, "")

    def _fail_waiters(self) -> None:
        for at in sorted(self._waiting):
            waiter = self._waiting[at]
            self._answer_op(waiter.clerk_node, waiter.op, ERR_WRONG_LEADER, "")
        self._waiting.clear()

    # ---------------------------------------------------------------- replies
    def _answer(self, to: int | str, m: ClerkRequest, err: Err) -> None:
        reply: ClerkReply = (GetReply(err=err, value="", seq=m.seq) if isinstance(m, GetArgs)
                             else PutAppendReply(err=err, seq=m.seq))
        self._replies.append(Outgoing(to=to, message=reply))

    def _answer_op(self, to: int | str, op: Op, err: Err, value: str) -> None:
        reply: ClerkReply = (GetReply(err=err, value=value, seq=op.seq) if op.kind == GET
                             else PutAppendReply(err=err, seq=op.seq))
        self._replies.append(Outgoing(to=to, message=reply))

    # ---------------------------------------------------------------- snapshots, and closing
    def raft_state_size(self) -> int:
        """Bytes of Raft's persisted state, as the persister measures it (the lab's
        RaftStateSize)."""
        return len(encode_state(self.raft.hard_state()))

    def _maybe_snapshot(self) -> None:
        if self.raft.snapshot_index >= self.machine.applied:
            return  # nothing new to put in a snapshot
        if self.raft_state_size() < self._threshold:
            return
        data = self.machine.encode()
        self._events.append(Compacted(index=self.machine.applied, size=len(data)))
        self._absorb(self.raft.snapshot(self.machine.applied, data))

    def _finish(self) -> ServerEffects:
        if self._threshold >= 0 and self._events:
            self._maybe_snapshot()
        persist = None
        if self._persist is not None:
            persist = Persist(state=self._persist, snapshot=self._snapshot)
        effects = ServerEffects(persist=persist, messages=tuple(self._messages),
                                events=tuple(self._events), replies=tuple(self._replies),
                                timers=tuple(self._timers.values()))
        self._persist = self._snapshot = None
        self._messages, self._events, self._replies = [], [], []
        self._timers = {}
        return effects
