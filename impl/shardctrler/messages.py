"""The shard controller's RPCs (scenarios §5.1: `ShardCtrler.Join/Leave/Move/Query`).

One frozen dataclass per message kind, like the key/value service's (impl.kv.messages), with
the same three renderings: `wire()` (the msgpack-ready list the network sizes), `trace()`
(the trace format's `msg` object, traces/README.md, system "shardctrler") and `describe()`
(one line: `Join 1 2 c1003#1`, `QueryReply OK #7 config 1 [1 1 1 1 1 1 1 1 1 1]`).

Every request carries the clerk's id and the call's sequence number, which the controller's
duplicate table keys on (impl.rsm.dedup); a reply repeats the sequence number so the clerk
can tell the answer to its current call from a late answer to an earlier one. A reply is OK,
ErrWrongLeader (try another server), or ErrInvalid for a change the controller refuses (a
Join of a group already present, a Leave or a Move naming an absent group: the reason from
spec.shardctrler.invalid), which is a definite answer: the call took effect as a no-op.
Configurations travel as values (spec.shardctrler.Configuration).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from spec.shardctrler import Configuration, Groups

CtrlErr = Literal["OK", "ErrWrongLeader", "ErrInvalid"]
OK: CtrlErr = "OK"
ERR_WRONG_LEADER: CtrlErr = "ErrWrongLeader"
ERR_INVALID: CtrlErr = "ErrInvalid"


def config_wire(config: Configuration) -> list[Any]:
    return [config.num, list(config.shards),
            [[gid, list(servers)] for gid, servers in config.groups]]


def config_trace(config: Configuration) -> dict[str, Any]:
    """A configuration in a trace: its number, a gid per shard, each group's servers."""
    return {"num": config.num, "shards": list(config.shards),
            "groups": {str(gid): list(servers) for gid, servers in config.groups}}


def _groups_trace(groups: Groups) -> dict[str, list[str]]:
    return {str(gid): list(servers) for gid, servers in groups}


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinArgs:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    groups: Groups  # (gid, servers), sorted by gid
    clerk: int
    seq: int

    def wire(self) -> Any:
        return ["Join", [[gid, list(servers)] for gid, servers in self.groups], self.clerk,
                self.seq]

    def trace(self) -> dict[str, Any]:
        return {"type": "Join", "groups": _groups_trace(self.groups), "clerk": self.clerk,
                "seq": self.seq}

    def describe(self) -> str:
        return f"Join {' '.join(str(gid) for gid, _ in self.groups)} c{self.clerk}#{self.seq}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaveArgs:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    gids: tuple[int, ...]
    clerk: int
    seq: int

    def wire(self) -> Any:
        return ["Leave", list(self.gids), self.clerk, self.seq]

    def trace(self) -> dict[str, Any]:
        return {"type": "Leave", "gids": list(self.gids), "clerk": self.clerk, "seq": self.seq}

    def describe(self) -> str:
        return f"Leave {' '.join(str(gid) for gid in self.gids)} c{self.clerk}#{self.seq}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveArgs:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    shard: int
    gid: int
    clerk: int
    seq: int

    def wire(self) -> Any:
        return ["Move", self.shard, self.gid, self.clerk, self.seq]

    def trace(self) -> dict[str, Any]:
        return {"type": "Move", "shard": self.shard, "gid": self.gid, "clerk": self.clerk,
                "seq": self.seq}

    def describe(self) -> str:
        return f"Move shard {self.shard} to {self.gid} c{self.clerk}#{self.seq}"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryArgs:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    num: int  # -1: the newest
    clerk: int
    seq: int

    def wire(self) -> Any:
        return ["Query", self.num, self.clerk, self.seq]

    def trace(self) -> dict[str, Any]:
        return {"type": "Query", "num": self.num, "clerk": self.clerk, "seq": self.seq}

    def describe(self) -> str:
        return f"Query {self.num} c{self.clerk}#{self.seq}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeReply:
    """The answer to a Join, a Leave or a Move; `reason` says why for ErrInvalid."""

    rpc: ClassVar[Literal["request", "reply"]] = "reply"
    err: CtrlErr
    seq: int
    reason: str = ""

    def wire(self) -> Any:
        return ["ChangeReply", self.err, self.seq, self.reason]

    def trace(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "ChangeReply", "err": self.err, "seq": self.seq}
        if self.reason:
            out["reason"] = self.reason
        return out

    def describe(self) -> str:
        return f"ChangeReply {self.err} #{self.seq}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryReply:
    rpc: ClassVar[Literal["request", "reply"]] = "reply"
    err: CtrlErr
    seq: int
    config: Configuration | None = None  # the configuration asked for, when OK

    def wire(self) -> Any:
        return ["QueryReply", self.err, self.seq,
                config_wire(self.config) if self.config is not None else None]

    def trace(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "QueryReply", "err": self.err, "seq": self.seq}
        if self.config is not None:
            out["config"] = config_trace(self.config)
        return out

    def describe(self) -> str:
        shown = (f" config {self.config.num} [{' '.join(str(g) for g in self.config.shards)}]"
                 if self.config is not None else "")
        return f"QueryReply {self.err} #{self.seq}{shown}"


CtrlRequest = JoinArgs | LeaveArgs | MoveArgs | QueryArgs
CtrlReply = ChangeReply | QueryReply
