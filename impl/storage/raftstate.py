"""Raft's persistent state on disk: an append-only checksummed log and an atomically replaced
state file, with group commit (the network runtime's storage, DESIGN.md section 1, driver 3).

Theory of operation
-------------------
The core hands its driver a `Persist` — the whole `HardState` (term, vote, snapshot bounds,
log after the snapshot) and, when it changed, the service's snapshot — before anything that
depends on it may happen (impl.raft.effects). Writing the whole state each time would cost
the whole log per step, so the driver stages only what changed:

* the **log file** of generation g (`log-<g>.wal`) holds records (impl.storage.records),
  one per staged state: `[term, voted_for, from, [[term, command], ...]]` — the log from
  index `from` on is replaced by these entries (`from` 0: the log did not change). Raft only
  ever changes a log by cutting a suffix and appending (a follower's conflict, §5.3) or by
  appending, so one record says exactly what one step did, and a torn record loses exactly
  one step, never part of one;
* the **state file** (`raft-state`) is one record: generation g, term, vote, snapshot index
  and term, the log after the snapshot, and the snapshot. A new snapshot (the service's, or
  one installed from the leader, §7) writes a new state file of generation g+1 and starts
  an empty log file g+1: a checkpoint.

`stage` runs in the event loop and only encodes bytes; `flush` runs in a worker thread and
does the I/O for everything staged so far — one write and one fsync for the records of all
the steps since the last flush (group commit) — and returns the sequence number up to which
the staged states are now durable. The driver holds back every effect that follows a staged
state until `flush` has reported it durable.

A checkpoint's order of operations, each step durable before the next depends on it: create
the empty log file g+1; write the state file g+1 under a temporary name and fsync it; rename
it over `raft-state`; fsync the directory (which makes both the rename and the new log
file's name durable); only then are records of g+1 fsync'd and reported, and log file g
removed. A crash before the rename leaves state file g and log file g, intact; after it,
state file g+1, whose log file exists.

Recovery (`recover`) reads the state file (or starts empty), replays its generation's log
file, cuts a torn tail (records.scan: the bytes after the last intact record, which no flush
ever reported durable) and fsyncs the cut, and removes files of other generations and
temporary files a crash left behind. A damaged state file is not a torn tail — it is only
ever replaced by rename — and stops the server with `CorruptStorage`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack

from impl.raft.effects import HardState, Persist
from impl.raft.messages import Command, Entry
from impl.storage import records
from impl.storage.disk import Disk

STATE = "raft-state"
STATE_TEMP = "raft-state.tmp"
_STATE_MAGIC = "dscheck-raft-state"
_VERSION = 1


def log_name(generation: int) -> str:
    return f"log-{generation:08d}.wal"


def _generation_of(name: str) -> int | None:
    if name.startswith("log-") and name.endswith(".wal") and name[4:-4].isdigit():
        return int(name[4:-4])
    return None


class CorruptStorage(ValueError):
    """The state file, or an intact record, holds what this code never writes."""


DecodeCommand = Callable[[Any], Command]


@dataclass(slots=True)
class Recovered:
    state: HardState | None  # None: nothing was ever persisted (a first boot)
    snapshot: bytes
    generation: int
    notes: list[str] = field(default_factory=list)  # what recovery cut or removed, for the log


@dataclass(slots=True)
class _Append:
    data: bytes


@dataclass(slots=True)
class _Checkpoint:
    generation: int
    data: bytes  # the whole state file


def _pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def _entries_wire(entries: Sequence[Entry]) -> list[list[Any]]:
    return [[e.term, e.command] for e in entries]


class RaftStorage:
    """One server's Raft state in one directory. `recover()` first, then `stage` (event loop)
    and `flush` (one worker thread at a time)."""

    def __init__(self, disk: Disk, decode_command: DecodeCommand) -> None:
        self.disk = disk
        self._decode = decode_command
        self._lock = threading.Lock()
        self._ops: list[_Append | _Checkpoint] = []
        self._staged = 0  # sequence number of the last staged state
        self._unflushed = 0  # bytes staged since the last flush took its batch
        self._durable = 0  # ... and of the last one a flush made durable
        self._generation = 0
        # What the staged records describe so far (the event loop's view).
        self._term = 0
        self._vote: int | None = None
        self._base = 0  # snapshot index
        self._log: tuple[Entry, ...] = ()
        self._cuts: int | None = None  # the core's log_cuts when `_log` was staged, if given
        self._bytes = 0  # Raft state on disk: the state file's log part and the log file
        # The flusher's own view: the log file records go to.
        self._writing = log_name(0)

    # ------------------------------------------------------------------ recovery
    def recover(self) -> Recovered:
        notes: list[str] = []
        names = self.disk.names()
        generation, state, snapshot = 0, None, b""
        if STATE in names:
            generation, state, snapshot = self._read_state()
        entries = list(state.log) if state is not None else []
        term = state.term if state is not None else 0
        vote = state.voted_for if state is not None else None
        base = state.snapshot_index if state is not None else 0
        base_term = state.snapshot_term if state is not None else 0
        self._bytes = len(_pack(_entries_wire(entries)))
        name = log_name(generation)
        data = self.disk.read(name)
        if data is None:
            self.disk.create(name)  # a first boot, or a checkpoint whose log file had no record
            self.disk.fsync_dir()
            data = b""
        scanned = records.scan(data)
        if scanned.torn:
            self.disk.truncate(name, scanned.end)
            self.disk.fsync(name)
            notes.append(f"{name}: cut a torn tail of {scanned.torn} bytes at offset "
                         f"{scanned.end} (written after the last fsync)")
        for payload in scanned.payloads:
            term, vote, entries = self._replay(payload, base, entries)
        self._bytes += scanned.end
        for stale in names:
            other = _generation_of(stale)
            if stale == STATE_TEMP or (other is not None and other != generation):
                self.disk.unlink(stale)
                notes.append(f"removed {stale}, left by an interrupted checkpoint")
        self._generation, self._writing = generation, name
        self._term, self._vote, self._base = term, vote, base
        self._log = tuple(entries)
        if state is None and not scanned.payloads:
            return Recovered(None, b"", generation, notes)
        hard = HardState(term=term, voted_for=vote, snapshot_index=base,
                         snapshot_term=base_term, log=self._log)
        return Recovered(hard, snapshot, generation, notes)

    def _read_state(self) -> tuple[int, HardState, bytes]:
        data = self.disk.read(STATE) or b""
        scanned = records.scan(data)
        if len(scanned.payloads) != 1 or scanned.torn:
            raise CorruptStorage(f"{STATE}: not one intact record ({scanned.torn} bytes "
                                 "damaged); it is only ever replaced whole, so this is damage")
        try:
            (magic, version, generation, term, vote, base, base_term, wire,
             snapshot) = msgpack.unpackb(scanned.payloads[0], raw=False)
        except (ValueError, TypeError, msgpack.ExtraData) as error:
            raise CorruptStorage(f"{STATE}: not a Raft state file: {error}") from None
        if magic != _STATE_MAGIC or version != _VERSION:
            raise CorruptStorage(f"{STATE}: not a Raft state file of version {_VERSION}")
        if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0
                   for x in (generation, term, base, base_term)):
            raise CorruptStorage(f"{STATE}: generation, term and snapshot bounds must be "
                                 "integers >= 0")
        if not isinstance(snapshot, bytes):
            raise CorruptStorage(f"{STATE}: the snapshot must be bytes")
        log = self._entries(wire, base + 1)
        state = HardState(term=term, voted_for=self._vote_of(vote), snapshot_index=base,
                          snapshot_term=base_term, log=tuple(log))
        return generation, state, snapshot

    def _replay(self, payload: bytes, base: int,
                entries: list[Entry]) -> tuple[int, int | None, list[Entry]]:
        try:
            term, vote, start, wire = msgpack.unpackb(payload, raw=False)
        except (ValueError, TypeError, msgpack.ExtraData) as error:
            raise CorruptStorage(f"a log record that is no Raft record: {error}") from None
        if not (isinstance(term, int) and isinstance(start, int) and term >= 0 and start >= 0):
            raise CorruptStorage("a log record's term and index must be integers >= 0")
        if start:
            last = base + len(entries)
            if not base < start <= last + 1:
                raise CorruptStorage(f"a log record replaces from index {start}, but the log "
                                     f"holds {base + 1}..{last}")
            entries = entries[:start - base - 1] + self._entries(wire, start)
        return term, self._vote_of(vote), entries

    def _entries(self, wire: Any, first: int) -> list[Entry]:
        if not isinstance(wire, list):
            raise CorruptStorage("log entries must be a list")
        out = []
        for offset, item in enumerate(wire):
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)):
                raise CorruptStorage("a log entry must be [term, command]")
            try:
                command = self._decode(item[1])
            except (ValueError, TypeError) as error:
                raise CorruptStorage(f"entry {first + offset}: {error}") from None
            out.append(Entry(index=first + offset, term=item[0], command=command))
        return out

    @staticmethod
    def _vote_of(vote: Any) -> int | None:
        if vote is None or (isinstance(vote, int) and not isinstance(vote, bool) and vote >= 0):
            return vote
        raise CorruptStorage(f"voted_for {vote!r} is not a server id")

    # ------------------------------------------------------------------ the event loop's side
    @property
    def staged(self) -> int:
        return self._staged

    @property
    def durable(self) -> int:
        return self._durable

    def size(self) -> int:
        """Bytes of Raft state on disk (the lab's RaftStateSize, measured on our files): the
        state file's log and the log file's records, superseded ones included."""
        return self._bytes

    @property
    def unflushed(self) -> int:
        """Bytes staged that no flush has taken yet: the size of the next write."""
        return self._unflushed

    def stage(self, persist: Persist, cuts: int | None = None) -> int:
        """Encode what `persist` changes; returns the sequence number that `flush` must
        report durable before anything depending on this state may happen.

        `cuts`: the core's `RaftCore.log_cuts` after the step that made `persist`, from a
        caller that stages every state its core asks to persist, in order. When it is the
        count of the last state staged (and the snapshot index is the same), the core has
        only appended since, so the old log is a prefix of the new one and is not compared
        entry by entry: that comparison cost a step time in the log's length (tens of
        microseconds at a few thousand entries, on every put's path). None: compare."""
        state = persist.state
        known, self._cuts = self._cuts, cuts
        if persist.snapshot is not None or state.snapshot_index != self._base:
            if persist.snapshot is None:
                raise ValueError("the snapshot index moved without a snapshot")
            return self._checkpoint(state, persist.snapshot)
        log, old = state.log, self._log
        if cuts is not None and cuts == known and len(log) >= len(old):
            start = len(old)  # appended only (or nothing), as the core's count says
        elif len(log) >= len(old) and log[:len(old)] == old:
            start = len(old)  # appended only (or nothing): the common case, compared in C
        else:
            start = 0
            while start < len(old) and start < len(log) and old[start] == log[start]:
                start += 1
        if start == len(log) and len(log) == len(old):
            if state.term == self._term and state.voted_for == self._vote:
                return self._staged  # nothing changed; earlier states still come first
            first = 0
        else:
            first = self._base + start + 1
        payload = _pack([state.term, state.voted_for, first, _entries_wire(log[start:])])
        data = records.encode(payload)
        self._term, self._vote, self._log = state.term, state.voted_for, log
        self._bytes += len(data)
        return self._push(_Append(data))

    def _checkpoint(self, state: HardState, snapshot: bytes) -> int:
        self._generation += 1
        log_part = _entries_wire(state.log)
        payload = _pack([_STATE_MAGIC, _VERSION, self._generation, state.term,
                         state.voted_for, state.snapshot_index, state.snapshot_term, log_part,
                         snapshot])
        self._term, self._vote, self._base = state.term, state.voted_for, state.snapshot_index
        self._log = state.log
        self._bytes = len(_pack(log_part))
        return self._push(_Checkpoint(self._generation, records.encode(payload)))

    def _push(self, op: _Append | _Checkpoint) -> int:
        with self._lock:
            self._staged += 1
            self._ops.append(op)
            self._unflushed += len(op.data)
            return self._staged

    # ------------------------------------------------------------------ the flusher's side
    def flush(self) -> int:
        """Make every state staged so far durable (blocking I/O: call it from one worker
        thread at a time); returns the sequence number now durable."""
        with self._lock:
            ops, self._ops = self._ops, []
            self._unflushed = 0
            target = self._staged
        if not ops:
            return self._durable
        pending: list[bytes] = []
        superseded: list[str] = []
        for op in ops:
            if isinstance(op, _Checkpoint):
                pending = []  # the checkpoint holds everything they said
                superseded.append(self._writing)
                self._write_checkpoint(op)
            else:
                pending.append(op.data)
        if pending:
            self.disk.append(self._writing, b"".join(pending))
            self.disk.fsync(self._writing)
        for name in superseded:
            self.disk.unlink(name)  # recovery removes it too if this unlink is lost
        self._durable = target
        return target

    def _write_checkpoint(self, op: _Checkpoint) -> None:
        new_log = log_name(op.generation)
        self.disk.create(new_log)
        self.disk.create(STATE_TEMP)
        self.disk.append(STATE_TEMP, op.data)
        self.disk.fsync(STATE_TEMP)
        self.disk.rename(STATE_TEMP, STATE)
        self.disk.fsync_dir()  # the rename and the new log file's name, durable together
        self._writing = new_log
