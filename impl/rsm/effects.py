"""What one step of a replicated service's server or clerk asks its driver to do, and in which
order: the output bundles every service on Raft shares (key/value, shard controller, shard
key/value).

A server's bundle (`ServerEffects`) extends Raft's ordering contract (impl.raft.effects):

1. `persist` — make it durable first: Raft's state, and the service's snapshot when it
   changed (the snapshot holds the service's state and its duplicate table, so a restart can
   never re-execute a call the snapshot already covers).
2. `messages` — then send Raft's messages, in order. Under `RaftConfig.parallel_write` a
   message marked `early` (a leader's AppendEntries) may leave before step 1 is done, as
   impl.raft.effects allows; the driver then reports each finished write with
   `ReplicatedServer.persisted`, whose bundle is carried out like any other.
3. `events` — what the service did this step, already done inside the core, in order: entries
   applied to its state machine (`Applied`), a snapshot installed from the leader
   (`Installed`), a snapshot taken to compact the log (`Compacted`), a read answered by
   ReadIndex (`Read`, after the applies it waited for). The driver only records
   them (trace, tester); they come before the replies that depend on them.
4. `replies` — then the service's own messages: answers to clerks and, for a service that
   calls others (a shard key/value server polls the controller and hands shards to other
   groups), its requests. A reply that reports success is only ever produced after the
   call's entry was applied at its index (step 3), in the same step or an earlier one.
   **Early replies.** Every service here builds its replies and requests from the state
   machine (entries applied, hence committed: answers, ReadIndex reads, the shard data a
   group hands off, its duplicate table), from the server's role (a refusal), or from
   nothing durable at all (a query to the controller) — never from an entry or a vote
   this step asked to persist. Under `RaftConfig.parallel_write` a committed entry is on a
   majority of durable logs whatever this server's disk holds (impl.raft.effects, rule
   2), so a driver may send the replies at once, ahead of step 1 and of every earlier
   persist not yet durable; a crash of this server loses nothing a reply reported. A new
   service must keep that property to be driven so (or its driver must hold its replies).
5. `timers` — Raft's timers and the service's own, as in Raft's bundle (random delays drawn
   by the driver).

A clerk's bundle (`ClerkEffects`) is simpler: `messages` to send, then `timers`, then `done`,
the finished call's output if the step finished one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from impl.raft.effects import Persist, Send, TimerOp


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """A message of the service, not of Raft: a clerk's request to a server, a server's reply
    to a clerk, or a server's request to another service (named by the network: a server id,
    or a clerk's or a server's name)."""

    to: int | str
    message: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Applied:
    """Committed entry `index` (of `term`) applied to the state machine: `op` is the entry's
    command as the service reads it, `outcome` what applying it did (the service's type: for
    the key/value store, whether it executed — False for a duplicate — and what a get read)."""

    index: int
    term: int
    op: Any
    outcome: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Installed:
    """The leader's snapshot through `index` replaced the service's state and its duplicate
    table."""

    index: int
    term: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Compacted:
    """The service snapshotted its state through `index` (`size` bytes); Raft trimmed its
    log, because its persisted state approached `maxraftstate`."""

    index: int
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """A read answered by ReadIndex (thesis §6.4), not through the log: `op` read the state
    machine at `index` (what it had applied) after Raft confirmed `read_index` (≤ index);
    `outcome` is what it read (the service's type, as in `Applied`)."""

    index: int
    read_index: int
    op: Any
    outcome: Any


ServiceEvent = Applied | Installed | Compacted | Read


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerEffects:
    persist: Persist | None = None
    messages: tuple[Send, ...] = ()
    events: tuple[Any, ...] = ()  # ServiceEvent, or a service's own event kinds
    replies: tuple[Outgoing, ...] = ()
    timers: tuple[TimerOp, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Done:
    """The clerk's current call finished: its sequence number and output (a get's value, a
    queried configuration; None for a write)."""

    seq: int
    output: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ClerkEffects:
    messages: tuple[Outgoing, ...] = ()
    timers: tuple[TimerOp, ...] = ()
    done: Done | None = None
