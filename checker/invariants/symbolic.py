"""The symbolic Raft state: the spec's variables as Z3 terms over bounded domains.

`SymState` has the vocabulary of `checker.invariants.view.ConcreteView`, so that every
invariant of `checker.invariants.raft` yields its Z3 encoding from its one definition. Logs
are arrays of `max_log` (term, value) cells plus a length; the network (a set of at most
`max_messages` messages, `spec/raft.py`) is `max_messages` slots, each a flattened message
(`MsgRec`'s fields) with a `present` bit. Everything unused is pinned to 0 (`domain`), so that
a concrete state has exactly one encoding up to the order of slots, and a Z3 model decodes to
exactly one spec `State` (`decode`).

Snapshots (§7, with `Config.snapshots`): `snaps[i]` is server i's snapshot index, and the log
arrays stay indexed by absolute index — cells 1..snaps[i] hold the snapshot's values, the cell
at snaps[i] its last term, and the terms of the compacted cells before it are pinned to 0
(unknown, as `term_at` is None there in the spec). Without snapshots `snaps[i]` is the constant
0 and every formula is the one of the snapshot-free encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import z3

from checker.invariants.view import AE, AER, IS, NONE, RV, RVR, MsgRec, ServerRec
from spec.raft_types import (
    AppendEntries,
    AppendEntriesReply,
    Config,
    Entry,
    InstallSnapshot,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
    Snapshot,
    State,
)

Expr = Any  # z3 terms (z3 ships no type hints)


@dataclass(frozen=True)
class Bounds:
    """The bounded domains of an encoding, read from a spec `Config`."""

    servers: int
    max_term: int
    max_log: int
    values: int
    max_messages: int
    max_restarts: int
    snapshots: bool = False

    @classmethod
    def of(cls, config: Config) -> Bounds:
        return cls(config.servers, config.max_term, config.max_log, config.values,
                   config.max_messages, config.max_restarts, config.snapshots)


class SymMsg:
    """One network slot: the fields of `MsgRec` as Z3 terms, and whether the slot is used."""

    FIELDS = ("kind", "src", "dst", "term", "a", "b", "c", "n")

    def __init__(self, present: Expr, ints: dict[str, Expr], flag: Expr,
                 ent_terms: list[Expr], ent_values: list[Expr]) -> None:
        self.present = present
        self.ints = ints
        self.flag = flag
        self.ent_terms = ent_terms
        self.ent_values = ent_values

    @classmethod
    def fresh(cls, name: str, max_log: int) -> SymMsg:
        return cls(
            z3.Bool(f"{name}.present"),
            {f: z3.Int(f"{name}.{f}") for f in cls.FIELDS},
            z3.Bool(f"{name}.flag"),
            [z3.Int(f"{name}.et{k}") for k in range(max_log)],
            [z3.Int(f"{name}.ev{k}") for k in range(max_log)],
        )

    @classmethod
    def const(cls, m: MsgRec, max_log: int) -> SymMsg:
        # (an InstallSnapshot carries values and no terms: the two are padded separately)
        return cls(
            z3.BoolVal(m.present),
            {f: z3.IntVal(getattr(m, f) if f != "n" else m.n) for f in cls.FIELDS},
            z3.BoolVal(m.flag),
            [z3.IntVal(t) for t in (*m.ent_terms, *(0,) * (max_log - len(m.ent_terms)))],
            [z3.IntVal(v) for v in (*m.ent_values, *(0,) * (max_log - len(m.ent_values)))],
        )

    # the MsgRec vocabulary
    @property
    def kind(self) -> Expr:
        return self.ints["kind"]

    @property
    def src(self) -> Expr:
        return self.ints["src"]

    @property
    def dst(self) -> Expr:
        return self.ints["dst"]

    @property
    def term(self) -> Expr:
        return self.ints["term"]

    @property
    def a(self) -> Expr:
        return self.ints["a"]

    @property
    def b(self) -> Expr:
        return self.ints["b"]

    @property
    def c(self) -> Expr:
        return self.ints["c"]

    @property
    def n(self) -> Expr:
        return self.ints["n"]

    def entry_term(self, k: int) -> Expr:
        return self.ent_terms[k]

    def entry_value(self, k: int) -> Expr:
        return self.ent_values[k]

    def cells(self) -> list[Expr]:
        return [self.present, *self.ints.values(), self.flag, *self.ent_terms, *self.ent_values]

    def same(self, other: SymMsg) -> Expr:
        """Both present and equal in every field (the network is a set of messages)."""
        return z3.And(self.present, other.present,
                      *[x == y for x, y in zip(self.cells()[1:], other.cells()[1:], strict=True)])


def ite_msg(cond: Expr, x: SymMsg, y: SymMsg) -> SymMsg:
    """Fieldwise If(cond, x, y)."""
    return SymMsg(
        z3.If(cond, x.present, y.present),
        {f: z3.If(cond, x.ints[f], y.ints[f]) for f in SymMsg.FIELDS},
        z3.If(cond, x.flag, y.flag),
        [z3.If(cond, p, q) for p, q in zip(x.ent_terms, y.ent_terms, strict=True)],
        [z3.If(cond, p, q) for p, q in zip(x.ent_values, y.ent_values, strict=True)],
    )


def empty_msg(max_log: int) -> SymMsg:
    return SymMsg.const(MsgRec(0, 0, 0, 0, present=False), max_log)


class SymState:
    """A global state as Z3 terms; its lists may be rebound to build a successor (`copy`)."""

    # The proof's history variables (`checker.proofs.ghost.Ghost`), when instrumented.
    ghost: Any = None

    def __init__(self, bounds: Bounds, name: str | None = None) -> None:
        self.bounds = b = bounds
        self.n = b.servers
        self.cap = b.max_log
        if name is None:
            return  # filled in by copy()
        ids, L = range(b.servers), range(b.max_log)
        self.cur_term = [z3.Int(f"{name}.term{i}") for i in ids]
        self.roles = [z3.Int(f"{name}.role{i}") for i in ids]
        self.voted = [z3.Int(f"{name}.voted{i}") for i in ids]
        self.commits = [z3.Int(f"{name}.commit{i}") for i in ids]
        self.lasts = [z3.Int(f"{name}.last{i}") for i in ids]
        self.snaps = ([z3.Int(f"{name}.snap{i}") for i in ids] if b.snapshots
                      else [z3.IntVal(0) for _ in ids])
        self.lterm = [[z3.Int(f"{name}.log{i}[{k + 1}].term") for k in L] for i in ids]
        self.lval = [[z3.Int(f"{name}.log{i}[{k + 1}].value") for k in L] for i in ids]
        self.grant = [[z3.Bool(f"{name}.granted{i}_{j}") for j in ids] for i in ids]
        self.resp = [[z3.Bool(f"{name}.responded{i}_{j}") for j in ids] for i in ids]
        self.nxt = [[z3.Int(f"{name}.next{i}_{j}") for j in ids] for i in ids]
        self.mtc = [[z3.Int(f"{name}.match{i}_{j}") for j in ids] for i in ids]
        self.restarts = z3.Int(f"{name}.restarts")
        self.messages = [SymMsg.fresh(f"{name}.slot{s}", b.max_log) for s in range(b.max_messages)]

    def copy(self) -> SymState:
        c = SymState(self.bounds)
        c.cur_term, c.roles, c.voted = list(self.cur_term), list(self.roles), list(self.voted)
        c.commits, c.lasts, c.snaps = list(self.commits), list(self.lasts), list(self.snaps)
        c.lterm = [list(r) for r in self.lterm]
        c.lval = [list(r) for r in self.lval]
        c.grant = [list(r) for r in self.grant]
        c.resp = [list(r) for r in self.resp]
        c.nxt = [list(r) for r in self.nxt]
        c.mtc = [list(r) for r in self.mtc]
        c.restarts = self.restarts
        c.messages = list(self.messages)
        return c

    # ---- the view vocabulary (see checker.invariants.view.ConcreteView)
    def term(self, i: int) -> Expr:
        return self.cur_term[i]

    def role(self, i: int) -> Expr:
        return self.roles[i]

    def voted_for(self, i: int) -> Expr:
        return self.voted[i]

    def commit(self, i: int) -> Expr:
        return self.commits[i]

    def last(self, i: int) -> Expr:
        return self.lasts[i]

    def snap(self, i: int) -> Expr:
        return self.snaps[i]

    def known(self, i: int, k: int) -> Expr:
        if not self.bounds.snapshots:
            return k <= self.lasts[i]
        return z3.And(self.snaps[i] <= k, k <= self.lasts[i])

    def term_at(self, i: int, k: int) -> Expr:
        return self.lterm[i][k - 1]

    def value_at(self, i: int, k: int) -> Expr:
        return z3.If(k <= self.lasts[i], self.lval[i][k - 1], NONE)

    def entry_slots(self, m: SymMsg) -> range:
        return range(self.cap)  # guarded by k < m.n where it matters

    def granted(self, i: int, j: int) -> Expr:
        return self.grant[i][j]

    def responded(self, i: int, j: int) -> Expr:
        return self.resp[i][j]

    def next(self, i: int, j: int) -> Expr:
        return self.nxt[i][j]

    def match(self, i: int, j: int) -> Expr:
        return self.mtc[i][j]

    def log_terms_at_most(self, i: int, bound: Expr) -> Expr:
        return z3.And([z3.Implies(self.known(i, k), self.term_at(i, k) <= bound)
                       for k in range(1, self.cap + 1)])

    def last_common(self, i: int, j: int, hi: Expr) -> Expr:
        out: Expr = z3.IntVal(0)
        for k in range(1, self.cap + 1):  # the outermost If is the largest k
            both = z3.And(k <= hi, self.known(i, k), self.known(j, k),
                          self.term_at(i, k) == self.term_at(j, k))
            out = z3.If(both, k, out)
        return out

    def agree(self, i: int, other: SymState, j: int, hi: Expr) -> Expr:
        cells = []
        for k in range(1, self.cap + 1):
            both = z3.And(self.known(i, k), other.known(j, k))
            cells.append(z3.Implies(k <= hi, z3.And(
                self.value_at(i, k) == other.value_at(j, k),
                z3.Implies(both, self.term_at(i, k) == other.term_at(j, k)))))
        return z3.And(cells)

    # ---- symbolic helpers for the transition relation
    def term_at_sym(self, i: int, idx: Expr) -> Expr:
        """Term of entry `idx`, a symbolic index: 0 at index 0, NONE beyond the end (as
        `ConcreteView.term_at`)."""
        out: Expr = z3.IntVal(NONE)
        for k in range(1, self.cap + 1):
            out = z3.If(idx == k, self.lterm[i][k - 1], out)
        if not self.bounds.snapshots:
            return z3.If(idx == 0, 0, z3.If(idx <= self.lasts[i], out, NONE))
        # the snapshot's last term at its index (0 at index 0), unknown before it
        known = z3.And(self.snaps[i] <= idx, idx <= self.lasts[i])
        return z3.If(known, z3.If(idx == 0, 0, out), NONE)

    def value_at_sym(self, i: int, idx: Expr) -> Expr:
        out: Expr = z3.IntVal(NONE)
        for k in range(1, self.cap + 1):
            out = z3.If(idx == k, self.lval[i][k - 1], out)
        return z3.If(z3.And(idx >= 1, idx <= self.lasts[i]), out, NONE)

    def last_term(self, i: int) -> Expr:
        return self.term_at_sym(i, self.lasts[i])

    # ---- constraints
    def cells(self) -> list[Expr]:
        flat = [*self.cur_term, *self.roles, *self.voted, *self.commits, *self.lasts]
        if self.bounds.snapshots:
            flat += self.snaps
        for rows in (self.lterm, self.lval, self.grant, self.resp, self.nxt, self.mtc):
            for r in rows:
                flat.extend(r)
        flat.append(self.restarts)
        for m in self.messages:
            flat.extend(m.cells())
        return flat

    def equals(self, other: SymState) -> Expr:
        """Cell by cell (slots positionally)."""
        return z3.And([x == y for x, y in zip(self.cells(), other.cells(), strict=True)])

    def domain(self) -> Expr:
        """The bounded domains, with every unused cell pinned to 0 (canonical form)."""
        b, cs = self.bounds, []
        for i in range(self.n):
            cs += [self.cur_term[i] >= 0, self.cur_term[i] <= b.max_term,
                   self.roles[i] >= 0, self.roles[i] <= 2,
                   self.voted[i] >= NONE, self.voted[i] < self.n,
                   self.commits[i] >= 0, self.commits[i] <= b.max_log,
                   self.lasts[i] >= 0, self.lasts[i] <= b.max_log]
            snap = self.snaps[i]
            if b.snapshots:
                cs += [snap >= 0, snap <= self.lasts[i]]
            for k in range(1, b.max_log + 1):
                t, v = self.lterm[i][k - 1], self.lval[i][k - 1]
                entry = z3.And(t >= 1, t <= b.max_term, v >= 1, v <= b.values)
                if b.snapshots:  # a compacted cell keeps its value, its term is forgotten
                    entry = z3.If(k < snap, z3.And(t == 0, v >= 1, v <= b.values), entry)
                cs.append(z3.If(k <= self.lasts[i], entry, z3.And(t == 0, v == 0)))
            for j in range(self.n):
                cs += [self.nxt[i][j] >= 1, self.nxt[i][j] <= b.max_log + 1,
                       self.mtc[i][j] >= 0, self.mtc[i][j] <= b.max_log]
        cs += [self.restarts >= 0, self.restarts <= b.max_restarts]
        for s, m in enumerate(self.messages):
            cs.append(self._slot_domain(m))
            cs += [z3.Not(m.same(o)) for o in self.messages[s + 1:]]
        return z3.And(cs)

    def _slot_domain(self, m: SymMsg) -> Expr:
        b = self.bounds
        zero_entries = [m.n == 0, *[t == 0 for t in m.ent_terms], *[v == 0 for v in m.ent_values]]
        ints = m.ints
        by_kind = {
            RV: [*zero_entries, z3.Not(m.flag), m.c == 0],
            RVR: [*zero_entries, m.a == 0, m.b == 0, m.c == 0],
            AE: [z3.Not(m.flag), m.a + m.n <= b.max_log,
                 *[z3.If(k < m.n, z3.And(m.ent_terms[k] >= 1, m.ent_terms[k] <= b.max_term,
                                         m.ent_values[k] >= 1, m.ent_values[k] <= b.values),
                         z3.And(m.ent_terms[k] == 0, m.ent_values[k] == 0))
                   for k in range(b.max_log)]],
            AER: [*zero_entries, m.b == 0, m.c == 0],
        }
        if b.snapshots:
            # InstallSnapshot: a = last index ≥ 1, b = its term, the values of 1..a
            by_kind[IS] = [z3.Not(m.flag), m.c == 0, m.n == 0, m.a >= 1, m.b >= 1,
                           *[t == 0 for t in m.ent_terms],
                           *[z3.If(k < m.a, z3.And(v >= 1, v <= b.values), v == 0)
                             for k, v in enumerate(m.ent_values)]]
        used = z3.And(
            ints["src"] >= 0, ints["src"] < self.n, ints["dst"] >= 0, ints["dst"] < self.n,
            ints["src"] != ints["dst"], ints["term"] >= 1, ints["term"] <= b.max_term,
            ints["a"] >= 0, ints["a"] <= b.max_log, ints["b"] >= 0, ints["b"] <= b.max_term,
            ints["c"] >= 0, ints["c"] <= b.max_log, ints["n"] >= 0, ints["n"] <= b.max_log,
            z3.Or([z3.And(ints["kind"] == k, *cs) for k, cs in by_kind.items()]),
        )
        unused = z3.And([c == 0 for c in ints.values()] + [z3.Not(m.flag)] +
                        [t == 0 for t in m.ent_terms] + [v == 0 for v in m.ent_values])
        return z3.If(m.present, used, unused)

    def is_concrete(self, state: State) -> Expr:
        """This symbolic state is the spec state `state` (messages in sorted slots)."""
        return self.equals(encode(state, self.bounds))


def encode(state: State, bounds: Bounds) -> SymState:
    """A spec state as constant terms (the inverse of `decode`)."""
    from checker.invariants.view import from_spec  # local: view imports nothing of ours

    view = from_spec(state)
    if len(view.messages) > bounds.max_messages:
        raise ValueError("more messages in flight than max_messages")
    s = SymState(bounds)
    recs: Sequence[ServerRec] = view.recs
    L = bounds.max_log
    if (any(r.snap_index for r in recs) and not bounds.snapshots) or any(r.last > L for r in recs):
        raise ValueError("state outside the encoded bounds")
    iv = z3.IntVal
    s.cur_term = [iv(r.term) for r in recs]
    s.roles = [iv(r.role) for r in recs]
    s.voted = [iv(r.voted_for) for r in recs]
    s.commits = [iv(r.commit) for r in recs]
    s.lasts = [iv(r.last) for r in recs]
    s.snaps = [iv(r.snap_index) for r in recs]
    s.lterm = [[iv(t) for t in (*(0,) * max(r.snap_index - 1, 0),
                                *((r.snap_term,) if r.snap_index else ()),
                                *r.log_terms, *(0,) * (L - r.last))] for r in recs]
    s.lval = [[iv(v) for v in (*(r.values or ()), *(0,) * (L - r.last))] for r in recs]
    s.grant = [[z3.BoolVal(j in r.granted) for j in range(s.n)] for r in recs]
    s.resp = [[z3.BoolVal(j in r.responded) for j in range(s.n)] for r in recs]
    s.nxt = [[iv(x) for x in r.next_index] for r in recs]
    s.mtc = [[iv(x) for x in r.match_index] for r in recs]
    s.restarts = iv(state.restarts)
    msgs = [SymMsg.const(m, L) for m in view.messages]
    s.messages = msgs + [empty_msg(L) for _ in range(bounds.max_messages - len(msgs))]
    return s


def decode(model: z3.ModelRef, s: SymState) -> State:
    """The spec state a Z3 model assigns to `s`."""

    def num(x: Expr) -> int:
        return int(model.eval(x, model_completion=True).as_long())

    def flag(x: Expr) -> bool:
        return bool(z3.is_true(model.eval(x, model_completion=True)))

    ids = range(s.n)
    snaps = [num(x) for x in s.snaps]
    logs = tuple(
        tuple(Entry(num(s.lterm[i][k]), num(s.lval[i][k])) for k in range(snaps[i],
                                                                          num(s.lasts[i])))
        for i in ids
    )
    snapshots = tuple(
        Snapshot(snaps[i], num(s.lterm[i][snaps[i] - 1]),
                 tuple(num(s.lval[i][k]) for k in range(snaps[i]))) if snaps[i] else Snapshot()
        for i in ids)
    network: set[Message] = set()
    for m in s.messages:
        if not flag(m.present):
            continue
        kind, src, dst, term = num(m.kind), num(m.src), num(m.dst), num(m.term)
        a, b, c = num(m.a), num(m.b), num(m.c)
        if kind == RV:
            network.add(RequestVote(src, dst, term, a, b))
        elif kind == RVR:
            network.add(RequestVoteReply(src, dst, term, flag(m.flag)))
        elif kind == AE:
            ents = tuple(Entry(num(m.ent_terms[k]), num(m.ent_values[k])) for k in range(num(m.n)))
            network.add(AppendEntries(src, dst, term, a, b, ents, c))
        elif kind == AER:
            network.add(AppendEntriesReply(src, dst, term, flag(m.flag), a))
        elif kind == IS:
            network.add(InstallSnapshot(src, dst, term, a, b,
                                               tuple(num(m.ent_values[k]) for k in range(a))))
        else:  # pragma: no cover - excluded by the domain
            raise ValueError(f"message kind {kind} outside the encoding")
    voted = tuple(None if num(v) == NONE else num(v) for v in s.voted)
    return State(
        term=tuple(num(t) for t in s.cur_term),
        role=tuple(Role(num(r)) for r in s.roles),
        voted_for=voted,
        log=logs,
        snapshot=snapshots,
        commit_index=tuple(num(c) for c in s.commits),
        votes_responded=tuple(frozenset(j for j in ids if flag(s.resp[i][j])) for i in ids),
        votes_granted=tuple(frozenset(j for j in ids if flag(s.grant[i][j])) for i in ids),
        next_index=tuple(tuple(num(x) for x in row) for row in s.nxt),
        match_index=tuple(tuple(num(x) for x in row) for row in s.mtc),
        network=frozenset(network),
        restarts=num(s.restarts),
    )
