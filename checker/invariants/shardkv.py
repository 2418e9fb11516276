"""The sharded KV invariants, each written once over the view vocabulary
(`checker.invariants.shardkv_view`) and a backend (`checker.invariants.ops`): with `CONCRETE`
over a `ShardView` it evaluates (spec states, states rebuilt from traces), with `Z3` over a
`SymState` (`checker.proofs.shardkv.symbolic`) it is the formula the proof uses.

`SAFETY` are the spec's own properties (`spec.shardkv.INVARIANTS`, same names; tests show the
two agree). `AUXILIARY` are the lemmas the inductive proof needs, each a fact of the protocol
in words:

- a shard's copies form one lineage: a copy's *epoch* is the configuration whose end its data
  reflects (a serving copy: its group's configuration; a copy being handed off, and a transfer
  of configuration n: n − 1); a copy of a later epoch contains every call in one of an earlier
  epoch, and copies of one epoch are equal (`Lineage`);
- a copy exists only if every earlier handoff of its shard has started (`HandoffsStarted`):
  what makes a second server impossible;
- transfers and acknowledgements travel between the groups the configurations name, and a
  transfer is the frozen copy its sender still holds (`TransferWellFormed`,
  `AckWellFormed`); an acknowledgement means a copy of a later epoch exists;
- duplicate tables say exactly which calls a copy holds (`DupMatchesData`, `DupNotAhead`), and
  a reply in flight is for a call a group holds (`RepliesAreApplied`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from checker.invariants.ops import Ops
from checker.invariants.shardkv_view import (
    ABSENT,
    ACK,
    NONE,
    REPLY,
    SENDING,
    SERVING,
    TRANSFER,
    WAITING,
    V,
    write_id,
)

B = Any  # a bool or a z3 BoolRef
N = Any  # an int or a z3 ArithRef


@dataclass(frozen=True)
class Invariant:
    name: str
    words: str
    body: Callable[[V, Ops], B]
    auxiliary: bool = False
    # "network" when it reads the messages in flight (a trace may not record them)
    needs: frozenset[str] = field(default_factory=frozenset)

    def holds(self, v: V, ops: Ops) -> B:
        return self.body(v, ops)


@dataclass(frozen=True)
class TransitionInvariant:
    name: str
    words: str
    body: Callable[[V, V, Ops], B]

    def holds(self, before: V, after: V, ops: Ops) -> B:
        return self.body(before, after, ops)


# ---------------------------------------------------------------- vocabulary helpers


def owner(v: V, o: Ops, n: N, s: int) -> N:
    """The group index owning shard s in configuration n (NONE in 0); n may be symbolic."""
    if isinstance(n, int):
        return NONE if not 1 <= n <= v.K else v.configs[n - 1][s] - 1
    out: N = NONE
    for k in range(1, v.K + 1):
        out = o.ite(n == k, v.configs[k - 1][s] - 1, out)
    return out


def shard_of(v: V, clerk: int, seq: int) -> int:
    shards: int = v.S
    return (clerk + seq - 1) % shards  # spec.shardkv.Config.shard_of


def handoffs(v: V, s: int) -> list[tuple[int, int, int]]:
    """(configuration c, sender, receiver) for every configuration that moves s between groups."""
    out = []
    for c in range(2, v.K + 1):
        before, after = owner(v, None, c - 1, s), owner(v, None, c, s)  # type: ignore[arg-type]
        if before not in (NONE, after):
            out.append((c, before, after))
    return out


def settled(v: V, o: Ops, g: int) -> B:
    """Every shard as the group's configuration says: served if owned, absent if not."""
    return o.all(
        o.ite(owner(v, o, v.num[g], s) == g, v.status[g][s] == SERVING,
              v.status[g][s] == ABSENT)
        for s in range(v.S)
    )


def at_group(o: Ops, index: N, n_groups: int, body: Callable[[int], B]) -> B:
    """body(h) for the group h whose index is `index` (which may be symbolic)."""
    if isinstance(index, int):
        return body(index) if 0 <= index < n_groups else False
    return o.any(o.all([index == h, body(h)]) for h in range(n_groups))


@dataclass
class Copy:
    """A copy of one shard: held by a group (serving or handing off) or in a transfer."""

    present: B
    epoch: N  # the configuration whose end its data reflects
    reach: N  # every handoff up to this configuration has started, if the copy exists
    data: list[N]
    dup: list[N]
    group: int | None  # the holding group, or None for a transfer


