"""A replicated state machine on one Raft core, sans I/O: the server half every service on Raft
shares (the key/value store, the shard controller, a shard key/value group's server).

Theory of operation
-------------------
A `ReplicatedServer` owns a `RaftCore` and a service state machine (`Machine`). Its driver
feeds it the same inputs as Raft's — a delivered message (Raft's, or one for the service), a
timer — and carries out the `ServerEffects` each returns, in the order of impl.rsm.effects.
A service subclasses it and supplies what differs: how it reads a log entry (`_command`),
how it builds its state machine (`_fresh_machine`, `_decode_machine`), what it does with a
message for it (`_on_request`) or a timer of its own (`_on_timer`, `SERVICE_TIMERS`), and how
it answers a waiter (`_answer_applied`, `_refuse`).

Calls go through the log: the server that believes it leads appends a command with
`_propose`, remembers who waits at that index, and answers once the entry comes back
applied. A service may also append commands nobody waits for (`_start`: a configuration
change, a shard installed).

Rules this module keeps:

* A waiter is answered with what applying its entry did only when the entry applied at its
  index is its own command (`_same`); the clerk's call took effect there ("Linearizability",
  the Raft paper's §8).
* A waiter is refused (`_refuse`: the clerk tries elsewhere) when another command is applied
  at its index (a new leader overwrote it), when a snapshot from the leader covers its index
  (which command is there is no longer known here), or when this server stops being leader
  or its term changes: then its entry may still commit, or never; the clerk's retry and the
  duplicate table (impl.rsm.dedup) make either case execute exactly once (§8, "client
  interactions").
* Entries are applied in index order, each once, in the step that commits them; the
  machine's `applied` always equals Raft's last applied index.
* Reads by ReadIndex (Raft thesis §6.4), when `ServerConfig.read_index` is on and the
  service routes a read through `_read_index`: nothing is written to the log; Raft confirms
  the read (`RaftCore.read_index`), and the read is answered (`_answer_read`) from the state
  machine, which has applied through the confirmed index by then. A leader that has no entry
  of its term in its log appends the service's no-op, since Raft confirms reads only once an
  entry of the leader's term has committed. A waiting read is refused exactly when a log
  waiter would be: this server stops leading, or its term changes.
* Snapshots (§7): after a step that applied entries, if Raft's persisted state is at least
  `snapshot_fraction` of `maxraftstate` bytes, the service snapshots its state machine
  (which holds its duplicate tables) and Raft trims its log. `maxraftstate = -1` never
  snapshots. A server restarts from its snapshot and re-applies the committed entries after
  it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from impl.raft.core import RaftConfig, RaftCore, Role, StartResult
from impl.raft.effects import ApplyCommand, Effects, HardState, Persist, Send, TimerOp
from impl.raft.messages import Message
from impl.raft.persister import encode_state
from impl.rsm.effects import Applied, Compacted, Installed, Outgoing, ServerEffects


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    maxraftstate: int = -1  # bytes of persisted Raft state that call for a snapshot; -1: never
    # "Approaches maxraftstate": snapshot at this fraction of it, so the state rarely passes it.
    snapshot_fraction: float = 0.9
    # One batch in flight per follower: under a steady stream of calls, heartbeats would
    # otherwise start extra replication streams (see RaftConfig.strict_flow_control).
    raft: RaftConfig = field(default_factory=lambda: RaftConfig(strict_flow_control=True))
    # Serve reads by ReadIndex (thesis §6.4) instead of through the log; off: as before.
    read_index: bool = False

    def __post_init__(self) -> None:
        if self.maxraftstate != -1 and self.maxraftstate < 1:
            raise ValueError(f"maxraftstate must be -1 (never snapshot) or at least 1 byte, "
                             f"not {self.maxraftstate}")
        if not 0 < self.snapshot_fraction <= 1:
            raise ValueError("snapshot_fraction must be in (0, 1]")


class Machine(Protocol):
    """What the server needs of a service's state machine."""

    applied: int  # the last log index reflected in it

    def apply(self, index: int, command: Any) -> Any: ...  # returns the outcome

    def encode(self) -> bytes: ...  # a snapshot of the whole state, duplicate tables included


C = TypeVar("C")  # the service's command type (what its log entries hold)
M = TypeVar("M", bound=Machine)  # the service's state machine


