"""The shard controller's clerk core, sans I/O (scenarios §5.1).

A `CtrlClerk` is the shared retrying clerk (impl.rsm.clerk: one call at a time, retried with
the same sequence number server after server, a pause after each round of failures; the
lab's skeleton clerk sleeps 100 ms between rounds) with the controller's four calls:
`join({gid: servers})`, `leave(gids)`, `move(shard, gid)` and `query(num)`.

A call finishes on OK — a query's output is the configuration, a change's None — or on
ErrInvalid, a change the controller refused as a no-op, whose output is the reason (a
string). ErrWrongLeader moves on to the next server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from impl.rsm.clerk import NOT_DONE, RetryingClerk
from impl.rsm.effects import ClerkEffects
from impl.shardctrler.messages import (
    ERR_INVALID,
    OK,
    CtrlReply,
    CtrlRequest,
    JoinArgs,
    LeaveArgs,
    MoveArgs,
    QueryArgs,
    QueryReply,
)


class CtrlClerk(RetryingClerk[CtrlRequest, CtrlReply]):
    def join(self, groups: Mapping[int, Iterable[str]]) -> ClerkEffects:
        """Add groups ({gid: servers}; the mapping's order does not matter)."""
        joined = tuple(sorted((gid, tuple(servers)) for gid, servers in groups.items()))
        return self._start(lambda seq: JoinArgs(groups=joined, clerk=self.id, seq=seq))

    def leave(self, gids: Iterable[int]) -> ClerkEffects:
        leaving = tuple(sorted(gids))
        return self._start(lambda seq: LeaveArgs(gids=leaving, clerk=self.id, seq=seq))

    def move(self, shard: int, gid: int) -> ClerkEffects:
        return self._start(lambda seq: MoveArgs(shard=shard, gid=gid, clerk=self.id, seq=seq))

    def query(self, num: int = -1) -> ClerkEffects:
        """Configuration `num`; the newest for -1 or a number past the newest."""
        return self._start(lambda seq: QueryArgs(num=num, clerk=self.id, seq=seq))

    def _start(self, build: Any) -> ClerkEffects:
        if self.busy:
            raise RuntimeError(f"clerk {self.id}: a call is already in progress")
        self.seq += 1
        request: CtrlRequest = build(self.seq)
        return self._begin(request)

    def _outcome(self, reply: CtrlReply) -> Any:
        if isinstance(reply, QueryReply):
            return reply.config if reply.err == OK else NOT_DONE
        if reply.err == OK:
            return None
        return reply.reason if reply.err == ERR_INVALID else NOT_DONE
