"""The symbolic sharded KV state: the spec's variables as Z3 integers over bounded domains.

`SymState` has the vocabulary of `checker.invariants.shardkv_view.ShardView`, so that every
invariant of `checker.invariants.shardkv` yields its formula from its one definition. The
network (a set of at most `max_messages` messages) is that many slots, each a `SymMsg` with a
`present` bit and the fields of all three kinds. `domain()` pins everything unused to 0 and
keeps present slots distinct, so that a spec `State` has exactly one encoding up to the order
of slots, and a Z3 model decodes to exactly one `State` (`decode`).
"""

from __future__ import annotations

from typing import Any

import z3

from checker.invariants.shardkv_view import ACK, REPLY, TRANSFER
from spec.shardkv import Config, Group, Message, Reply, State, Status, Transfer, TransferAck

Expr = Any  # z3 terms (z3 ships no type hints)


class SymMsg:
    """One network slot."""

    INTS = ("kind", "shard", "num", "src", "dst", "clerk", "seq")

    def __init__(self, present: Expr, ints: dict[str, Expr], data: list[Expr],
                 dup: list[Expr]) -> None:
        self.present = present
        self.ints = ints
        self.data = data
        self.dup = dup

    def __getattr__(self, name: str) -> Expr:
        ints = self.__dict__.get("ints", {})
        if name in ints:
            return ints[name]
        raise AttributeError(name)

    @classmethod
    def fresh(cls, name: str, config: Config) -> SymMsg:
        return cls(z3.Bool(f"{name}.present"), {f: z3.Int(f"{name}.{f}") for f in cls.INTS},
                   [z3.Int(f"{name}.data{w}") for w in range(config.writes)],
                   [z3.Int(f"{name}.dup{c}") for c in range(config.clerks)])

    @classmethod
    def empty(cls, config: Config) -> SymMsg:
        zero = z3.IntVal(0)
        return cls(z3.BoolVal(False), dict.fromkeys(cls.INTS, zero), [zero] * config.writes,
                   [zero] * config.clerks)

    def cells(self) -> list[Expr]:
        return [self.present, *self.ints.values(), *self.data, *self.dup]

    def same(self, other: SymMsg) -> Expr:
        """Both present and the same message (unused fields are pinned to 0)."""
        pairs = list(zip(self.cells()[1:], other.cells()[1:], strict=True))
        return z3.And(self.present, other.present, *[a == b for a, b in pairs])

    def equals(self, other: SymMsg) -> Expr:
        return z3.And([a == b for a, b in zip(self.cells(), other.cells(), strict=True)])

    def domain(self, config: Config) -> Expr:
        """Fields in range for its kind, every unused field 0 (an empty slot is all 0)."""
        k = self.ints
        zero = [x == 0 for x in self.data + self.dup]
        transfer = z3.And(k["kind"] == TRANSFER, _in(k["shard"], 0, config.shards - 1),
                          _in(k["num"], 1, config.last), _in(k["src"], 0, config.groups - 1),
                          _in(k["dst"], 0, config.groups - 1), k["clerk"] == 0, k["seq"] == 0,
                          *[_in(x, 0, 2) for x in self.data],
                          *[_in(x, 0, config.calls) for x in self.dup])
        ack = z3.And(k["kind"] == ACK, _in(k["shard"], 0, config.shards - 1),
                     _in(k["num"], 1, config.last), _in(k["src"], 0, config.groups - 1),
                     _in(k["dst"], 0, config.groups - 1), k["clerk"] == 0, k["seq"] == 0,
                     *zero)
        reply = z3.And(k["kind"] == REPLY, _in(k["clerk"], 0, config.clerks - 1),
                       _in(k["seq"], 1, config.calls), k["shard"] == 0, k["num"] == 0,
                       k["src"] == 0, k["dst"] == 0, *zero)
        nothing = z3.And(*[x == 0 for x in self.cells()[1:]])
        return z3.If(self.present, z3.Or(transfer, ack, reply), nothing)