def copies(v: V, o: Ops, s: int) -> Iterator[Copy]:
    for g in range(v.G):
        st = v.status[g][s]
        yield Copy(o.any([st == SERVING, st == SENDING]),
                   o.ite(st == SERVING, v.num[g], v.num[g] - 1),
                   v.num[g], v.data[g][s], v.dup[g][s], g)
    for m in v.messages:
        yield Copy(o.all([m.present, m.kind == TRANSFER, m.shard == s]), m.num - 1, m.num,
                   m.data, m.dup, None)


def held(v: V, o: Ops, s: int, w: int) -> B:
    """A group holds write w in its serving or handed-off copy of s."""
    return o.any(
        o.all([o.any([v.status[g][s] == SERVING, v.status[g][s] == SENDING]),
               v.data[g][s][w] >= 1])
        for g in range(v.G)
    )


def _le(o: Ops, xs: list[N], ys: list[N]) -> B:
    return o.all(x <= y for x, y in zip(xs, ys, strict=True))


def _eq(o: Ops, xs: list[N], ys: list[N]) -> B:
    return o.all(x == y for x, y in zip(xs, ys, strict=True))


# ---------------------------------------------------------------- the spec's properties


def _at_most_one_server(v: V, o: Ops) -> B:
    return o.all(o.count(v.status[g][s] == SERVING for g in range(v.G)) <= 1
                 for s in range(v.S))


def _no_acked_write_lost(v: V, o: Ops) -> B:
    return o.all(
        o.implies(q <= v.acked[c], held(v, o, shard_of(v, c, q), write_id(v.Q, c, q)))
        for c in range(v.C) for q in range(1, v.Q + 1)
    )


def _no_call_applied_twice(v: V, o: Ops) -> B:
    return o.all(v.data[g][s][w] <= 1
                 for g in range(v.G) for s in range(v.S) for w in range(v.W))


def _new_owner_extends_old_owner(v: V, o: Ops) -> B:
    return o.all(
        o.implies(o.all([v.status[g][s] == SENDING, v.status[h][s] == SERVING]),
                  _le(o, v.data[g][s], v.data[h][s]))
        for s in range(v.S) for g in range(v.G) for h in range(v.G) if g != h
    )


def _configurations_in_order(before: V, after: V, o: Ops) -> B:
    return o.all(
        o.any([after.num[g] == before.num[g],
               o.all([after.num[g] == before.num[g] + 1, settled(before, o, g)])])
        for g in range(before.G)
    )


SAFETY: tuple[Invariant, ...] = (
    Invariant("AtMostOneServer", "At most one group serves (accepts writes for) a shard at "
              "a time.", _at_most_one_server),
    Invariant("NoAckedWriteLost", "Every acknowledged write is held by a group that serves its "
              "shard or is handing it off.", _no_acked_write_lost),
    Invariant("NoCallAppliedTwice", "No clerk call is applied twice to a shard's data, across "
              "migrations.", _no_call_applied_twice),
    Invariant("NewOwnerExtendsOldOwner", "While a shard is handed off, the group serving it "
              "holds every call of the old owner's copy.", _new_owner_extends_old_owner),
)
CONFIGURATIONS_IN_ORDER = TransitionInvariant(
    "ConfigurationsInOrder", "Each group moves through the configurations in order, one at a "
    "time, each settled before the next.", _configurations_in_order)


# ---------------------------------------------------------------- auxiliary lemmas


def _type_ok(v: V, o: Ops) -> B:
    cells = [v.published >= 0, v.published <= v.K]
    for g in range(v.G):
        cells += [v.num[g] >= 0, v.num[g] <= v.published]
        for s in range(v.S):
            cells += [v.status[g][s] >= 0, v.status[g][s] <= 3]
            cells += [x >= 0 for x in v.data[g][s]] + [x <= 2 for x in v.data[g][s]]
            cells += [x >= 0 for x in v.dup[g][s]] + [x <= v.Q for x in v.dup[g][s]]
    cells += [x >= 0 for x in v.acked] + [x <= v.Q for x in v.acked]
    return o.all(cells)


def _empty_unless_held(v: V, o: Ops) -> B:
    return o.all(
        o.implies(o.any([v.status[g][s] == ABSENT, v.status[g][s] == WAITING]),
                  o.all([x == 0 for x in v.data[g][s] + v.dup[g][s]]))
        for g in range(v.G) for s in range(v.S)
    )


