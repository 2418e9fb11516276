"""The clerk core: a client of the key/value service, sans I/O (scenarios §4.1).

Theory of operation
-------------------
A `Clerk` is the shared retrying clerk of impl.rsm.clerk — one call at a time, sent to the
server it last saw answer and retried with the same sequence number, server after server,
until some server answers it; a pause after every round of failures — with the key/value
service's calls: `call(kind, key, value)` starts a get, put or append with the next sequence
number.

A success reply (OK, or ErrNoKey for a get: the value is "") finishes the call, from whichever
server and attempt it comes: every attempt carries the same (clerk, seq), so the servers'
duplicate table has executed it exactly once. ErrWrongLeader moves on to the next server.
"""

from __future__ import annotations

from typing import Any

from impl.kv.effects import ClerkEffects
from impl.kv.machine import GET, KINDS, PUT
from impl.kv.messages import (
    ERR_NO_KEY,
    OK,
    ClerkReply,
    ClerkRequest,
    GetArgs,
    GetReply,
    PutAppendArgs,
)
from impl.rsm.clerk import NOT_DONE, RETRY, RPC, ClerkConfig, RetryingClerk

__all__ = ["RETRY", "RPC", "Clerk", "ClerkConfig"]


class Clerk(RetryingClerk[ClerkRequest, ClerkReply]):
    def call(self, kind: str, key: str, value: str | None = None) -> ClerkEffects:
        """Start a get, put or append; the clerk must not be busy (one call at a time)."""
        if self.busy:
            raise RuntimeError(f"clerk {self.id}: a call is already in progress")
        if kind not in KINDS or (kind == GET) != (value is None):
            raise ValueError(f"bad call {kind}({key!r}, {value!r})")
        self.seq += 1
        request: ClerkRequest
        if kind == GET:
            request = GetArgs(key=key, clerk=self.id, seq=self.seq)
        else:
            assert value is not None
            request = PutAppendArgs(key=key, value=value, op="Put" if kind == PUT else "Append",
                                    clerk=self.id, seq=self.seq)
        return self._begin(request)

    def _outcome(self, reply: ClerkReply) -> Any:
        if isinstance(reply, GetReply):
            return reply.value if reply.err in (OK, ERR_NO_KEY) else NOT_DONE
        return None if reply.err == OK else NOT_DONE
