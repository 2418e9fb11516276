"""What one step of the Raft core asks its driver to do, and in which order.

The ordering contract (like etcd's `Ready`), which every driver keeps:

1. `persist` — if present, make it durable **before** anything else. A vote granted or an
   entry acknowledged in a message must survive a crash of the sender (Figure 2: "persistent
   state, updated on stable storage before responding to RPCs").
2. `messages` — then send them, in order. They may depend on what was just persisted.
   One exception, only under `RaftConfig.parallel_write` (Raft thesis §10.2.1): a `Send`
   marked `early` may leave at once, before this step's `persist` and before any earlier
   step's persist that is not durable yet. The core marks exactly the AppendEntries
   (heartbeats included) of a leader in a step that changed neither its term nor its vote;
   every other message — every Raft reply, every vote granted or asked for, InstallSnapshot —
   still waits for its step's persist and every earlier one, as above. A driver may always
   treat an early message as an ordinary one (a stricter order is never wrong).
   Under `parallel_write` the driver also reports durability: each time its disk comes to
   hold a state it was asked to persist, it calls `RaftCore.persisted(state)` at once —
   before a later state can reach the disk — in the order the persists were made, and
   carries out that call's bundle like any other
   (it may commit, hence apply). A leader counts itself in a commit majority only through
   what was so reported; a driver that never reports keeps its leader from committing
   anything a majority of the *other* servers has not acknowledged.
   Hence, under `parallel_write`, **every committed entry is on a majority of durable
   logs** the moment this server learns it is committed (a follower's acknowledgement
   leaves only after its own persist; the leader counts itself only through `persisted`;
   a follower's commit index comes from a leader's), whatever this server's own disk
   holds. A driver may therefore let a service's output that depends only on committed
   state — a reply about an applied entry, a ReadIndex answer, a refusal — leave before
   its step's persist (impl.rsm.effects: "early replies"): a crash of this server then
   loses no entry the reply reported, since the majority keeps it and any later leader
   holds it (Leader Completeness). Without `parallel_write` a leader counts its own
   non-durable log (in a cluster of one, a commit needs no other disk), so there outputs
   keep the strict order.
3. `applies` — then hand them to the service, in order. They are committed entries (and
   snapshots received from the leader) that the service has not seen; the core has already
   counted them as applied. The service may call back into the core (e.g. `snapshot`) while
   handling one; the driver queues whatever that returns behind the current bundle.
4. `timers` — set or cancel named timers. A `SetTimer` with `low_ms < high_ms` asks the
   driver to draw the delay uniformly from [low_ms, high_ms] with its own seeded generator:
   the core never draws random numbers (the model checker enumerates instead).
5. `reads` — ReadIndex confirmations (thesis §6.4), only ever for reads the service asked
   for with `RaftCore.read_index`: read `request` may be answered from the service's state
   once it has applied through `index`. The core applies everything committed in the step
   that commits it, so by the end of this bundle's `applies` it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from impl.raft.messages import Command, Entry, Message


@dataclass(frozen=True, slots=True, kw_only=True)
class HardState:
    """Everything Raft persists (Figure 2's persistent state plus the snapshot's bounds),
    saved together so a crash can never separate a log from the snapshot it continues."""

    term: int
    voted_for: int | None
    snapshot_index: int
    snapshot_term: int
    log: tuple[Entry, ...]  # the entries after snapshot_index


@dataclass(frozen=True, slots=True, kw_only=True)
class Persist:
    state: HardState
    snapshot: bytes | None  # None: the snapshot is unchanged since the last Persist


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    to: int
    message: Message
    # May leave before this step's `persist` (and earlier steps' not yet durable ones): only
    # ever set under `RaftConfig.parallel_write`; see rule 2 of the module docstring.
    early: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyCommand:
    """The lab's ApplyMsg with CommandValid: a committed entry, in index order."""

    index: int
    term: int
    command: Command


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplySnapshot:
    """The lab's ApplyMsg with SnapshotValid: a snapshot received from the leader."""

    index: int
    term: int
    data: bytes


ApplyMsg = ApplyCommand | ApplySnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadReady:
    """ReadIndex read `request` is confirmed: this server led its term, with `index` (its
    commit index, an entry of its own term committed) the latest committed entry, at a moment
    after the read was asked for; answer it from a state that applied through `index`."""

    request: int
    index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTimer:
    name: str
    low_ms: int
    high_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTimer:
    name: str


TimerOp = SetTimer | CancelTimer


@dataclass(frozen=True, slots=True, kw_only=True)
class Effects:
    """One step's output; see the module docstring for the order to carry it out in."""

    persist: Persist | None = None
    messages: tuple[Send, ...] = ()
    applies: tuple[ApplyMsg, ...] = ()
    timers: tuple[TimerOp, ...] = ()
    reads: tuple[ReadReady, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.persist or self.messages or self.applies or self.timers
                    or self.reads)


NO_EFFECTS = Effects()


@dataclass(slots=True)
class EffectsBuilder:
    """Collects a step's effects inside the core; `build()` freezes them."""

    persist_needed: bool = False
    term_or_vote_changed: bool = False  # this step changed the term or the vote
    snapshot_changed: bool = False
    messages: list[Send] = field(default_factory=list)
    applies: list[ApplyMsg] = field(default_factory=list)
    timers: dict[str, TimerOp] = field(default_factory=dict)  # the last op per timer wins
    reads: list[ReadReady] = field(default_factory=list)
