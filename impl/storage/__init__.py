"""Durable storage for the network runtime: Raft's state in an append-only checksummed log
and an atomically replaced state file per server, with group commit.

* `RaftStorage`, `Recovered`, `CorruptStorage` (impl.storage.raftstate) — stage a core's
  `Persist` (event loop), flush many at once (one write and one fsync, worker thread),
  recover after a crash at any point.
* `Disk`, `OsDisk` (impl.storage.disk) — the file operations it uses, on one directory; a
  crash-consistency test records them.
* `records` (impl.storage.records) — checksummed records; a torn tail is found and cut.
"""

from impl.storage import records
from impl.storage.disk import Disk, OsDisk
from impl.storage.raftstate import CorruptStorage, RaftStorage, Recovered

__all__ = ["CorruptStorage", "Disk", "OsDisk", "RaftStorage", "Recovered", "records"]
