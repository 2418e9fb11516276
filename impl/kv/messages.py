"""The key/value service's RPCs (scenarios §4.1: `KVServer.Get`, `KVServer.PutAppend`).

One frozen dataclass per message kind, like Raft's (impl.raft.messages), with the same three
renderings: `wire()` (the msgpack-ready list the network sizes), `trace()` (the trace
format's `msg` object, traces/README.md) and `describe()` (one line:
`Get 'k' c1001#7`, `PutAppendReply ErrWrongLeader #7`).

Every request carries the clerk's id and the call's sequence number: that pair names one
clerk call across all its retries, and is what the servers' duplicate table keys on. A reply
repeats the sequence number, because here a reply is a message of its own, not the return of
a blocking Call: the clerk must be able to tell the answer to its current call from a late
answer to an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

Err = Literal["OK", "ErrNoKey", "ErrWrongLeader", "ErrWrongGroup"]
OK: Err = "OK"
ERR_NO_KEY: Err = "ErrNoKey"  # a get of an absent key: the value is "" (the lab's clerk)
ERR_WRONG_LEADER: Err = "ErrWrongLeader"  # not the leader, or lost the term: try elsewhere
# The sharded service's groups use these messages too (impl.shardkv): a group that does not
# serve the key's shard (yet) answers this; the clerk asks the controller where it went.
ERR_WRONG_GROUP: Err = "ErrWrongGroup"

PutOrAppend = Literal["Put", "Append"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GetArgs:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    key: str
    clerk: int
    seq: int

    def wire(self) -> Any:
        return ["Get", self.key, self.clerk, self.seq]

    def trace(self) -> dict[str, Any]:
        return {"type": "Get", "key": self.key, "clerk": self.clerk, "seq": self.seq}

    def describe(self) -> str:
        return f"Get {self.key!r} c{self.clerk}#{self.seq}"


@dataclass(frozen=True, slots=True, kw_only=True)
class GetReply:
    rpc: ClassVar[Literal["request", "reply"]] = "reply"
    err: Err
    value: str
    seq: int

    def wire(self) -> Any:
        return ["GetReply", self.err, self.value, self.seq]

    def trace(self) -> dict[str, Any]:
        return {"type": "GetReply", "err": self.err, "value": self.value, "seq": self.seq}

    def describe(self) -> str:
        shown = self.value if len(self.value) <= 24 else self.value[:21] + "..."
        return f"GetReply {self.err} {shown!r} #{self.seq}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PutAppendArgs:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    key: str
    value: str
    op: PutOrAppend
    clerk: int
    seq: int

    def wire(self) -> Any:
        return ["PutAppend", self.key, self.value, self.op, self.clerk, self.seq]

    def trace(self) -> dict[str, Any]:
        return {"type": "PutAppend", "op": self.op, "key": self.key, "value": self.value,
                "clerk": self.clerk, "seq": self.seq}

    def describe(self) -> str:
        return f"{self.op} {self.key!r} {self.value!r} c{self.clerk}#{self.seq}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PutAppendReply:
    rpc: ClassVar[Literal["request", "reply"]] = "reply"
    err: Err
    seq: int

    def wire(self) -> Any:
        return ["PutAppendReply", self.err, self.seq]

    def trace(self) -> dict[str, Any]:
        return {"type": "PutAppendReply", "err": self.err, "seq": self.seq}

    def describe(self) -> str:
        return f"PutAppendReply {self.err} #{self.seq}"


ClerkRequest = GetArgs | PutAppendArgs
ClerkReply = GetReply | PutAppendReply
