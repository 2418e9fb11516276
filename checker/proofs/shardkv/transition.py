"""The sharded KV spec's initial condition and transition relation, symbolically, in Z3.

Theory of operation
-------------------
Each action of `spec.shardkv_next` is mirrored by a function that takes a symbolic pre-state
and concrete parameters — a group, a shard, a clerk, a network slot, and the configuration
numbers the action's effect depends on — and returns `SymAction`s: a guard and the successor
as terms (`SymState.copy()` with the changed variables rebound). Unrolling the configuration
numbers keeps every lookup in the controller's table concrete (`Config.owner`), so the
formulas stay small and quantifier-free. `next_relation(pre, post)` is the disjunction of
`guard ∧ post = successor` over every instance.

The network is a set of at most `max_messages` messages in slots: a received message leaves its
slot empty; a message sent goes into the first free slot unless it is already in flight; a step
whose message does not fit is not enabled, as in the spec. tests/proofs/shardkv shows that, on
states the spec reaches, the successors Z3 allows are exactly the spec's, under every bug flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import z3

from checker.invariants.shardkv_view import (
    ABSENT,
    ACK,
    NONE,
    REPLY,
    SENDING,
    SERVING,
    TRANSFER,
    WAITING,
    write_id,
)
from checker.proofs.shardkv.symbolic import Expr, SymMsg, SymState
from spec.shardkv import Config


@dataclass
class SymAction:
    label: str
    guard: Expr
    post: SymState


def init(s: SymState) -> Expr:
    """Configuration 0 everywhere, nothing held, no call made, nothing in flight."""
    cs = [s.published == 0, s.domain()]
    for g in range(s.G):
        cs.append(s.num[g] == 0)
        for sh in range(s.S):
            cs.append(s.status[g][sh] == ABSENT)
            cs += [x == 0 for x in s.data[g][sh] + s.dup[g][sh]]
    cs += [x == 0 for x in s.acked] + [z3.Not(m.present) for m in s.messages]
    return z3.And(cs)


# ---------------------------------------------------------------- the network as slots


def _message(config: Config, kind: int, *, shard: Expr = 0, num: Expr = 0, src: Expr = 0,
             dst: Expr = 0, clerk: Expr = 0, seq: Expr = 0, data: list[Expr] | None = None,
             dup: list[Expr] | None = None) -> SymMsg:
    def val(x: Expr) -> Expr:
        return z3.IntVal(x) if isinstance(x, int) else x

    ints = {"kind": kind, "shard": shard, "num": num, "src": src, "dst": dst, "clerk": clerk,
            "seq": seq}
    return SymMsg(z3.BoolVal(True), {k: val(v) for k, v in ints.items()},
                  [val(x) for x in data] if data else [z3.IntVal(0)] * config.writes,
                  [val(x) for x in dup] if dup else [z3.IntVal(0)] * config.clerks)


def _ite_msg(c: Expr, a: SymMsg, b: SymMsg) -> SymMsg:
    return SymMsg(z3.If(c, a.present, b.present),
                  {k: z3.If(c, a.ints[k], b.ints[k]) for k in SymMsg.INTS},
                  [z3.If(c, x, y) for x, y in zip(a.data, b.data, strict=True)],
                  [z3.If(c, x, y) for x, y in zip(a.dup, b.dup, strict=True)])


def _removed(config: Config, msgs: list[SymMsg], k: int) -> list[SymMsg]:
    out = list(msgs)
    out[k] = SymMsg.empty(config)
    return out


def _add(msgs: list[SymMsg], m: SymMsg, capacity: int) -> tuple[list[SymMsg], Expr, Expr]:
    """The network with m added (a set), whether m was in flight already, and whether the step
    fits within `capacity`."""
    already = z3.Or([old.same(m) for old in msgs])
    out = []
    for t, old in enumerate(msgs):
        first_free = z3.And(z3.Not(old.present), *[u.present for u in msgs[:t]])
        out.append(_ite_msg(z3.And(z3.Not(already), first_free), m, old))
    count = z3.Sum([z3.If(u.present, 1, 0) for u in msgs])
    return out, already, z3.Or(already, count < capacity)


def _drop_shard(p: SymState, g: int, s: int) -> None:
    p.status[g][s] = z3.IntVal(ABSENT)
    p.data[g][s] = [z3.IntVal(0)] * p.W
    p.dup[g][s] = [z3.IntVal(0)] * p.C


# ---------------------------------------------------------------- group actions


def publish(s: SymState, cfg: Config) -> SymAction:
    p = s.copy()
    p.published = s.published + 1
    return SymAction("Publish", s.published < cfg.last, p)


def reconfigure(s: SymState, cfg: Config, g: int) -> Iterator[SymAction]:
    """Reconfigure(g) from configuration a to n (n = a + 1; any other published n with the
    unordered-configs bug), a and n concrete."""
    for a in range(cfg.last + 1):
        targets = ([n for n in range(1, cfg.last + 1) if n != a]
                   if cfg.has_bug("unordered-configs") else [a + 1] if a < cfg.last else [])
        settled = z3.And([s.status[g][sh] == (SERVING if cfg.owner(a, sh) == g else ABSENT)
                          for sh in range(cfg.shards)])
        for n in targets:
            p = s.copy()
            p.num[g] = z3.IntVal(n)
            for sh in range(cfg.shards):
                before, after = cfg.owner(a, sh), cfg.owner(n, sh)
                if after == g and before != g:
                    p.status[g][sh] = z3.IntVal(SERVING if before == NONE else WAITING)
                    p.data[g][sh] = [z3.IntVal(0)] * s.W
                    p.dup[g][sh] = [z3.IntVal(0)] * s.C
                elif after != g and before == g:
                    keep = cfg.has_bug("serve-after-handoff")
                    p.status[g][sh] = z3.IntVal(SERVING if keep else SENDING)
            guard = z3.And(s.num[g] == a, s.published >= n, settled)
            yield SymAction(f"Reconfigure(g{g + 1}, #{a}→#{n})", guard, p)


def _handing_off(s: SymState, cfg: Config, g: int, sh: int, n: int) -> Expr:
    """With s.num[g] == n: the spec's `handing_off`."""
    st = s.status[g][sh]
    if cfg.owner(n, sh) == g:
        return st == SENDING
    return z3.Or(st == SENDING, st == SERVING)


