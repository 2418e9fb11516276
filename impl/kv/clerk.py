"""The clerk core: a client of the key/value service, sans I/O (scenarios §4.1).

Theory of operation
-------------------
A `Clerk` runs one call at a time. `call(kind, key, value)` starts one with the next sequence
number and sends it to the server it last saw answer (the leader, as far as it knows); the
call is then retried, with the same sequence number, until some server answers it:

* ErrWrongLeader from the server tried, a call the network reports as failed (the server is
  unreachable or down), or no answer within `rpc_timeout_ms` (the request or its reply was
  lost, or the server sits in a minority and will never commit) — all move on to the next
  server, in the order the clerk was given;
* after every server was tried once in a row without success, the clerk pauses
  `retry_pause_ms` before the next round (during an election nobody leads; trying again at
  once would only spin).

A success reply (OK, or ErrNoKey for a get) finishes the call, from whichever server and
attempt it comes: every attempt carries the same (clerk, seq), so the servers' duplicate
table has executed it exactly once. The server that answered is remembered as the leader.
Replies to earlier calls (a smaller seq) are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from impl.kv.effects import ClerkEffects, Done, Outgoing
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
from impl.raft.effects import CancelTimer, SetTimer, TimerOp

RPC = "rpc"  # the current attempt's deadline
RETRY = "retry"  # the pause after a round of failures


@dataclass(frozen=True, slots=True, kw_only=True)
class ClerkConfig:
    rpc_timeout_ms: int = 400
    retry_pause_ms: int = 100

    def __post_init__(self) -> None:
        if self.rpc_timeout_ms < 1 or self.retry_pause_ms < 1:
            raise ValueError("clerk timeouts must be at least 1 ms")


class Clerk:
    def __init__(self, clerk_id: int, servers: Sequence[int | str],
                 config: ClerkConfig | None = None) -> None:
        if not servers:
            raise ValueError("a clerk needs at least one server")
        self.id = clerk_id
        self.servers = tuple(servers)
        self.config = config or ClerkConfig()
        self.seq = 0  # of the current (or last) call
        self.leader = 0  # index into servers of the server to try first
        self._call: ClerkRequest | None = None  # the request of the call in progress
        self._failures = 0  # consecutive servers that failed the current call

    @property
    def busy(self) -> bool:
        return self._call is not None

    @property
    def target(self) -> int | str:
        return self.servers[self.leader]

    def call(self, kind: str, key: str, value: str | None = None) -> ClerkEffects:
        """Start a get, put or append; the clerk must not be busy (one call at a time)."""
        if self._call is not None:
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
        self._call = request
        self._failures = 0
        return self._attempt()

    def step(self, src: int | str, reply: ClerkReply) -> ClerkEffects:
        call = self._call
        if call is None or reply.seq != self.seq:
            return ClerkEffects()  # an answer to an earlier call
        if reply.err == OK or (reply.err == ERR_NO_KEY and isinstance(reply, GetReply)):
            self._call = None
            if src in self.servers:
                self.leader = self.servers.index(src)
            output = reply.value if isinstance(reply, GetReply) else None
            return ClerkEffects(timers=(CancelTimer(name=RPC), CancelTimer(name=RETRY)),
                                done=Done(seq=self.seq, output=output))
        if src != self.target:
            return ClerkEffects()  # a refusal from a server we have already moved past
        return self._next()

    def timeout(self, name: str) -> ClerkEffects:
        if self._call is None:
            return ClerkEffects()
        if name == RPC:
            return self._next()
        return self._attempt()  # RETRY: the pause is over

    def call_failed(self, dst: int | str, request: ClerkRequest) -> ClerkEffects:
        """The network could not deliver `request` to `dst` (labrpc's Call returned false)."""
        if self._call is None or request.seq != self.seq or dst != self.target:
            return ClerkEffects()
        return self._next()

    # ----------------------------------------------------------------------------------
    def _attempt(self) -> ClerkEffects:
        assert self._call is not None
        timers: tuple[TimerOp, ...] = (
            SetTimer(name=RPC, low_ms=self.config.rpc_timeout_ms,
                     high_ms=self.config.rpc_timeout_ms),)
        return ClerkEffects(messages=(Outgoing(to=self.target, message=self._call),),
                            timers=timers)

    def _next(self) -> ClerkEffects:
        self.leader = (self.leader + 1) % len(self.servers)
        self._failures += 1
        if self._failures % len(self.servers) == 0:
            pause = self.config.retry_pause_ms
            return ClerkEffects(timers=(CancelTimer(name=RPC),
                                        SetTimer(name=RETRY, low_ms=pause, high_ms=pause)))
        return self._attempt()
