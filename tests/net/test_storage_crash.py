"""Crash consistency of the runtime's storage, checked ALICE-style: every state a crash at any
point of the write/fsync sequence may leave recovers to a state the core actually asked to
persist, no older than the last one reported durable (nothing acknowledged is lost), and
recovery never fails on what a crash leaves.

The sequences of persisted states are generated like a Raft server's life (appends, a
follower's log cut and overwritten, terms and votes, snapshots taken by the service and
installed from a leader, with and without the log tail), with group-commit flushes at
arbitrary points; recovery's own writes (cutting a torn tail, removing an interrupted
checkpoint's files) are put through the same enumeration by crashing again after a restart.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from impl.raft.effects import HardState, Persist
from impl.raft.messages import Entry
from impl.storage import RaftStorage
from tests.net.crashfs import RecordingDisk, crash_states, durable_mark

EMPTY = HardState(term=0, voted_for=None, snapshot_index=0, snapshot_term=0, log=())
State = tuple[HardState, bytes]


def identity(command: Any) -> Any:
    return command


def next_state(data: st.DataObject, state: HardState, snapshot: bytes,
               serial: list[int]) -> tuple[HardState, bytes | None]:
    """One step of a Raft server's persistent state; returns the new state and the new
    snapshot (None: unchanged)."""
    last = state.snapshot_index + len(state.log)
    term = max(state.term, 1)
    serial[0] += 1
    tag = serial[0]

    def entries(first: int, count: int, at_term: int) -> tuple[Entry, ...]:
        return tuple(Entry(index=first + i, term=at_term, command=f"c{tag}.{i}")
                     for i in range(count))

    kind = data.draw(st.sampled_from(
        ["append", "append", "append", "term", "vote", "conflict", "snapshot", "install"]))
    if kind == "append":
        count = data.draw(st.integers(1, 4))
        return HardState(term=term, voted_for=state.voted_for,
                         snapshot_index=state.snapshot_index,
                         snapshot_term=state.snapshot_term,
                         log=state.log + entries(last + 1, count, term)), None
    if kind == "term":
        return HardState(term=state.term + 1, voted_for=None,
                         snapshot_index=state.snapshot_index, snapshot_term=state.snapshot_term,
                         log=state.log), None
    if kind == "vote" and state.voted_for is None:
        return HardState(term=term, voted_for=data.draw(st.integers(0, 4)),
                         snapshot_index=state.snapshot_index, snapshot_term=state.snapshot_term,
                         log=state.log), None
    if kind == "conflict" and state.log:
        keep = data.draw(st.integers(0, len(state.log) - 1))
        new_term = term + 1
        count = data.draw(st.integers(0, 3))
        first = state.snapshot_index + keep + 1
        return HardState(term=new_term, voted_for=state.voted_for,
                         snapshot_index=state.snapshot_index, snapshot_term=state.snapshot_term,
                         log=state.log[:keep] + entries(first, count, new_term)), None
    if kind == "snapshot" and state.log:
        upto = data.draw(st.integers(1, len(state.log)))
        at = state.log[upto - 1]
        return HardState(term=state.term, voted_for=state.voted_for, snapshot_index=at.index,
                         snapshot_term=at.term, log=state.log[upto:]), f"snap{tag}".encode()
    if kind == "install":
        index = last + data.draw(st.integers(-len(state.log), 3))
        index = max(index, state.snapshot_index + 1)
        keep_tail = data.draw(st.booleans()) and index <= last
        tail = state.log[index - state.snapshot_index:] if keep_tail else ()
        at_term = (state.log[index - state.snapshot_index - 1].term if keep_tail else term)
        return HardState(term=term, voted_for=state.voted_for, snapshot_index=index,
                         snapshot_term=at_term, log=tail), f"inst{tag}".encode()
    return HardState(term=state.term + 1, voted_for=0, snapshot_index=state.snapshot_index,
                     snapshot_term=state.snapshot_term, log=state.log), None


def run(data: st.DataObject, disk: RecordingDisk, start: State, steps: int) -> list[State]:
    """Recover from `disk` (which holds `start`), then stage `steps` states with flushes at
    drawn points; returns the states by sequence number (index 0: `start`)."""
    storage = RaftStorage(disk, identity)
    recovered = storage.recover()
    assert (recovered.state or EMPTY, recovered.snapshot) == start
    states = [start]
    state, snapshot = start
    serial = [len(disk.ops)]
    for _ in range(steps):
        new, new_snapshot = next_state(data, state, snapshot, serial)
        if new_snapshot is not None:
            snapshot = new_snapshot
        seq = storage.stage(Persist(state=new, snapshot=new_snapshot))
        state = new
        if seq == len(states):
            states.append((state, snapshot))
        else:  # nothing changed: the same sequence number as before
            assert seq == len(states) - 1 and states[-1] == (state, snapshot)
        if data.draw(st.integers(0, 2)) == 0:
            disk.mark(storage.flush())
    disk.mark(storage.flush())
    return states


def assert_every_crash_recovers(disk: RecordingDisk, states: list[State]) -> list[
        tuple[dict[str, bytes], State]]:
    """Every crash state at every point recovers to an allowed state; returns them all with
    what they recovered to."""
    seen = []
    for k in range(len(disk.ops) + 1):
        acknowledged = durable_mark(disk.ops, k)
        allowed = states[acknowledged:]
        for files in crash_states(disk.initial, disk.ops, k):
            recovered = RaftStorage(RecordingDisk(files), identity).recover()
            got = (recovered.state or EMPTY, recovered.snapshot)
            assert got in allowed, (
                f"crash before op {k} ({disk.ops[k - 1] if k else 'start'}): recovered "
                f"{got} which is not among the states from #{acknowledged} on "
                f"(files {sorted(files)})")
            seen.append((files, got))
    return seen


@settings(max_examples=40)
@given(st.data())
def test_every_crash_state_recovers_to_a_persisted_state_nothing_acknowledged_lost(
        data: st.DataObject) -> None:
    disk = RecordingDisk()
    states = run(data, disk, (EMPTY, b""), steps=data.draw(st.integers(3, 16)))
    outcomes = assert_every_crash_recovers(disk, states)
    # Crash again while recovery and the restarted server write (a torn tail cut, an
    # interrupted checkpoint cleaned up): pick one crash state and live on from it.
    files, recovered = outcomes[data.draw(st.integers(0, len(outcomes) - 1))]
    again = RecordingDisk(files)
    states2 = run(data, again, recovered, steps=data.draw(st.integers(1, 6)))
    assert_every_crash_recovers(again, states2)


def test_the_enumeration_covers_torn_records_and_lost_renames() -> None:
    """The crash model is not vacuous: some crash states tear a record, and some lose a
    rename that was not yet made durable by a directory fsync."""
    disk = RecordingDisk()
    storage = RaftStorage(disk, identity)
    storage.recover()
    log = tuple(Entry(index=i, term=1, command=f"x{i}") for i in range(1, 4))
    storage.stage(Persist(state=HardState(term=1, voted_for=0, snapshot_index=0,
                                          snapshot_term=0, log=log), snapshot=None))
    disk.mark(storage.flush())
    storage.stage(Persist(state=HardState(term=1, voted_for=0, snapshot_index=2,
                                          snapshot_term=1, log=log[2:]), snapshot=b"s"))
    disk.mark(storage.flush())
    kinds = [op.kind for op in disk.ops]
    rename = kinds.index("rename")
    before_dir_sync = crash_states(disk.initial, disk.ops, rename + 1)
    assert any("raft-state" not in files for files in before_dir_sync)
    assert any("raft-state" in files for files in before_dir_sync)
    first_fsync = kinds.index("fsync")
    torn = crash_states(disk.initial, disk.ops, first_fsync)
    sizes = {len(files.get("log-00000000.wal", b"")) for files in torn}
    assert len(sizes) >= 3  # nothing, a torn record, the whole record