def send(s: SymState, cfg: Config, g: int, sh: int) -> Iterator[SymAction]:
    for n in range(1, cfg.last + 1):
        dst = cfg.owner(n, sh)
        handing = _handing_off(s, cfg, g, sh, n)
        m = _message(cfg, TRANSFER, shard=sh, num=n, src=g, dst=dst, data=s.data[g][sh],
                     dup=s.dup[g][sh])
        p = s.copy()
        p.messages, already, fits = _add(s.messages, m, cfg.max_messages)
        if cfg.has_bug("delete-before-install"):
            _drop_shard(p, g, sh)
        guard = z3.And(s.num[g] == n, handing, z3.Not(already), fits)
        yield SymAction(f"Send(g{g + 1}, s{sh}, #{n})", guard, p)


def apply(s: SymState, cfg: Config, g: int, c: int) -> Iterator[SymAction]:
    for q in range(1, cfg.calls + 1):
        sh, w = cfg.shard_of(c, q), write_id(cfg.calls, c, q)
        reply = _message(cfg, REPLY, clerk=c, seq=q)
        p = s.copy()
        p.messages, already, fits = _add(s.messages, reply, cfg.max_messages)
        fresh = s.dup[g][sh][c] < q
        count = s.data[g][sh][w]
        p.data[g][sh] = list(s.data[g][sh])
        p.data[g][sh][w] = z3.If(fresh, z3.If(count + 1 <= 2, count + 1, 2), count)
        p.dup[g][sh] = list(s.dup[g][sh])
        p.dup[g][sh][c] = z3.If(fresh, q, s.dup[g][sh][c])
        guard = z3.And(s.acked[c] == q - 1, s.status[g][sh] == SERVING, fits,
                       z3.Or(fresh, z3.Not(already)))
        yield SymAction(f"Apply(g{g + 1}, c{c}.{q})", guard, p)


def restart(s: SymState, cfg: Config, g: int) -> Iterator[SymAction]:
    if not cfg.has_bug("volatile-dup-table"):
        return
    p = s.copy()
    for sh in range(cfg.shards):
        p.dup[g][sh] = [z3.IntVal(0)] * cfg.clerks
    guard = z3.Or([x != 0 for sh in range(cfg.shards) for x in s.dup[g][sh]])
    yield SymAction(f"Restart(g{g + 1})", guard, p)


# ---------------------------------------------------------------- the network's actions


