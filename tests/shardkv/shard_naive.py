"""The naive twin of the sharded judge (STYLE.md point 9): after every change, the whole
`ShardView` — every shard, every call — judged by every traceable invariant at once.

The fast judge (`checker.trace_check.shard_judge`) evaluates one shard at a time and, within
a shard, only the calls a step touched. This twin evaluates the whole view with the spec's
own call numbering: calls are clerks of one call each (`Q = 1`), and call k on shard s is
clerk `10·k + s`, so that the spec's `shard_of` (clerk + seq − 1 mod S) puts each call on its
key's shard; clerk numbers that name no call hold nothing. The twin reports the first line
at which each invariant fails; the fast judge must report the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from checker.invariants import CONCRETE
from checker.invariants.shardkv import TRACEABLE
from checker.invariants.shardkv_view import ABSENT, ShardView
from checker.trace_check.shard_groups import GroupReplay, Ident
from checker.trace_check.shard_judge import ShardJudge
from spec.shardctrler import NSHARDS


class NaiveShardJudge(ShardJudge):
    first: dict[str, int]  # invariant -> first line it failed at (filled as it runs)

    def group_changed(self, g: GroupReplay, line: int, seq: int) -> None:
        best = g.best
        assert best is not None
        if best.num != self.last_num[g.gid]:
            self._judge_order(g, line, seq)
        self.last_num[g.gid] = best.num
        self.last_status[g.gid] = list(best.status)
        g.dirty_all.clear()
        g.dirty_calls.clear()
        g.dirty_dup.clear()
        self._whole(line)

    def acknowledged(self, ident: Ident, line: int, seq: int) -> None:
        self.acked.add(ident)
        self._whole(line)

    def judge_shard(self, s: int, calls: Sequence[Ident], line: int, seq: int,
                    only: str = "") -> None:
        self._whole(line, only)  # `only` mid-step: a call applied twice

    def _whole(self, line: int, only: str = "") -> None:
        if not hasattr(self, "first"):
            self.first = {}
        width = max(len(c) for c in self.calls_of)
        clerks: list[Ident | None] = [None] * (NSHARDS * width)
        for s, calls in enumerate(self.calls_of):
            for k, call in enumerate(calls):
                clerks[NSHARDS * k + s] = call
        groups = [self.groups[gid] for gid in self.gids]
        num, status, data, dup = [], [], [], []
        for g in groups:
            best = g.best
            num.append(best.num if best is not None else 0)
            status.append([best.status[s] if best is not None else ABSENT
                           for s in range(NSHARDS)])
            data.append([[g.data[s].get(c, 0) if c is not None else 0 for c in clerks]
                         for s in range(NSHARDS)])
            dup.append([[1 if c is not None and best is not None
                         and best.dup[s].get(c[0], 0) >= c[1] else 0 for c in clerks]
                        for s in range(NSHARDS)])
        v = ShardView(G=len(groups), S=NSHARDS, C=len(clerks), Q=1, configs=self.configs(),
                      published=self.ctrl.published, num=num, status=status, data=data,
                      dup=dup, acked=[1 if c in self.acked else 0 for c in clerks],
                      messages=[])
        for inv in TRACEABLE:
            if only and inv.name != only:
                continue
            if inv.name not in self.first and not inv.holds(v, CONCRETE):
                self.first[inv.name] = line
