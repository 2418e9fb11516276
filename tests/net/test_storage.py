"""The runtime's storage on a real directory: records, group commit, recovery, damage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from impl.raft.effects import HardState, Persist
from impl.raft.messages import Entry
from impl.storage import CorruptStorage, OsDisk, RaftStorage, records
from impl.storage.raftstate import STATE, log_name


def identity(command: Any) -> Any:
    return command


def state(term: int, log: tuple[Entry, ...], *, vote: int | None = 0, base: int = 0,
          base_term: int = 0) -> HardState:
    return HardState(term=term, voted_for=vote, snapshot_index=base, snapshot_term=base_term,
                     log=log)


def entries(first: int, last: int, term: int) -> tuple[Entry, ...]:
    return tuple(Entry(index=i, term=term, command=["put", f"k{i}", "v"])
                 for i in range(first, last + 1))


def open_storage(path: Path) -> tuple[RaftStorage, HardState | None, bytes]:
    storage = RaftStorage(OsDisk(path), identity)
    recovered = storage.recover()
    return storage, recovered.state, recovered.snapshot


def test_records_round_trip_and_stop_at_damage() -> None:
    data = records.encode(b"one") + records.encode(b"two")
    assert records.scan(data).payloads == [b"one", b"two"]
    assert records.scan(data + b"\0" * 64).payloads == [b"one", b"two"]  # zeros: no record
    cut = records.scan(data[:-1])
    assert cut.payloads == [b"one"] and cut.end == len(records.encode(b"one"))
    flipped = bytearray(data)
    flipped[-1] ^= 1
    assert records.scan(bytes(flipped)).payloads == [b"one"]
    with pytest.raises(ValueError):
        records.encode(b"")


def test_group_commit_one_flush_makes_many_states_durable(tmp_path: Path) -> None:
    storage, restored, _ = open_storage(tmp_path)
    assert restored is None
    seqs = [storage.stage(Persist(state=state(1, entries(1, n, 1)), snapshot=None))
            for n in range(1, 51)]
    assert seqs == list(range(1, 51)) and storage.durable == 0
    assert storage.flush() == 50 and storage.durable == 50
    _, restored, _ = open_storage(tmp_path)
    assert restored == state(1, entries(1, 50, 1))


def test_conflicting_suffix_is_replaced(tmp_path: Path) -> None:
    storage, _, _ = open_storage(tmp_path)
    storage.stage(Persist(state=state(2, entries(1, 5, 1)), snapshot=None))
    storage.stage(Persist(state=state(3, entries(1, 2, 1) + entries(3, 4, 3)), snapshot=None))
    storage.flush()
    _, restored, _ = open_storage(tmp_path)
    assert restored == state(3, entries(1, 2, 1) + entries(3, 4, 3))


def test_snapshot_checkpoint_starts_a_new_log_file(tmp_path: Path) -> None:
    storage, _, _ = open_storage(tmp_path)
    storage.stage(Persist(state=state(1, entries(1, 10, 1)), snapshot=None))
    storage.flush()
    storage.stage(Persist(state=state(1, entries(8, 10, 1), base=7, base_term=1),
                          snapshot=b"store@7"))
    storage.stage(Persist(state=state(1, entries(8, 12, 1), base=7, base_term=1),
                          snapshot=None))
    storage.flush()
    assert sorted(p.name for p in tmp_path.iterdir()) == [log_name(1), STATE]
    _, restored, snapshot = open_storage(tmp_path)
    assert restored == state(1, entries(8, 12, 1), base=7, base_term=1)
    assert snapshot == b"store@7"


def test_the_cores_cut_count_stands_in_for_comparing_the_log(tmp_path: Path) -> None:
    """With the core's `log_cuts` given, an unchanged count is taken at its word (the old
    log is not compared: the count is what makes an append cheap), and a changed one makes
    the stage compare, so a cut suffix is recorded as cut."""
    rewritten = state(3, entries(1, 2, 1) + entries(3, 6, 3))  # longer than the old log
    for cuts_after, expect in ((0, False), (1, True)):
        directory = tmp_path / f"cuts{cuts_after}"
        storage, _, _ = open_storage(directory)
        storage.stage(Persist(state=state(2, entries(1, 5, 1)), snapshot=None), 0)
        storage.stage(Persist(state=rewritten, snapshot=None), cuts_after)
        storage.flush()
        _, restored, _ = open_storage(directory)
        # A count that lies (0: "nothing cut") records only what follows the old log.
        assert (restored == rewritten) is expect, restored


def test_a_follower_core_staged_with_its_cut_count_recovers_its_state(tmp_path: Path) -> None:
    """A real core through appends, a conflicting suffix cut and a snapshot installed over
    its log, each state staged with the core's cut count: what is recovered is the core's
    last state, and the count moved exactly at the cuts."""
    from impl.raft.core import RaftConfig, RaftCore
    from impl.raft.messages import AppendEntries, InstallSnapshot

    core = RaftCore(1, range(3), RaftConfig())
    core.boot()
    storage, _, _ = open_storage(tmp_path)

    def deliver(message: Any) -> None:
        effects = core.step(0, message)
        if effects.persist is not None:
            storage.stage(effects.persist, core.log_cuts)

    def append(term: int, prev: int, prev_term: int, first: int, last: int) -> None:
        deliver(AppendEntries(term=term, leader=0, prev_index=prev, prev_term=prev_term,
                              entries=entries(first, last, term), leader_commit=0))

    for i in range(1, 30):
        append(1, i - 1, 1 if i > 1 else 0, i, i)
    assert core.log_cuts == 0
    append(2, 20, 1, 21, 25)  # a new leader's entries from 21 on: 21..29 of term 1 go
    assert core.log_cuts == 1 and core.last_index == 25
    append(2, 25, 2, 26, 27)
    deliver(InstallSnapshot(term=2, leader=0, last_index=40, last_term=2, data=b"s@40"))
    append(2, 40, 2, 41, 42)
    assert core.log_cuts == 2
    storage.flush()
    _, restored, snapshot = open_storage(tmp_path)
    assert restored == core.hard_state() and snapshot == b"s@40"


def test_torn_tail_is_cut_and_reported(tmp_path: Path) -> None:
    storage, _, _ = open_storage(tmp_path)
    storage.stage(Persist(state=state(1, entries(1, 3, 1)), snapshot=None))
    storage.flush()
    wal = tmp_path / log_name(0)
    good = wal.stat().st_size
    with wal.open("ab") as stream:
        stream.write(records.encode(b"\x94\x01\x00\x04\x90")[:-2])  # a record cut short
    storage = RaftStorage(OsDisk(tmp_path), identity)
    recovered = storage.recover()
    assert recovered.state == state(1, entries(1, 3, 1))
    assert wal.stat().st_size == good
    assert any("torn tail" in note for note in recovered.notes)


def test_damaged_state_file_is_an_error_not_a_silent_reset(tmp_path: Path) -> None:
    storage, _, _ = open_storage(tmp_path)
    storage.stage(Persist(state=state(1, entries(2, 3, 1), base=1, base_term=1),
                          snapshot=b"s"))
    storage.flush()
    data = bytearray((tmp_path / STATE).read_bytes())
    data[20] ^= 0xFF
    (tmp_path / STATE).write_bytes(bytes(data))
    with pytest.raises(CorruptStorage, match="raft-state"):
        RaftStorage(OsDisk(tmp_path), identity).recover()


def test_size_counts_the_bytes_of_raft_state_on_disk(tmp_path: Path) -> None:
    storage, _, _ = open_storage(tmp_path)
    storage.stage(Persist(state=state(1, entries(1, 20, 1)), snapshot=None))
    storage.flush()
    assert storage.size() == (tmp_path / log_name(0)).stat().st_size + 1  # + the empty list
    storage.stage(Persist(state=state(1, (), base=20, base_term=1), snapshot=b"x" * 1000))
    storage.flush()
    assert storage.size() < 10  # the snapshot is the service's, not Raft's state
