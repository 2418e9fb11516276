"""The sharded key/value service's RPCs (scenarios §6.1: `ShardKV.Get`, `ShardKV.PutAppend`,
and the shard migration between groups, which the lab leaves to the student).

Clerks use the key/value service's messages (impl.kv.messages: `GetArgs`, `PutAppendArgs`
and their replies), with one more answer, ErrWrongGroup: the group does not serve the key's
shard (yet), so the clerk asks the controller where it went. Shard groups talk to the
controller with its own messages (impl.shardctrler.messages).

A shard moves by push (docs/shardkv-spec.md): the group that gives it up in configuration
`num` sends it to its new owner as a `TransferArgs` — the shard's data and its duplicate
table, frozen since the old owner stopped serving it — again and again until the new owner
answers OK (`TransferReply`), which it does only once the shard is installed through its own
log. The old owner then deletes its copy (garbage collection, lab 4B's challenge 1). The new
owner answers ErrNotReady while it has not reached configuration `num` itself, and
ErrWrongLeader if it does not lead its group.

One frozen dataclass per message kind with `wire()`, `trace()` and `describe()`, like every
message in the simulator. A transfer's trace form gives the shard's size and digest rather
than its data (a shard can hold tens of kilobytes; traces/README.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

TransferErr = Literal["OK", "ErrWrongLeader", "ErrNotReady"]
OK: TransferErr = "OK"
ERR_WRONG_LEADER: TransferErr = "ErrWrongLeader"
ERR_NOT_READY: TransferErr = "ErrNotReady"

Items = tuple[tuple[str, str], ...]  # a shard's data, (key, value) sorted by key
DupItems = tuple[tuple[int, int], ...]  # a shard's duplicate table, (clerk, seq) sorted


def key2shard(key: str, nshards: int = 10) -> int:
    """The lab's key2shard: the first byte of the key modulo the number of shards (0 for the
    empty key). Keys "0".."9" map to shards 8, 9, 0, 1, ..., 7."""
    raw = key.encode()
    return raw[0] % nshards if raw else 0


def shard_digest(data: dict[str, str] | Items) -> str:
    """sha256 of a shard's data as canonical JSON (keys sorted, no spaces), first 16 hex
    digits: the same rule as the key/value store's digest (impl.kv.node.store_digest)."""
    items = dict(data)
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferArgs:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    num: int  # the configuration that moves the shard
    shard: int
    gid: int  # the sending group
    data: Items
    dup: DupItems

    def wire(self) -> Any:
        return ["Transfer", self.num, self.shard, self.gid, [list(kv) for kv in self.data],
                [list(cs) for cs in self.dup]]

    def trace(self) -> dict[str, Any]:
        return {"type": "Transfer", "num": self.num, "shard": self.shard, "gid": self.gid,
                "keys": len(self.data), "digest": shard_digest(self.data),
                "dup": {str(c): q for c, q in self.dup}}

    def describe(self) -> str:
        return (f"Transfer s{self.shard} #{self.num} from {self.gid} ({len(self.data)} keys, "
                f"{len(self.dup)} clerks)")


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferReply:
    rpc: ClassVar[Literal["request", "reply"]] = "reply"
    err: TransferErr
    num: int
    shard: int

    def wire(self) -> Any:
        return ["TransferReply", self.err, self.num, self.shard]

    def trace(self) -> dict[str, Any]:
        return {"type": "TransferReply", "err": self.err, "num": self.num, "shard": self.shard}

    def describe(self) -> str:
        return f"TransferReply {self.err} s{self.shard} #{self.num}"
