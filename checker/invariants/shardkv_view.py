"""The plain view of a sharded KV state that every sharded KV invariant reads.

An invariant of `checker.invariants.shardkv` is written once over this vocabulary; a
`ShardView` holds plain ints (evaluated with `CONCRETE`), and `checker.proofs.shardkv.symbolic`
's `SymState` holds Z3 terms under the same names (the formula, with `Z3`).

The vocabulary:

- bounds (always plain ints): `G` groups, `S` shards, `C` clerks, `Q` calls per clerk, `W`
  write ids (`C * Q`), and `configs` (configuration n is `configs[n - 1]`, a gid per shard);
- `published` — the newest configuration the controller has published;
- per group g: `num[g]`, and per shard s `status[g][s]` (`spec.shardkv.Status` as an int),
  `data[g][s][w]` (how many times write w was applied to g's copy of s), `dup[g][s][c]` (the
  highest sequence number of clerk c applied to it);
- per clerk c: `acked[c]`;
- `messages`: the messages in flight, each a `MsgView` with a `present` bit (always true here;
  a Z3 slot may be empty) and the fields of all three kinds, unused ones 0.

How a trace fills it (`checker.trace_check.shard_judge`, docs/shardkv-spec.md): each group's
state comes from its most advanced replica's state record — configuration number, per shard
its status (serving, waiting for data, handing off, or absent) and duplicate table — and the
clerk calls applied to each shard's copy from the group's committed log; `acked` from the
clients' returns; `published` from the controller's newest configuration. A trace that
records no messages in flight leaves `messages` empty and is judged only by the invariants
whose `needs` do not include "network".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spec.shardkv import Config, Reply, State, Transfer, TransferAck

NONE = -1  # the group index of gid 0
ABSENT, SERVING, WAITING, SENDING = 0, 1, 2, 3  # spec.shardkv.Status
TRANSFER, ACK, REPLY = 0, 1, 2  # message kinds


def write_id(calls: int, clerk: int, seq: int) -> int:
    """The write id of clerk `clerk`'s call `seq` (1-based), as `spec.shardkv.Config.write`."""
    return clerk * calls + seq - 1


@dataclass
class MsgView:
    """One message: the fields of every kind (0 where a kind has no such field)."""

    kind: int
    shard: int = 0
    num: int = 0
    src: int = 0
    dst: int = 0
    clerk: int = 0
    seq: int = 0
    data: list[int] = field(default_factory=list)
    dup: list[int] = field(default_factory=list)
    present: bool = True


@dataclass
class ShardView:
    G: int
    S: int
    C: int
    Q: int
    configs: tuple[tuple[int, ...], ...]
    published: int
    num: list[int]
    status: list[list[int]]
    data: list[list[list[int]]]
    dup: list[list[list[int]]]
    acked: list[int]
    messages: list[MsgView]

    @property
    def W(self) -> int:
        return self.C * self.Q

    @property
    def K(self) -> int:
        return len(self.configs)


def from_spec(config: Config, state: State) -> ShardView:
    """The view of a spec state."""
    messages = []
    for m in state.network:
        match m:
            case Transfer(shard, num, src, dst, data, dup):
                messages.append(MsgView(TRANSFER, shard, num, src, dst, data=list(data),
                                        dup=list(dup)))
            case TransferAck(shard, num, src, dst):
                messages.append(MsgView(ACK, shard, num, src, dst))
            case Reply(clerk, seq):
                messages.append(MsgView(REPLY, clerk=clerk, seq=seq))
    messages = [fill_message(m, config.writes, config.clerks) for m in messages]
    return ShardView(
        G=config.groups, S=config.shards, C=config.clerks, Q=config.calls,
        configs=config.configs, published=state.published,
        num=[g.num for g in state.groups],
        status=[[int(st) for st in g.status] for g in state.groups],
        data=[[list(d) for d in g.data] for g in state.groups],
        dup=[[list(d) for d in g.dup] for g in state.groups],
        acked=list(state.acked),
        messages=messages,
    )


def fill_message(m: MsgView, writes: int, clerks: int) -> MsgView:
    """`m` with empty data and dup lists filled with zeros (every kind has both, as slots do)."""
    if not m.data:
        m.data = [0] * writes
    if not m.dup:
        m.dup = [0] * clerks
    return m


V = Any  # a ShardView or a SymState: the same vocabulary
