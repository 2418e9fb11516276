"""The duplicate table: exactly-once execution of clerk calls across retries (Raft paper §8,
"client interactions"), shared by every service on Raft.

A clerk makes one call at a time, numbering its calls 1, 2, ... and retrying a call with the
same number until some server answers it, so one call may reach the log several times (a
retry after a lost reply, or through a new leader). The table maps each clerk to the sequence
number of its last executed call (`dict[int, int]`, a plain value so that a service can keep
one per store, or one per shard that travels with the shard); an entry whose number is not
above the clerk's is a duplicate and must change nothing.

The table only ever holds calls that were committed and applied, so a server may answer a
retried write "OK" at once when the table shows it executed.
"""

from __future__ import annotations

from collections.abc import Iterable

Table = dict[int, int]  # clerk id -> sequence number of its last executed call


def executed(table: Table, clerk: int, seq: int) -> bool:
    """Has the call (clerk, seq) already been executed?"""
    return table.get(clerk, 0) >= seq


def record(table: Table, clerk: int, seq: int) -> bool:
    """Mark (clerk, seq) executed; True if it was fresh (the caller executes it), False for a
    duplicate (the caller must change nothing)."""
    fresh = seq > table.get(clerk, 0)
    if fresh:
        table[clerk] = seq
    return fresh


def encode(table: Table) -> list[list[int]]:
    """The table as sorted [clerk, seq] pairs: equal tables give equal bytes in a snapshot."""
    return [[clerk, seq] for clerk, seq in sorted(table.items())]


def decode(rows: Iterable[Iterable[int]]) -> Table:
    """The table back from `encode`'s pairs (ValueError/TypeError if they are not pairs of
    integers)."""
    table: Table = {}
    for clerk, seq in rows:
        table[int(clerk)] = int(seq)
    return table