@dataclass(frozen=True, slots=True)
class Waiter(Generic[C]):
    """Someone waiting for the command this leader appended at some index: where to send the
    answer, and the command."""

    to: int | str
    command: C


class ReplicatedServer(Generic[C, M]):
    """One server of a replicated service. Construct it (fresh, or from persisted Raft state and
    snapshot), call `boot()`, then feed it inputs; each returns the `ServerEffects` to carry
    out. Subclasses implement the hooks below the driving surface."""

    #: Timer names that belong to the service (its `_on_timer`); every other name is Raft's.
    SERVICE_TIMERS: ClassVar[frozenset[str]] = frozenset()

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
        self.machine: M = self._decode_machine(snapshot) if snapshot else self._fresh_machine()
        if self.machine.applied != self.raft.last_applied:
            raise ValueError(f"snapshot covers index {self.machine.applied}, Raft's "
                             f"{self.raft.last_applied}")
        self._threshold = (-1 if self.config.maxraftstate < 0
                           else int(self.config.maxraftstate * self.config.snapshot_fraction))
        self._waiting: dict[int, Waiter[C]] = {}
        self._waiting_term = 0  # every waiter was registered as leader of this term
        self._reading: dict[int, Waiter[C]] = {}  # ReadIndex reads waiting, by request id
        self._reading_term = 0
        self._next_read = 0
        self._persist: HardState | None = None  # the latest Raft state to persist this step
        self._snapshot: bytes | None = None  # the snapshot to persist with it, if it changed
        self._messages: list[Send] = []
        self._events: list[Any] = []
        self._replies: list[Outgoing] = []
        self._timers: dict[str, TimerOp] = {}

    # ---------------------------------------------------------------- the driving surface
    def boot(self) -> ServerEffects:
        self._absorb(self.raft.boot())
        self._on_boot()
        return self._finish()

    def step(self, src: int | str, message: Message | Any) -> ServerEffects:
        """Deliver one message: a Raft peer's, or one for the service."""
        if isinstance(message, Message):
            assert isinstance(src, int)
            self._absorb(self.raft.step(src, message))
        else:
            self._on_request(src, message)
        return self._finish()

    def timeout(self, name: str) -> ServerEffects:
        if name in self.SERVICE_TIMERS:
            self._on_timer(name)
        else:
            self._absorb(self.raft.timeout(name))
        return self._finish()

    def persisted(self, state: HardState) -> ServerEffects:
        """Parallel write (`RaftConfig.parallel_write`): the driver's disk now holds `state`,
        a Raft state of an earlier `persist` (reported as `RaftCore.persisted` requires); a
        leader may commit, so entries may be applied and callers answered."""
        self._absorb(self.raft.persisted(state))
        return self._finish()

    @property
    def is_leader(self) -> bool:
        return self.raft.role is Role.LEADER

    # ---------------------------------------------------------------- the service's hooks
    def _fresh_machine(self) -> M:
        """The state machine of a server that has no snapshot."""
        raise NotImplementedError

    def _decode_machine(self, data: bytes) -> M:
        """The state machine from a snapshot's bytes (`Machine.encode`)."""
        raise NotImplementedError

    def _command(self, raw: Any) -> C:
        """A log entry's command as the service reads it (the persister gives back tuples)."""
        raise NotImplementedError

    def _on_request(self, src: int | str, message: Any) -> None:
        """A message for the service: a clerk's request, or a reply to one of its own."""
        raise NotImplementedError

    def _on_timer(self, name: str) -> None:
        """One of the service's own timers (`SERVICE_TIMERS`) fired."""

    def _on_boot(self) -> None:
        """After Raft booted: the service may arm its own timers."""

    def _after_step(self) -> None:
        """At the end of every input, after Raft's output was absorbed: where a service acts
        on what it applied (never inside `_applied`, which runs while Raft's bundle is being
        applied: appending to the log there could commit, in a cluster of one, entries that
        would be applied before the rest of the bundle)."""

    def _same(self, waiting: C, applied: C) -> bool:
        """Is the command applied at a waiter's index the waiter's own?"""
        return waiting == applied

    def _answer_applied(self, waiter: Waiter[C], command: C, outcome: Any) -> None:
        """The waiter's command was applied at its index with this outcome: answer it."""
        raise NotImplementedError

    def _refuse(self, waiter: Waiter[C]) -> None:
        """The waiter's entry may never take effect at its index: tell it to try again."""
        raise NotImplementedError

    def _applied(self, index: int, term: int, command: C, outcome: Any) -> None:
        """After `command` was applied at `index` (and its event recorded), before its waiter
        is answered: a service may react (e.g. start what a new configuration calls for)."""

    def _installed(self, index: int) -> None:
        """After a snapshot from the leader replaced the state machine."""

    def _answer_read(self, waiter: Waiter[C], index: int) -> None:
        """A ReadIndex read is confirmed at `index` (the machine has applied through it):
        answer it from the machine."""
        raise NotImplementedError

    # ---------------------------------------------------------------- proposing commands
    def _start(self, command: C) -> StartResult:
        """Append `command` to the log if this server leads; nobody waits for it."""
        result, effects = self.raft.start(command)
        if result.is_leader:
            self._absorb(effects)
        return result

    def _propose(self, src: int | str, command: C) -> None:
        """Append `command` and answer `src` once it is applied at its index (or refuse)."""
        result, effects = self.raft.start(command)
        if not result.is_leader:  # callers check first; kept for safety
            self._refuse(Waiter(src, command))
            return
        if self._waiting and self._waiting_term != result.term:
            self._fail_waiters()
        self._waiting_term = result.term
        self._waiting[result.index] = Waiter(src, command)
        self._absorb(effects)  # a cluster of one applies at once: the waiter must be there

    def _read_index(self, src: int | str, command: C, noop: C) -> None:
        """Answer the read `command` to `src` by ReadIndex, or refuse it if this server does
        not lead; `noop` is the entry to append when the leader's term has none yet."""
        self._next_read += 1
        accepted, effects = self.raft.read_index(self._next_read)
        if not accepted:
            self._refuse(Waiter(src, command))
            return
        if self._reading and self._reading_term != self.raft.term:
            self._fail_reads()
        self._reading_term = self.raft.term
        self._reading[self._next_read] = Waiter(src, command)
        self._absorb(effects)  # a cluster of one may confirm at once: the read must be there
        if self.raft.last_term != self.raft.term:
            self._start(noop)

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
                self._apply(msg.index, msg.term, self._command(msg.command))
            else:
                self._install(msg.index, msg.term, msg.data)
        for ready in effects.reads:  # after the applies: the machine is through the index
            reader = self._reading.pop(ready.request, None)
            if reader is not None:
                self._answer_read(reader, ready.index)
        if self._waiting and (not self.is_leader or self.raft.term != self._waiting_term):
            self._fail_waiters()  # lost the term: these entries may commit, or never
        if self._reading and (not self.is_leader or self.raft.term != self._reading_term):
            self._fail_reads()  # never confirmed: another server may lead now

    def _apply(self, index: int, term: int, op: C) -> None:
        outcome = self.machine.apply(index, op)
        self._events.append(Applied(index=index, term=term, op=op, outcome=outcome))
        self._applied(index, term, op, outcome)
        waiter = self._waiting.pop(index, None)
        if waiter is None:
            return
        if self._same(waiter.command, op):
            self._answer_applied(waiter, op, outcome)
        else:
            self._refuse(waiter)

    def _install(self, index: int, term: int, data: bytes) -> None:
        self.machine = self._decode_machine(data)
        if self.machine.applied != index:
            raise ValueError(f"snapshot says index {self.machine.applied}, Raft says {index}")
        self._events.append(Installed(index=index, term=term))
        for at in [i for i in self._waiting if i <= index]:
            self._refuse(self._waiting.pop(at))  # which command is at `at` is unknown here
        self._installed(index)

    def _fail_waiters(self) -> None:
        for at in sorted(self._waiting):
            self._refuse(self._waiting[at])
        self._waiting.clear()

    def _fail_reads(self) -> None:
        for request in sorted(self._reading):
            self._refuse(self._reading[request])
        self._reading.clear()

    # ---------------------------------------------------------------- the service's output
    def _send(self, to: int | str, message: Any) -> None:
        """Queue a message of the service (a reply, or a request of its own)."""
        self._replies.append(Outgoing(to=to, message=message))

    def _set_timer(self, op: TimerOp) -> None:
        self._timers[op.name] = op

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
        self._after_step()
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
