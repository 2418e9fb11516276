"""The service's state machine: the store and the duplicate table, applied in log order.

Theory of operation
-------------------
Every clerk call becomes one log entry, an `Op` (kind, key, value, clerk, seq). Raft hands
the committed entries to every replica in index order, and each replica's `StateMachine`
applies them one by one, so replicas that applied the same index hold the same state.

Exactly-once (the duplicate table every service shares, impl.rsm.dedup): a clerk issues one
call at a time with increasing sequence numbers and retries a call (same seq) until it gets
an answer, so one call may be in the log several times (a retry after a lost reply, or
through a new leader). `last_seq[clerk]` is the sequence number of the
clerk's last executed call; an entry whose seq is not above it is a duplicate and changes
nothing. A duplicate get still reads the store at its own index — the clerk has not returned
yet, so that point also lies inside the call — which is why the table holds no replies: a
write's reply is just "OK", and a get is answered from the store.

A leader that serves reads by ReadIndex appends a no-op (`NOOP_OP`) when its term has no
entry yet (impl.rsm.server): it changes nothing, not even the table.

The table is part of the snapshot (with the store and the index it covers), so it survives
restarts and travels with InstallSnapshot. Snapshots are msgpack, keys sorted, so equal
states give equal bytes; nothing is pickled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import msgpack

from impl.rsm import dedup

_MAGIC = "kv1"
GET, PUT, APPEND, NOOP = "get", "put", "append", "noop"
KINDS = (GET, PUT, APPEND)  # what clerks call


class Op(NamedTuple):
    """A clerk call as a log entry. A NamedTuple so it is a plain tuple in the Raft log, on
    the wire and in the persister (which gives tuples back); `Op(*command)` reads one."""

    kind: str  # get, put or append (or noop)
    key: str
    value: str | None  # None for a get
    clerk: int
    seq: int

    def same_call(self, other: Op) -> bool:
        return self.clerk == other.clerk and self.seq == other.seq


NOOP_OP = Op(NOOP, "", None, 0, 0)  # no clerk call: clerk 0 and seq 0 name none

@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying one entry did: `executed` is False for a duplicate (no effect); `output`
    is the value a get read ("" for an absent key; `found` says which), None for writes."""

    executed: bool
    output: str | None
    found: bool = True


class CorruptSnapshot(ValueError):
    """Snapshot bytes that are not a key/value snapshot this code wrote."""


class StateMachine:
    def __init__(self, data: dict[str, str] | None = None,
                 last_seq: dict[int, int] | None = None, applied: int = 0) -> None:
        self.data: dict[str, str] = data if data is not None else {}
        self.last_seq: dict[int, int] = last_seq if last_seq is not None else {}
        self.applied = applied  # the last log index reflected here

    def executed(self, clerk: int, seq: int) -> bool:
        """Has the call (clerk, seq) already been executed here?"""
        return dedup.executed(self.last_seq, clerk, seq)

    def apply(self, index: int, op: Op) -> Outcome:
        if index != self.applied + 1:
            raise ValueError(f"apply of index {index} after {self.applied}: out of order")
        self.applied = index
        if op.kind == NOOP:
            return Outcome(executed=False, output=None)
        fresh = dedup.record(self.last_seq, op.clerk, op.seq)
        if op.kind == GET:
            value = self.data.get(op.key)
            return Outcome(executed=fresh, output=value or "", found=value is not None)
        if fresh:
            assert op.value is not None
            if op.kind == PUT:
                self.data[op.key] = op.value
            else:  # append to an absent key acts as put
                self.data[op.key] = self.data.get(op.key, "") + op.value
        return Outcome(executed=fresh, output=None)

    # -- snapshots ---------------------------------------------------------------------
    def encode(self) -> bytes:
        body = [_MAGIC, self.applied, dict(sorted(self.data.items())),
                dedup.encode(self.last_seq)]
        packed: bytes = msgpack.packb(body, use_bin_type=True)
        return packed

    @classmethod
    def decode(cls, blob: bytes) -> StateMachine:
        try:
            body: Any = msgpack.unpackb(blob, raw=False, strict_map_key=True)
            magic, applied, data, table = body
            last_seq = dedup.decode(table)
        except (ValueError, TypeError, msgpack.ExtraData) as error:
            raise CorruptSnapshot(f"not a key/value snapshot: {error}") from error
        if magic != _MAGIC or not isinstance(applied, int) or not isinstance(data, dict):
            raise CorruptSnapshot("not a key/value snapshot (bad header)")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise CorruptSnapshot("key/value snapshot: keys and values must be strings")
        return cls(data, last_seq, applied)


def execute(data: dict[str, str], table: dedup.Table, op: Op) -> Outcome:
    """Execute one clerk call on a store and duplicate table held elsewhere (one shard's, in
    a shard group: impl.shardkv.machine) by the store's own rules (`StateMachine.apply`): a
    get reads; a fresh write writes; a duplicate changes nothing. The log index belongs to
    whoever holds the store; this view of it starts and ends at one call."""
    return StateMachine(data, table).apply(1, op)
