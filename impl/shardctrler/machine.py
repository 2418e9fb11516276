"""The shard controller's state machine: the history of configurations and the duplicate table,
applied in log order.

Theory of operation
-------------------
Every clerk call becomes one log entry, a `CtrlOp` (kind, argument, clerk, seq). Each replica's
`Controller` applies the committed entries in index order with the spec's own operations
(spec.shardctrler: `invalid`, `change`, `query` — the rebalancing rule is defined there once),
so replicas that applied the same index hold the same history, and configurations are values:
a new one never shares anything mutable with an old one.

Exactly-once (impl.rsm.dedup): a Join, Leave or Move whose (clerk, seq) the table shows
executed changes nothing. A change the spec refuses (a Join of a group already present, ...)
is executed as a no-op with a reason; the reason of each clerk's last refused call is kept
(`refused`) so that a retry of it gets the same answer, not "OK". A Query is never a
duplicate in effect: it reads the history at its own index, inside the call.

The history, the table and the refusals make the snapshot (msgpack, keys sorted: equal
states, equal bytes; nothing is pickled). The lab runs the controller without snapshots;
they are supported all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import msgpack

from impl.rsm import dedup
from spec.shardctrler import (
    Change,
    Configuration,
    Join,
    Leave,
    Move,
    change,
    initial,
    invalid,
    query,
)

_MAGIC = "ctrl1"
JOIN, LEAVE, MOVE, QUERY = "join", "leave", "move", "query"
KINDS = (JOIN, LEAVE, MOVE, QUERY)


class CtrlOp(NamedTuple):
    """A clerk call as a log entry, a plain tuple in the log and the persister. `arg` is the
    call's argument: for join ((gid, (servers...)), ...) sorted by gid; for leave the gids,
    sorted; for move (shard, gid); for query the configuration number (-1: the newest)."""

    kind: str
    arg: Any
    clerk: int
    seq: int

    def same_call(self, other: CtrlOp) -> bool:
        return self.clerk == other.clerk and self.seq == other.seq

    def change(self) -> Change:
        """The spec's operation for a join, leave or move."""
        if self.kind == JOIN:
            return Join(tuple((int(gid), tuple(servers)) for gid, servers in self.arg))
        if self.kind == LEAVE:
            return Leave(tuple(int(gid) for gid in self.arg))
        if self.kind == MOVE:
            shard, gid = self.arg
            return Move(int(shard), int(gid))
        raise ValueError(f"{self.kind} is not a change")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying one entry did: `executed` is False for a duplicate; `config` is what a
    query read; `error` the reason a change was refused (None: it took effect)."""

    executed: bool
    config: Configuration | None = None
    error: str | None = None


class CorruptSnapshot(ValueError):
    """Snapshot bytes that are not a controller snapshot this code wrote."""


class Controller:
    def __init__(self, history: tuple[Configuration, ...] | None = None,
                 last_seq: dict[int, int] | None = None,
                 refused: dict[int, tuple[int, str]] | None = None, applied: int = 0) -> None:
        self.history: tuple[Configuration, ...] = history or (initial(),)
        self.last_seq: dedup.Table = last_seq if last_seq is not None else {}
        #: clerk -> (seq, reason) of its last change the controller refused
        self.refused: dict[int, tuple[int, str]] = refused if refused is not None else {}
        self.applied = applied  # the last log index reflected here

    @property
    def latest(self) -> Configuration:
        return self.history[-1]

    def answer_for(self, clerk: int, seq: int) -> str | None:
        """For a change (clerk, seq) already executed: None if it took effect, else the reason
        it was refused."""
        seen = self.refused.get(clerk)
        return seen[1] if seen is not None and seen[0] == seq else None

    def executed(self, clerk: int, seq: int) -> bool:
        return dedup.executed(self.last_seq, clerk, seq)

    def apply(self, index: int, op: CtrlOp) -> Outcome:
        if index != self.applied + 1:
            raise ValueError(f"apply of index {index} after {self.applied}: out of order")
        self.applied = index
        fresh = dedup.record(self.last_seq, op.clerk, op.seq)
        if op.kind == QUERY:
            # A number below -1 means nothing in the lab; it is read as -1, the newest.
            return Outcome(executed=fresh, config=query(self.history, max(-1, int(op.arg))))
        if not fresh:
            return Outcome(executed=False, error=self.answer_for(op.clerk, op.seq))
        wanted = op.change()
        problem = invalid(self.latest, wanted)
        if problem is not None:
            self.refused[op.clerk] = (op.seq, problem)
            return Outcome(executed=True, error=problem)
        self.history = (*self.history, change(self.latest, wanted))
        return Outcome(executed=True)

    # -- snapshots ---------------------------------------------------------------------
    def encode(self) -> bytes:
        body = [_MAGIC, self.applied,
                [[c.num, list(c.shards), [[g, list(s)] for g, s in c.groups]]
                 for c in self.history],
                dedup.encode(self.last_seq),
                [[clerk, seq, why] for clerk, (seq, why) in sorted(self.refused.items())]]
        packed: bytes = msgpack.packb(body, use_bin_type=True)
        return packed

    @classmethod
    def decode(cls, blob: bytes) -> Controller:
        try:
            body: Any = msgpack.unpackb(blob, raw=False, strict_map_key=True)
            magic, applied, history, table, refused = body
            configs = tuple(
                Configuration(int(num), tuple(int(g) for g in shards),
                              tuple((int(g), tuple(str(s) for s in servers))
                                    for g, servers in groups))
                for num, shards, groups in history)
            last_seq = dedup.decode(table)
            why = {int(clerk): (int(seq), str(reason)) for clerk, seq, reason in refused}
        except (ValueError, TypeError, msgpack.ExtraData) as error:
            raise CorruptSnapshot(f"not a controller snapshot: {error}") from error
        if magic != _MAGIC or not isinstance(applied, int) or not configs:
            raise CorruptSnapshot("not a controller snapshot (bad header)")
        return cls(configs, last_seq, why, applied)
