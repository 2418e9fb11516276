"""The sharded key/value service's clerk core, sans I/O (scenarios §6.1).

Theory of operation
-------------------
A `ShardClerk` runs one call at a time, like the key/value clerk, with the lab's routing on
top: the call goes to the group that serves its key's shard (`key2shard`) in the clerk's
cached configuration, to the server of that group the clerk last saw answer, and is retried
with the same (clerk, seq) until some server answers it — so the duplicate tables, which
travel with the shards, execute it exactly once wherever it lands:

* ErrWrongLeader from the server tried, a call the network reports as failed, or no answer
  within `rpc_timeout_ms` move on to the group's next server;
* ErrWrongGroup (the group does not serve the shard, or not yet), a whole round of the
  group's servers without success, or a configuration that names no group for the shard
  make the clerk pause `retry_pause_ms` (the lab's 100 ms) and then ask the controller for
  its newest configuration (Query(-1), through a controller clerk of its own) before trying
  again.

A success reply (OK, or ErrNoKey for a get: the value is "") finishes the call, whichever
server and attempt it comes from. Replies to earlier calls are ignored, and so are refusals
from servers the clerk already moved past.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from impl.kv.machine import GET, KINDS, PUT
from impl.kv.messages import (
    ERR_NO_KEY,
    ERR_WRONG_GROUP,
    OK,
    ClerkReply,
    ClerkRequest,
    GetArgs,
    GetReply,
    PutAppendArgs,
)
from impl.raft.effects import CancelTimer, SetTimer, TimerOp
from impl.rsm.clerk import ClerkConfig
from impl.rsm.effects import ClerkEffects, Done, Outgoing
from impl.shardctrler.clerk import CtrlClerk
from impl.shardctrler.messages import ChangeReply, CtrlRequest, QueryReply
from impl.shardkv.messages import key2shard
from spec.shardctrler import Configuration, initial

RPC, RETRY = "rpc", "retry"
CTRL_TIMERS = ("ctrl-rpc", "ctrl-retry")


@dataclass(frozen=True, slots=True, kw_only=True)
class ShardClerkConfig:
    rpc_timeout_ms: int = 400
    retry_pause_ms: int = 100  # the lab's clerk sleeps 100 ms before asking the controller
    ctrl: ClerkConfig = field(default_factory=lambda: ClerkConfig(rpc_timeout_ms=200,
                                                                    retry_pause_ms=100))

    def __post_init__(self) -> None:
        if self.rpc_timeout_ms < 1 or self.retry_pause_ms < 1:
            raise ValueError("clerk timeouts must be at least 1 ms")


class ShardClerk:
    def __init__(self, clerk_id: int, ctrl_servers: Sequence[int | str],
                 config: ShardClerkConfig | None = None) -> None:
        self.id = clerk_id
        self.config = config or ShardClerkConfig()
        self.ctrl = CtrlClerk(clerk_id, ctrl_servers, self.config.ctrl, timer_names=CTRL_TIMERS)
        self.shards: Configuration = initial()  # the cached configuration
        self.seq = 0  # of the current (or last) call
        self.leader: dict[int, int] = {}  # gid -> index of the server to try first
        self._call: ClerkRequest | None = None
        self._tried = 0  # servers of the current group tried in a row without success

    @property
    def busy(self) -> bool:
        return self._call is not None

    @property
    def target(self) -> int | str | None:
        """The server the current call was last sent to (None: asking the controller)."""
        if self._call is None:
            return None
        servers = self._servers()
        return servers[self.leader.get(self._gid(), 0) % len(servers)] if servers else None

    def call(self, kind: str, key: str, value: str | None = None) -> ClerkEffects:
        """Start a get, put or append; the clerk must not be busy (one call at a time)."""
        if self._call is not None:
            raise RuntimeError(f"clerk {self.id}: a call is already in progress")
        if kind not in KINDS or (kind == GET) != (value is None):
            raise ValueError(f"bad call {kind}({key!r}, {value!r})")
        self.seq += 1
        if kind == GET:
            self._call = GetArgs(key=key, clerk=self.id, seq=self.seq)
        else:
            assert value is not None
            self._call = PutAppendArgs(key=key, value=value,
                                       op="Put" if kind == PUT else "Append",
                                       clerk=self.id, seq=self.seq)
        self._tried = 0
        return self._attempt()

    # -- inputs ------------------------------------------------------------------------
    def step(self, src: int | str, reply: ClerkReply | QueryReply | ChangeReply) -> ClerkEffects:
        if isinstance(reply, QueryReply | ChangeReply):
            return self._from_ctrl(self.ctrl.step(src, reply))
        call = self._call
        if call is None or reply.seq != self.seq:
            return ClerkEffects()  # an answer to an earlier call
        if reply.err == OK or (reply.err == ERR_NO_KEY and isinstance(reply, GetReply)):
            self._call = None
            servers = self._servers_of(key2shard(call.key))
            if src in servers:
                self.leader[self.shards.shards[key2shard(call.key)]] = servers.index(src)
            output = reply.value if isinstance(reply, GetReply) else None
            return ClerkEffects(timers=(CancelTimer(name=RPC), CancelTimer(name=RETRY)),
                                done=Done(seq=self.seq, output=output))
        if src != self.target:
            return ClerkEffects()  # a refusal from a server we have already moved past
        if reply.err == ERR_WRONG_GROUP:
            return self._pause()
        return self._next()

    def timeout(self, name: str) -> ClerkEffects:
        if name in CTRL_TIMERS:
            return self._from_ctrl(self.ctrl.timeout(name))
        if self._call is None:
            return ClerkEffects()
        if name == RPC:
            return self._next()
        return self._refresh()  # RETRY: the pause is over; ask where the shard is now

    def call_failed(self, dst: int | str, request: ClerkRequest | CtrlRequest) -> ClerkEffects:
        """The network could not deliver `request` to `dst` (labrpc's Call returned false)."""
        if not isinstance(request, GetArgs | PutAppendArgs):
            return self._from_ctrl(self.ctrl.call_failed(dst, request))
        if self._call is None or request.seq != self.seq or dst != self.target:
            return ClerkEffects()
        return self._next()

    # ----------------------------------------------------------------------------------
    def _gid(self) -> int:
        assert self._call is not None
        return self.shards.shards[key2shard(self._call.key)]

    def _servers_of(self, shard: int) -> tuple[str, ...]:
        gid = self.shards.shards[shard]
        return dict(self.shards.groups).get(gid, ())

    def _servers(self) -> tuple[str, ...]:
        assert self._call is not None
        return self._servers_of(key2shard(self._call.key))

    def _attempt(self) -> ClerkEffects:
        target = self.target
        if target is None:  # no group serves the shard in the cached configuration
            return self._refresh()
        timers: tuple[TimerOp, ...] = (
            SetTimer(name=RPC, low_ms=self.config.rpc_timeout_ms,
                     high_ms=self.config.rpc_timeout_ms),)
        assert self._call is not None
        return ClerkEffects(messages=(Outgoing(to=target, message=self._call),),
                            timers=timers)

    def _next(self) -> ClerkEffects:
        gid = self._gid()
        servers = self._servers()
        self.leader[gid] = (self.leader.get(gid, 0) + 1) % len(servers)
        self._tried += 1
        if self._tried >= len(servers):
            return self._pause()
        return self._attempt()

    def _pause(self) -> ClerkEffects:
        """Stop trying this group; after the pause, ask the controller (`_refresh`)."""
        pause = self.config.retry_pause_ms
        return ClerkEffects(timers=(CancelTimer(name=RPC),
                                    SetTimer(name=RETRY, low_ms=pause, high_ms=pause)))

    def _refresh(self) -> ClerkEffects:
        """Ask the controller for its newest configuration (unless a query is under way)."""
        self._tried = 0
        if self.ctrl.busy:
            return ClerkEffects(timers=(CancelTimer(name=RPC),))
        query = self.ctrl.query(-1)
        return ClerkEffects(messages=query.messages,
                            timers=(CancelTimer(name=RPC), *query.timers))

    def _from_ctrl(self, effects: ClerkEffects) -> ClerkEffects:
        """The controller clerk's effects; when its query finished, the new configuration is
        cached and the call tried again."""
        if effects.done is None:
            return ClerkEffects(messages=effects.messages, timers=effects.timers)
        config = effects.done.output
        if isinstance(config, Configuration) and config.num >= self.shards.num:
            self.shards = config
        if self._call is None:
            return ClerkEffects(messages=effects.messages, timers=effects.timers)
        again = self._attempt()
        return ClerkEffects(messages=(*effects.messages, *again.messages),
                            timers=(*effects.timers, *again.timers))