def _status_matches_config(v: V, o: Ops) -> B:
    out = []
    for g in range(v.G):
        for s in range(v.S):
            now, then, st = owner(v, o, v.num[g], s), owner(v, o, v.num[g] - 1, s), \
                v.status[g][s]
            out += [
                o.implies(st == SERVING, now == g),
                o.implies(st == WAITING, o.all([now == g, then != g, then != NONE])),
                o.implies(st == SENDING, o.all([now != g, then == g])),
                o.implies(st == ABSENT, now != g),
            ]
    return o.all(out)


def _holds_its_shard_only(v: V, o: Ops) -> B:
    out = []
    for s in range(v.S):
        for x in copies(v, o, s):
            others = [x.data[write_id(v.Q, c, q)] == 0 for c in range(v.C)
                      for q in range(1, v.Q + 1) if shard_of(v, c, q) != s]
            out.append(o.implies(x.present, o.all(others)))
    return o.all(out)


def _dup_matches_data(v: V, o: Ops) -> B:
    out = []
    for s in range(v.S):
        for x in copies(v, o, s):
            facts = []
            for c in range(v.C):
                for q in range(1, v.Q + 1):
                    w = write_id(v.Q, c, q)
                    facts.append(o.implies(x.data[w] >= 1, x.dup[c] >= q))
                    facts.append(o.implies(x.dup[c] == q, o.all(
                        [shard_of(v, c, q) == s, x.data[w] >= 1])))
            out.append(o.implies(x.present, o.all(facts)))
    return o.all(out)


def _dup_not_ahead(v: V, o: Ops) -> B:
    return o.all(
        o.implies(x.present, o.all(x.dup[c] <= v.acked[c] + 1 for c in range(v.C)))
        for s in range(v.S) for x in copies(v, o, s)
    )


def _transfers_apply_once(v: V, o: Ops) -> B:
    return o.all(o.implies(m.kind == TRANSFER, o.all(d <= 1 for d in m.data))
                 for m in v.messages if _present(m))


def _handoffs_started(v: V, o: Ops) -> B:
    out = []
    for s in range(v.S):
        moves = handoffs(v, s)
        for x in copies(v, o, s):
            out.append(o.implies(x.present, o.all(
                o.implies(c <= x.reach, v.num[sender] >= c) for c, sender, _ in moves)))
    return o.all(out)


def _transfer_well_formed(v: V, o: Ops) -> B:
    out = []
    for m in v.messages:
        if not _present(m):
            continue
        cases = []
        for s in range(v.S):
            for c, src, dst in handoffs(v, s):
                cases.append(o.all([
                    m.shard == s, m.num == c, m.src == src, m.dst == dst, v.num[src] >= c,
                    o.implies(v.num[src] == c, o.any([v.status[src][s] == SENDING,
                                                      v.status[src][s] == ABSENT])),
                    o.implies(o.all([v.num[src] == c, v.status[src][s] == SENDING]),
                              o.all([_eq(o, m.data, v.data[src][s]),
                                     _eq(o, m.dup, v.dup[src][s])])),
                ]))
        out.append(o.implies(o.all([m.present, m.kind == TRANSFER]), o.any(cases)))
    return o.all(out)


def _installed(v: V, o: Ops, s: int, c: int, r: int) -> B:
    """Group r has installed shard s for configuration c (handed to it, or created there)."""
    return o.any([v.num[r] > c, o.all([v.num[r] == c, v.status[r][s] == SERVING])])


def _ack_well_formed(v: V, o: Ops) -> B:
    out = []
    for m in v.messages:
        if not _present(m):
            continue
        cases = [
            o.all([m.shard == s, m.num == c, m.src == new, m.dst == old, v.num[old] >= c,
                   _installed(v, o, s, c, new)])
            for s in range(v.S) for c, old, new in handoffs(v, s)
        ]
        out.append(o.implies(o.all([m.present, m.kind == ACK]), o.any(cases)))
    return o.all(out)


def _handoffs_completed(v: V, o: Ops) -> B:
    return o.all(
        o.implies(o.any([v.num[old] > c, o.all([v.num[old] == c,
                                                  v.status[old][s] == ABSENT])]),
                  _installed(v, o, s, c, new))
        for s in range(v.S) for c, old, new in handoffs(v, s)
    )


def _installed_shards_stay_held(v: V, o: Ops) -> B:
    out = []
    for s in range(v.S):
        first = owner(v, o, 1, s)
        points = [(1, first)] if first != NONE else []
        points += [(c, new) for c, _, new in handoffs(v, s)]
        for c, r in points:
            later = o.any(o.all([x.present, x.epoch >= c]) for x in copies(v, o, s)
                          if x.group is not None)
            out.append(o.implies(_installed(v, o, s, c, r) if c > 1 else v.num[r] >= 1,
                                 later))
    return o.all(out)