class SymState:
    """The spec's variables as Z3 terms; `copy()` gives a state to rebind as a successor."""

    def __init__(self, config: Config, name: str | None) -> None:
        self.config = config
        self.G, self.S, self.C, self.Q = config.groups, config.shards, config.clerks, \
            config.calls
        self.configs = config.configs
        if name is None:
            return
        G, S = range(config.groups), range(config.shards)
        self.published = z3.Int(f"{name}.published")
        self.num = [z3.Int(f"{name}.num{g}") for g in G]
        self.status = [[z3.Int(f"{name}.status{g}.{s}") for s in S] for g in G]
        self.data = [[[z3.Int(f"{name}.data{g}.{s}.{w}") for w in range(config.writes)]
                      for s in S] for g in G]
        self.dup = [[[z3.Int(f"{name}.dup{g}.{s}.{c}") for c in range(config.clerks)]
                     for s in S] for g in G]
        self.acked = [z3.Int(f"{name}.acked{c}") for c in range(config.clerks)]
        self.messages = [SymMsg.fresh(f"{name}.m{k}", config)
                         for k in range(config.max_messages)]

    @property
    def W(self) -> int:
        return self.C * self.Q

    @property
    def K(self) -> int:
        return len(self.configs)

    def copy(self) -> SymState:
        out = SymState(self.config, None)
        out.published = self.published
        out.num = list(self.num)
        out.status = [list(row) for row in self.status]
        out.data = [[list(d) for d in row] for row in self.data]
        out.dup = [[list(d) for d in row] for row in self.dup]
        out.acked = list(self.acked)
        out.messages = list(self.messages)
        return out

    def cells(self) -> list[Expr]:
        out = [self.published, *self.num, *self.acked]
        for g in range(self.G):
            for s in range(self.S):
                out += [self.status[g][s], *self.data[g][s], *self.dup[g][s]]
        for m in self.messages:
            out += m.cells()
        return out

    def equals(self, other: SymState) -> Expr:
        return z3.And([a == b for a, b in zip(self.cells(), other.cells(), strict=True)])

    def domain(self) -> Expr:
        """The encoding's well-formedness: every variable in its spec range, slots well formed
        and distinct (the network is a set)."""
        c = self.config
        cs = [_in(self.published, 0, c.last)]
        for g in range(self.G):
            cs.append(_in(self.num[g], 0, c.last))
            for s in range(self.S):
                cs.append(_in(self.status[g][s], 0, 3))
                cs += [_in(x, 0, 2) for x in self.data[g][s]]
                cs += [_in(x, 0, c.calls) for x in self.dup[g][s]]
        cs += [_in(x, 0, c.calls) for x in self.acked]
        cs += [m.domain(c) for m in self.messages]
        for a in range(len(self.messages)):
            for b in range(a + 1, len(self.messages)):
                cs.append(z3.Not(self.messages[a].same(self.messages[b])))
        return z3.And(cs)

    def is_concrete(self, state: State) -> Expr:
        """This symbolic state is `state` (messages in sorted order in the first slots)."""
        c = self.config
        cs = [self.published == state.published]
        for g, group in enumerate(state.groups):
            cs.append(self.num[g] == group.num)
            for s in range(self.S):
                cs.append(self.status[g][s] == int(group.status[s]))
                cs += [x == y for x, y in zip(self.data[g][s], group.data[s], strict=True)]
                cs += [x == y for x, y in zip(self.dup[g][s], group.dup[s], strict=True)]
        cs += [x == y for x, y in zip(self.acked, state.acked, strict=True)]
        msgs = sorted(state.network, key=lambda m: (type(m).__name__, m))
        for k, slot in enumerate(self.messages):
            want = _encode(c, msgs[k]) if k < len(msgs) else SymMsg.empty(c)
            cs.append(slot.equals(want))
        return z3.And(cs)


def _encode(config: Config, m: Message) -> SymMsg:
    def ints(**values: int) -> dict[str, Expr]:
        return {f: z3.IntVal(values.get(f, 0)) for f in SymMsg.INTS}

    zero_data = [z3.IntVal(0)] * config.writes
    zero_dup = [z3.IntVal(0)] * config.clerks
    match m:
        case Transfer(shard, num, src, dst, data, dup):
            return SymMsg(z3.BoolVal(True), ints(kind=TRANSFER, shard=shard, num=num, src=src,
                                                  dst=dst),
                          [z3.IntVal(x) for x in data], [z3.IntVal(x) for x in dup])
        case TransferAck(shard, num, src, dst):
            return SymMsg(z3.BoolVal(True), ints(kind=ACK, shard=shard, num=num, src=src,
                                                  dst=dst), zero_data, zero_dup)
        case Reply(clerk, seq):
            return SymMsg(z3.BoolVal(True), ints(kind=REPLY, clerk=clerk, seq=seq), zero_data,
                          zero_dup)
    raise AssertionError(m)  # pragma: no cover


def decode(model: z3.ModelRef, s: SymState) -> State:
    """The spec state a model gives a symbolic state (which must satisfy its domain)."""
    c = s.config

    def val(x: Expr) -> int:
        return int(model.eval(x, model_completion=True).as_long())

    groups = tuple(
        Group(
            num=val(s.num[g]),
            status=tuple(Status(val(s.status[g][sh])) for sh in range(c.shards)),
            data=tuple(tuple(val(x) for x in s.data[g][sh]) for sh in range(c.shards)),
            dup=tuple(tuple(val(x) for x in s.dup[g][sh]) for sh in range(c.shards)),
        )
        for g in range(c.groups)
    )
    network: set[Message] = set()
    for m in s.messages:
        if not z3.is_true(model.eval(m.present, model_completion=True)):
            continue
        kind = val(m.kind)
        if kind == TRANSFER:
            network.add(Transfer(val(m.shard), val(m.num), val(m.src), val(m.dst),
                                 tuple(val(x) for x in m.data), tuple(val(x) for x in m.dup)))
        elif kind == ACK:
            network.add(TransferAck(val(m.shard), val(m.num), val(m.src), val(m.dst)))
        else:
            network.add(Reply(val(m.clerk), val(m.seq)))
    return State(val(s.published), groups, tuple(val(x) for x in s.acked), frozenset(network))


def _in(x: Expr, low: int, high: int) -> Expr:
    return z3.And(x >= low, x <= high)
