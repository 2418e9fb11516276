"""The clerk core of a replicated service, sans I/O: one call at a time, retried across the
service's servers until one answers (the key/value clerk, scenarios §4.1; the shard
controller's clerk, §5.1).

Theory of operation
-------------------
A `RetryingClerk` runs one call at a time. A service's clerk builds the request — numbered
with the next sequence number (`_begin`) — and says which replies finish a call
(`_outcome`). The request goes to the server the clerk last saw answer (the leader, as far
as it knows) and is then retried, with the same sequence number, until some server answers
it:

* a refusal from the server tried (ErrWrongLeader), a call the network reports as failed (the
  server is unreachable or down), or no answer within `rpc_timeout_ms` (the request or its
  reply was lost, or the server sits in a minority and will never commit) — all move on to
  the next server, in the order the clerk was given;
* after every server was tried once in a row without success, the clerk pauses
  `retry_pause_ms` before the next round (during an election nobody leads; trying again at
  once would only spin).

A reply that finishes the call does so from whichever server and attempt it comes: every
attempt carries the same (clerk, seq), so the servers' duplicate table has executed it
exactly once. The server that answered is remembered as the leader. Replies to earlier calls
(a smaller seq) are ignored, and so is a refusal from a server the clerk already moved past.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from impl.raft.effects import CancelTimer, SetTimer, TimerOp
from impl.rsm.effects import ClerkEffects, Done, Outgoing

RPC = "rpc"  # the current attempt's deadline
RETRY = "retry"  # the pause after a round of failures


@dataclass(frozen=True, slots=True, kw_only=True)
class ClerkConfig:
    rpc_timeout_ms: int = 400
    retry_pause_ms: int = 100

    def __post_init__(self) -> None:
        if self.rpc_timeout_ms < 1 or self.retry_pause_ms < 1:
            raise ValueError("clerk timeouts must be at least 1 ms")


class Numbered(Protocol):
    """A request or a reply: it names the call by its sequence number."""

    @property
    def seq(self) -> int: ...


Req = TypeVar("Req", bound=Numbered)
Rep = TypeVar("Rep", bound=Numbered)

NOT_DONE: Any = object()  # `_outcome`'s answer for a reply that does not finish the call


class RetryingClerk(Generic[Req, Rep]):
    """`timer_names` name the attempt's deadline and the pause (RPC, RETRY): a core that hosts
    two clerks (a shard key/value clerk and its controller clerk) gives them different ones."""

    def __init__(self, clerk_id: int, servers: Sequence[int | str],
                 config: ClerkConfig | None = None,
                 timer_names: tuple[str, str] = (RPC, RETRY)) -> None:
        if not servers:
            raise ValueError("a clerk needs at least one server")
        self.rpc_timer, self.retry_timer = timer_names
        self.id = clerk_id
        self.servers = tuple(servers)
        self.config = config or ClerkConfig()
        self.seq = 0  # of the current (or last) call
        self.leader = 0  # index into servers of the server to try first
        self._call: Req | None = None  # the request of the call in progress
        self._failures = 0  # consecutive servers that failed the current call

    @property
    def busy(self) -> bool:
        return self._call is not None

    @property
    def target(self) -> int | str:
        return self.servers[self.leader]

    # -- the service's hook ------------------------------------------------------------
    def _outcome(self, reply: Rep) -> Any:
        """The call's output if `reply` finishes it, else NOT_DONE (a refusal)."""
        raise NotImplementedError

    # -- the driving surface -----------------------------------------------------------
    def _begin(self, request: Req) -> ClerkEffects:
        """Start the call `request` (numbered `self.seq`, which the caller has advanced)."""
        if self._call is not None:
            raise RuntimeError(f"clerk {self.id}: a call is already in progress")
        self._call = request
        self._failures = 0
        return self._attempt()

    def step(self, src: int | str, reply: Rep) -> ClerkEffects:
        call = self._call
        if call is None or reply.seq != self.seq:
            return ClerkEffects()  # an answer to an earlier call
        output = self._outcome(reply)
        if output is not NOT_DONE:
            self._call = None
            if src in self.servers:
                self.leader = self.servers.index(src)
            return ClerkEffects(timers=(CancelTimer(name=self.rpc_timer),
                                        CancelTimer(name=self.retry_timer)),
                                done=Done(seq=self.seq, output=output))
        if src != self.target:
            return ClerkEffects()  # a refusal from a server we have already moved past
        return self._next()

    def timeout(self, name: str) -> ClerkEffects:
        if self._call is None:
            return ClerkEffects()
        if name == self.rpc_timer:
            return self._next()
        return self._attempt()  # the pause is over

    def call_failed(self, dst: int | str, request: Req) -> ClerkEffects:
        """The network could not deliver `request` to `dst` (labrpc's Call returned false)."""
        if self._call is None or request.seq != self.seq or dst != self.target:
            return ClerkEffects()
        return self._next()

    # ----------------------------------------------------------------------------------
    def _attempt(self) -> ClerkEffects:
        assert self._call is not None
        timers: tuple[TimerOp, ...] = (
            SetTimer(name=self.rpc_timer, low_ms=self.config.rpc_timeout_ms,
                     high_ms=self.config.rpc_timeout_ms),)
        return ClerkEffects(messages=(Outgoing(to=self.target, message=self._call),),
                            timers=timers)

    def _next(self) -> ClerkEffects:
        self.leader = (self.leader + 1) % len(self.servers)
        self._failures += 1
        if self._failures % len(self.servers) == 0:
            pause = self.config.retry_pause_ms
            return ClerkEffects(timers=(CancelTimer(name=self.rpc_timer),
                                        SetTimer(name=self.retry_timer, low_ms=pause,
                                                 high_ms=pause)))
        return self._attempt()