def _lineage(v: V, o: Ops) -> B:
    out = []
    for s in range(v.S):
        for x, y in combinations(list(copies(v, o, s)), 2):
            out.append(o.implies(o.all([x.present, y.present]), o.all([
                o.implies(x.epoch < y.epoch, _le(o, x.data, y.data)),
                o.implies(y.epoch < x.epoch, _le(o, y.data, x.data)),
                o.implies(x.epoch == y.epoch, o.all([_eq(o, x.data, y.data),
                                                     _eq(o, x.dup, y.dup)])),
            ])))
    return o.all(out)


def _replies_are_applied(v: V, o: Ops) -> B:
    out = []
    for m in v.messages:
        if not _present(m):
            continue
        cases = []
        for c in range(v.C):
            for q in range(1, v.Q + 1):
                cases.append(o.all([
                    m.clerk == c, m.seq == q, q <= v.acked[c] + 1,
                    o.implies(q == v.acked[c] + 1,
                              held(v, o, shard_of(v, c, q), write_id(v.Q, c, q))),
                ]))
        out.append(o.implies(o.all([m.present, m.kind == REPLY]), o.any(cases)))
    return o.all(out)


def _present(m: Any) -> bool:
    """False only for a concrete message known absent (a Z3 slot is decided by the formula)."""
    return m.present is not False


AUXILIARY: tuple[Invariant, ...] = (
    Invariant("TypeOK", "Every variable within its range; no group ahead of the controller.",
              _type_ok, auxiliary=True),
    Invariant("EmptyUnlessHeld", "A group holds no data or duplicate table for a shard it "
              "neither serves nor hands off.", _empty_unless_held, auxiliary=True),
    Invariant("StatusMatchesConfig", "Serving or waiting: owned in the group's configuration; "
              "sending: owned in the previous one and not in this; absent: not owned.",
              _status_matches_config, auxiliary=True),
    Invariant("HoldsItsShardOnly", "A copy of a shard holds only calls to that shard.",
              _holds_its_shard_only, auxiliary=True, needs=frozenset({"network"})),
    Invariant("DupMatchesData", "A copy's duplicate table names exactly the calls it holds.",
              _dup_matches_data, auxiliary=True, needs=frozenset({"network"})),
    Invariant("DupNotAhead", "No copy has applied a call beyond a clerk's pending one.",
              _dup_not_ahead, auxiliary=True, needs=frozenset({"network"})),
    Invariant("TransfersApplyOnce", "A transfer holds each call at most once.",
              _transfers_apply_once, auxiliary=True, needs=frozenset({"network"})),
    Invariant("HandoffsStarted", "A copy of a shard exists only if every earlier handoff of "
              "that shard has started (its sender reached that configuration).",
              _handoffs_started, auxiliary=True, needs=frozenset({"network"})),
    Invariant("TransferWellFormed", "A transfer goes from the shard's old owner to its new "
              "one, and equals the copy the sender still hands off.", _transfer_well_formed,
              auxiliary=True, needs=frozenset({"network"})),
    Invariant("AckWellFormed", "An acknowledgement comes from a new owner that installed the "
              "shard, to the old owner.", _ack_well_formed, auxiliary=True,
              needs=frozenset({"network"})),
    Invariant("HandoffsCompleted", "An old owner deletes a shard only after the new owner "
              "installed it.", _handoffs_completed, auxiliary=True),
    Invariant("InstalledShardsStayHeld", "Once a shard is installed for a configuration, some "
              "group holds a copy of that epoch or later.", _installed_shards_stay_held,
              auxiliary=True),
    Invariant("Lineage", "Copies of a later epoch contain every call of earlier ones; copies "
              "of one epoch are equal.", _lineage, auxiliary=True,
              needs=frozenset({"network"})),
    Invariant("RepliesAreApplied", "A reply in flight is for a call a group holds, or an "
              "earlier one.", _replies_are_applied, auxiliary=True,
              needs=frozenset({"network"})),
)

ALL: tuple[Invariant, ...] = SAFETY + AUXILIARY
BY_NAME: dict[str, Invariant] = {inv.name: inv for inv in ALL}
# What a trace that records no messages in flight can be judged by (every safety property, and
# the lemmas about the groups alone).
TRACEABLE: tuple[Invariant, ...] = tuple(inv for inv in ALL if "network" not in inv.needs)