def receive(s: SymState, cfg: Config, k: int) -> Iterator[SymAction]:
    """Receive, Duplicate (deliver keeping the message) and Drop of the message in slot k."""
    m = s.messages[k]
    variants = [("Receive", _removed(cfg, s.messages, k))]
    if cfg.duplicates:
        variants.append(("Duplicate", list(s.messages)))
    for how, rest in variants:
        keep = how == "Duplicate"
        for sh in range(cfg.shards):
            for h in range(cfg.groups):
                yield from _transfer(s, cfg, k, sh, h, rest, keep, f"{how}(slot {k})")
                yield from _ack(s, cfg, k, sh, h, rest, keep, f"{how}(slot {k})")
        for c in range(cfg.clerks):
            yield from _reply(s, cfg, k, c, rest, keep, f"{how}(slot {k})")
    if cfg.drops:
        p = s.copy()
        p.messages = _removed(cfg, s.messages, k)
        yield SymAction(f"Drop(slot {k})", m.present, p)


def _transfer(s: SymState, cfg: Config, k: int, sh: int, h: int, rest: list[SymMsg],
              keep: bool, label: str) -> Iterator[SymAction]:
    m = s.messages[k]
    base = z3.And(m.present, m.kind == TRANSFER, m.shard == sh, m.dst == h)
    if not keep:  # refused: h has not reached the transfer's configuration
        p = s.copy()
        p.messages = rest
        yield SymAction(f"{label} refused", z3.And(base, s.num[h] < m.num), p)
    ack = _message(cfg, ACK, shard=sh, num=m.num, src=h, dst=m.src)
    installing = z3.And(s.num[h] == m.num, s.status[h][sh] == WAITING)
    p = s.copy()
    p.messages, already, fits = _add(rest, ack, cfg.max_messages)
    p.status[h][sh] = z3.IntVal(SERVING)
    p.data[h][sh] = list(m.data)
    p.dup[h][sh] = ([z3.IntVal(0)] * cfg.clerks if cfg.has_bug("dup-table-not-migrated")
                    else list(m.dup))
    yield SymAction(f"{label} install", z3.And(base, installing, fits), p)
    again = z3.Or(s.num[h] > m.num, z3.And(s.num[h] == m.num, s.status[h][sh] == SERVING))
    p = s.copy()
    p.messages, already, fits = _add(rest, ack, cfg.max_messages)
    changed = z3.Not(already) if keep else z3.BoolVal(True)
    yield SymAction(f"{label} re-ack", z3.And(base, again, fits, changed), p)


def _ack(s: SymState, cfg: Config, k: int, sh: int, g: int, rest: list[SymMsg], keep: bool,
         label: str) -> Iterator[SymAction]:
    m = s.messages[k]
    base = z3.And(m.present, m.kind == ACK, m.shard == sh, m.dst == g)
    collectable = []
    for n in range(1, cfg.last + 1):
        p = s.copy()
        p.messages = rest
        _drop_shard(p, g, sh)
        here = z3.And(m.num == n, s.num[g] == n, _handing_off(s, cfg, g, sh, n))
        collectable.append(here)
        yield SymAction(f"{label} delete", z3.And(base, here), p)
    if not keep:  # stale: nothing to delete
        p = s.copy()
        p.messages = rest
        yield SymAction(f"{label} stale", z3.And(base, z3.Not(z3.Or(collectable))), p)


def _reply(s: SymState, cfg: Config, k: int, c: int, rest: list[SymMsg], keep: bool,
           label: str) -> Iterator[SymAction]:
    m = s.messages[k]
    base = z3.And(m.present, m.kind == REPLY, m.clerk == c)
    p = s.copy()
    p.messages = rest
    p.acked = list(s.acked)
    p.acked[c] = s.acked[c] + 1
    yield SymAction(f"{label} acked", z3.And(base, m.seq == s.acked[c] + 1), p)
    if not keep:
        p = s.copy()
        p.messages = rest
        yield SymAction(f"{label} stale", z3.And(base, m.seq != s.acked[c] + 1), p)


# ---------------------------------------------------------------- the relation


def actions(s: SymState, cfg: Config) -> list[SymAction]:
    out = [publish(s, cfg)]
    for g in range(cfg.groups):
        out += reconfigure(s, cfg, g)
        for sh in range(cfg.shards):
            out += send(s, cfg, g, sh)
        for c in range(cfg.clerks):
            out += apply(s, cfg, g, c)
        out += restart(s, cfg, g)
    for k in range(cfg.max_messages):
        out += receive(s, cfg, k)
    return out


def next_relation(pre: SymState, post: SymState, cfg: Config) -> tuple[Expr, list[SymAction]]:
    """Next(pre, post): some action instance is enabled and post is its successor."""
    acts = actions(pre, cfg)
    return z3.Or([z3.And(a.guard, post.equals(a.post)) for a in acts]), acts


