"""The symbolic Raft state: the spec's variables as Z3 terms over bounded domains.

`SymState` holds the arrays of `checker.invariants.view.ConcreteView` under the same names
(`term[i]`, `commit_index[i]`, `next_index[i][j]`, `network`, ...), so that every invariant of
`checker.invariants.raft` yields its Z3 encoding from its one definition, and the transition
relation (`checker.proofs.transition`) rebinds them to build a successor. Logs are arrays of
`max_log` (term, value) cells by absolute index (`term_cells`, `value_cells`) plus
`last_index`; the network (a set of at most `max_messages` messages, `spec/raft.py`) is
`max_messages` slots (`SymMsg`), each with a message's fields and a `present` bit. Everything
unused is pinned to 0 (`domain`), so that a concrete state has exactly one encoding up to the
order of slots, and a Z3 model decodes to exactly one spec `State` (`decode`).

Snapshots (§7, with `Config.snapshots`): `snapshot_index[i]` is server i's snapshot index, and
the log cells stay indexed by absolute index — cells 1..snapshot_index[i] hold the snapshot's
values, the cell at snapshot_index[i] its last term, and the terms of the compacted cells
before it are pinned to 0 (unknown, as `term_at` is None there in the spec). Without snapshots
`snapshot_index[i]` is the constant 0 and every formula is the one of the snapshot-free
encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import z3

from checker.invariants.view import AE, FIELDS, IS, MESSAGE_CLASSES, NONE, MsgRec
from spec.raft_types import Config, Entry, Message, Role, Snapshot, State

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
    """One network slot: a message's fields as Z3 terms (`MsgRec`'s, by their spec names), and
    whether the slot is used.

    A slot holds one message at a time, so fields of different kinds share a Z3 cell: the
    index fields of every kind one cell, their terms another (`INTS`, `BOOLS`), and an
    InstallSnapshot's `values` the cells of an AppendEntries' `entry_values`. Every field is an
    attribute under its own name; the fields of one cell are the same term. The encoding thus
    has four numbers, one flag and the entry arrays per slot, whatever the kinds."""

    INTS: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("kind",), ("src",), ("dst",), ("term",),
        ("last_log_index", "prev_index", "match_index", "last_index"),
        ("last_log_term", "prev_term", "last_term"),
        ("leader_commit",),
        ("entry_count",),
    )
    BOOLS: ClassVar[tuple[tuple[str, ...], ...]] = (("granted", "success"),)
    CELL: ClassVar[dict[str, int]] = {f: k for k, names in enumerate(INTS) for f in names}

    # The fields, as set by __init__ from the cells.
    kind: Expr
    src: Expr
    dst: Expr
    term: Expr
    last_log_index: Expr
    prev_index: Expr
    match_index: Expr
    last_index: Expr
    last_log_term: Expr
    prev_term: Expr
    last_term: Expr
    leader_commit: Expr
    entry_count: Expr
    granted: Expr
    success: Expr

    def __init__(self, present: Expr, ints: list[Expr], bools: list[Expr],
                 entry_terms: list[Expr], entry_values: list[Expr]) -> None:
        self.present = present
        self.ints = ints
        self.bools = bools
        self.entry_terms = entry_terms
        self.entry_values = entry_values
        self.values = entry_values  # an InstallSnapshot's values share the entries' cells
        for names, cell in zip(self.INTS, ints, strict=True):
            for name in names:
                setattr(self, name, cell)
        for names, cell in zip(self.BOOLS, bools, strict=True):
            for name in names:
                setattr(self, name, cell)

    @classmethod
    def fresh(cls, name: str, max_log: int) -> SymMsg:
        return cls(
            z3.Bool(f"{name}.present"),
            [z3.Int(f"{name}.{'/'.join(names)}") for names in cls.INTS],
            [z3.Bool(f"{name}.{'/'.join(names)}") for names in cls.BOOLS],
            [z3.Int(f"{name}.entry_terms[{k}]") for k in range(max_log)],
            [z3.Int(f"{name}.entry_values/values[{k}]") for k in range(max_log)],
        )

    @classmethod
    def build(cls, max_log: int, kind: int, **fields: Expr) -> SymMsg:
        """A message of `kind` present in a slot, from its fields by name (the rest 0)."""
        ints: list[Expr] = [z3.IntVal(0)] * len(cls.INTS)
        ints[0] = z3.IntVal(kind)
        for name, x in fields.items():
            if name in cls.CELL:
                ints[cls.CELL[name]] = z3.IntVal(x) if isinstance(x, int) else x
        flag = fields.get("granted", fields.get("success", False))
        zeros = [z3.IntVal(0)] * max_log
        return cls(z3.BoolVal(True), ints, [flag if z3.is_expr(flag) else z3.BoolVal(flag)],
                   fields.get("entry_terms", zeros),
                   fields.get("entry_values", fields.get("values", zeros)))

    @classmethod
    def const(cls, m: MsgRec, max_log: int) -> SymMsg:
        own = {"kind", "src", "dst", "term", "entry_count", *FIELDS[m.kind]}
        ints = [next((getattr(m, f) for f in names if f in own), 0) for names in cls.INTS]
        values = m.values if m.kind == IS else m.entry_values
        # (an InstallSnapshot carries values and no terms: the two are padded separately)
        return cls(
            z3.BoolVal(m.present),
            [z3.IntVal(x) for x in ints],
            [z3.BoolVal(m.granted or m.success)],
            [z3.IntVal(t) for t in (*m.entry_terms, *(0,) * (max_log - len(m.entry_terms)))],
            [z3.IntVal(v) for v in (*values, *(0,) * (max_log - len(values)))],
        )

    def entry_term(self, k: int) -> Expr:
        return self.entry_terms[k]

    def entry_value(self, k: int) -> Expr:
        return self.entry_values[k]

    def cells(self) -> list[Expr]:
        return [self.present, *self.ints, *self.bools, *self.entry_terms, *self.entry_values]

    def same(self, other: SymMsg) -> Expr:
        """Both present and equal in every field (the network is a set of messages)."""
        return z3.And(self.present, other.present,
                      *[x == y for x, y in zip(self.cells()[1:], other.cells()[1:], strict=True)])


def ite_msg(cond: Expr, x: SymMsg, y: SymMsg) -> SymMsg:
    """Fieldwise If(cond, x, y)."""
    return SymMsg(
        z3.If(cond, x.present, y.present),
        [z3.If(cond, p, q) for p, q in zip(x.ints, y.ints, strict=True)],
        [z3.If(cond, p, q) for p, q in zip(x.bools, y.bools, strict=True)],
        [z3.If(cond, p, q) for p, q in zip(x.entry_terms, y.entry_terms, strict=True)],
        [z3.If(cond, p, q) for p, q in zip(x.entry_values, y.entry_values, strict=True)],
    )


def empty_msg(max_log: int) -> SymMsg:
    return SymMsg.const(MsgRec(0, 0, 0, 0, present=False), max_log)


# The per-server arrays (`SERVER_ROWS`, one term per server) and per-server-per-index or -pair
# grids, in the order of `cells()`.
SERVER_ROWS = ("term", "role", "voted_for", "commit_index", "last_index")
GRIDS = ("term_cells", "value_cells", "votes_granted", "votes_responded", "next_index",
         "match_index")


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
        ids, cells = range(b.servers), range(b.max_log)
        self.term = [z3.Int(f"{name}.term[{i}]") for i in ids]
        self.role = [z3.Int(f"{name}.role[{i}]") for i in ids]
        self.voted_for = [z3.Int(f"{name}.voted_for[{i}]") for i in ids]
        self.commit_index = [z3.Int(f"{name}.commit_index[{i}]") for i in ids]
        self.last_index = [z3.Int(f"{name}.last_index[{i}]") for i in ids]
        self.snapshot_index = ([z3.Int(f"{name}.snapshot_index[{i}]") for i in ids]
                               if b.snapshots else [z3.IntVal(0) for _ in ids])
        self.term_cells = [[z3.Int(f"{name}.log[{i}][{k + 1}].term") for k in cells]
                           for i in ids]
        self.value_cells = [[z3.Int(f"{name}.log[{i}][{k + 1}].value") for k in cells]
                            for i in ids]
        self.votes_granted = [[z3.Bool(f"{name}.votes_granted[{i}][{j}]") for j in ids]
                              for i in ids]
        self.votes_responded = [[z3.Bool(f"{name}.votes_responded[{i}][{j}]") for j in ids]
                                for i in ids]
        self.next_index = [[z3.Int(f"{name}.next_index[{i}][{j}]") for j in ids] for i in ids]
        self.match_index = [[z3.Int(f"{name}.match_index[{i}][{j}]") for j in ids] for i in ids]
        self.restarts = z3.Int(f"{name}.restarts")
        self.network = [SymMsg.fresh(f"{name}.network[{s}]", b.max_log)
                        for s in range(b.max_messages)]

    def copy(self) -> SymState:
        c = SymState(self.bounds)
        for f in (*SERVER_ROWS, "snapshot_index"):
            setattr(c, f, list(getattr(self, f)))
        for f in GRIDS:
            setattr(c, f, [list(r) for r in getattr(self, f)])
        c.restarts = self.restarts
        c.network = list(self.network)
        return c

    # ---- the log, read as `checker.invariants.view.ConcreteView` reads it
    def known(self, i: int, k: int) -> Expr:
        if not self.bounds.snapshots:
            return k <= self.last_index[i]
        return z3.And(self.snapshot_index[i] <= k, k <= self.last_index[i])

    def term_at(self, i: int, k: int) -> Expr:
        return self.term_cells[i][k - 1]

    def value_at(self, i: int, k: int) -> Expr:
        return z3.If(k <= self.last_index[i], self.value_cells[i][k - 1], NONE)

    def entry_slots(self, m: SymMsg) -> range:
        return range(self.cap)  # guarded by k < m.entry_count where it matters

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

    def term_at_sym(self, i: int, idx: Expr) -> Expr:
        """Term of entry `idx`, a symbolic index: 0 at index 0, NONE beyond the end (as
        `ConcreteView.term_at`)."""
        out: Expr = z3.IntVal(NONE)
        for k in range(1, self.cap + 1):
            out = z3.If(idx == k, self.term_cells[i][k - 1], out)
        if not self.bounds.snapshots:
            return z3.If(idx == 0, 0, z3.If(idx <= self.last_index[i], out, NONE))
        # the snapshot's last term at its index (0 at index 0), unknown before it
        known = z3.And(self.snapshot_index[i] <= idx, idx <= self.last_index[i])
        return z3.If(known, z3.If(idx == 0, 0, out), NONE)

    def value_at_sym(self, i: int, idx: Expr) -> Expr:
        out: Expr = z3.IntVal(NONE)
        for k in range(1, self.cap + 1):
            out = z3.If(idx == k, self.value_cells[i][k - 1], out)
        return z3.If(z3.And(idx >= 1, idx <= self.last_index[i]), out, NONE)

    def last_term(self, i: int) -> Expr:
        return self.term_at_sym(i, self.last_index[i])

    # ---- constraints
    def cells(self) -> list[Expr]:
        flat = [x for f in SERVER_ROWS for x in getattr(self, f)]
        if self.bounds.snapshots:
            flat += self.snapshot_index
        for f in GRIDS:
            for r in getattr(self, f):
                flat.extend(r)
        flat.append(self.restarts)
        for m in self.network:
            flat.extend(m.cells())
        return flat

    def equals(self, other: SymState) -> Expr:
        """Cell by cell (slots positionally)."""
        return z3.And([x == y for x, y in zip(self.cells(), other.cells(), strict=True)])

    def domain(self) -> Expr:
        """The bounded domains, with every unused cell pinned to 0 (canonical form)."""
        b, cs = self.bounds, []
        for i in range(self.n):
            cs += [self.term[i] >= 0, self.term[i] <= b.max_term,
                   self.role[i] >= 0, self.role[i] <= 2,
                   self.voted_for[i] >= NONE, self.voted_for[i] < self.n,
                   self.commit_index[i] >= 0, self.commit_index[i] <= b.max_log,
                   self.last_index[i] >= 0, self.last_index[i] <= b.max_log]
            snapshot_index = self.snapshot_index[i]
            if b.snapshots:
                cs += [snapshot_index >= 0, snapshot_index <= self.last_index[i]]
            for k in range(1, b.max_log + 1):
                t, v = self.term_cells[i][k - 1], self.value_cells[i][k - 1]
                entry = z3.And(t >= 1, t <= b.max_term, v >= 1, v <= b.values)
                if b.snapshots:  # a compacted cell keeps its value, its term is forgotten
                    entry = z3.If(k < snapshot_index, z3.And(t == 0, v >= 1, v <= b.values),
                                  entry)
                cs.append(z3.If(k <= self.last_index[i], entry, z3.And(t == 0, v == 0)))
            for j in range(self.n):
                cs += [self.next_index[i][j] >= 1, self.next_index[i][j] <= b.max_log + 1,
                       self.match_index[i][j] >= 0, self.match_index[i][j] <= b.max_log]
        cs += [self.restarts >= 0, self.restarts <= b.max_restarts]
        for s, m in enumerate(self.network):
            cs.append(self._slot_domain(m))
            cs += [z3.Not(m.same(o)) for o in self.network[s + 1:]]
        return z3.And(cs)

    def _slot_domain(self, m: SymMsg) -> Expr:
        b = self.bounds
        kinds = range(len(MESSAGE_CLASSES)) if b.snapshots else range(IS)
        by_kind = {kind: _unused_cells_zero(m, kind) for kind in kinds}
        by_kind[AE] += [
            m.prev_index + m.entry_count <= b.max_log,
            *[z3.If(k < m.entry_count,
                    z3.And(m.entry_terms[k] >= 1, m.entry_terms[k] <= b.max_term,
                           m.entry_values[k] >= 1, m.entry_values[k] <= b.values),
                    z3.And(m.entry_terms[k] == 0, m.entry_values[k] == 0))
              for k in range(b.max_log)]]
        if b.snapshots:
            # InstallSnapshot: its last entry (index ≥ 1 and its term), the values of 1..index
            by_kind[IS] += [m.last_index >= 1, m.last_term >= 1,
                            *[z3.If(k < m.last_index, z3.And(v >= 1, v <= b.values), v == 0)
                              for k, v in enumerate(m.values)]]
        used = z3.And(
            m.src >= 0, m.src < self.n, m.dst >= 0, m.dst < self.n,
            m.src != m.dst, m.term >= 1, m.term <= b.max_term,
            # (the index fields of every kind share one cell, and their terms another)
            m.prev_index >= 0, m.prev_index <= b.max_log,
            m.prev_term >= 0, m.prev_term <= b.max_term,
            m.leader_commit >= 0, m.leader_commit <= b.max_log,
            m.entry_count >= 0, m.entry_count <= b.max_log,
            z3.Or([z3.And(m.kind == k, *cs) for k, cs in by_kind.items()]),
        )
        unused = z3.And([c == 0 for c in m.ints] + [z3.Not(c) for c in m.bools] +
                        [t == 0 for t in m.entry_terms] + [v == 0 for v in m.entry_values])
        return z3.If(m.present, used, unused)

    def is_concrete(self, state: State) -> Expr:
        """This symbolic state is the spec state `state` (messages in sorted slots)."""
        return self.equals(encode(state, self.bounds))


def _unused_cells_zero(m: SymMsg, kind: int) -> list[Expr]:
    """The cells of slot m that no field of `kind` lives in, pinned to 0 (false): one encoding
    per message."""
    own = set(FIELDS[kind])
    out: list[Expr] = []
    if not own & {"entries", "values"}:
        out += [m.entry_count == 0, *[t == 0 for t in m.entry_terms],
                *[v == 0 for v in m.entry_values]]
    elif "entries" not in own:  # an InstallSnapshot's values use the entry values only
        out += [m.entry_count == 0, *[t == 0 for t in m.entry_terms]]
    out += [z3.Not(c) for names, c in zip(SymMsg.BOOLS, m.bools, strict=True)
            if not own & set(names)]
    out += [c == 0 for names, c in zip(SymMsg.INTS[4:7], m.ints[4:7], strict=True)
            if not own & set(names)]
    return out


def encode(state: State, bounds: Bounds) -> SymState:
    """A spec state as constant terms (the inverse of `decode`)."""
    from checker.invariants.view import from_spec  # local: view imports nothing of ours

    view = from_spec(state)
    if len(view.network) > bounds.max_messages:
        raise ValueError("more messages in flight than max_messages")
    L = bounds.max_log
    if ((any(view.snapshot_index) and not bounds.snapshots)
            or any(last > L for last in view.last_index)):
        raise ValueError("state outside the encoded bounds")
    s = SymState(bounds)
    iv = z3.IntVal
    for f in (*SERVER_ROWS, "snapshot_index"):
        setattr(s, f, [iv(x) for x in getattr(view, f)])
    # cells by absolute index: compacted terms 0, the snapshot's last term at its index
    s.term_cells = [[iv(t) for t in (*(0,) * max(r.snapshot_index - 1, 0),
                                     *((r.snapshot_term,) if r.snapshot_index else ()),
                                     *r.log_terms, *(0,) * (L - r.last_index))]
                    for r in view.recs]
    s.value_cells = [[iv(v) for v in (*(r.values or ()), *(0,) * (L - r.last_index))]
                     for r in view.recs]
    s.votes_granted = [[z3.BoolVal(x) for x in row] for row in view.votes_granted]
    s.votes_responded = [[z3.BoolVal(x) for x in row] for row in view.votes_responded]
    s.next_index = [[iv(x) for x in row] for row in view.next_index]
    s.match_index = [[iv(x) for x in row] for row in view.match_index]
    s.restarts = iv(state.restarts)
    msgs = [SymMsg.const(m, L) for m in view.network]
    s.network = msgs + [empty_msg(L) for _ in range(bounds.max_messages - len(msgs))]
    return s


def decode(model: z3.ModelRef, s: SymState) -> State:
    """The spec state a Z3 model assigns to `s`."""

    def num(x: Expr) -> int:
        return int(model.eval(x, model_completion=True).as_long())

    def flag(x: Expr) -> bool:
        return bool(z3.is_true(model.eval(x, model_completion=True)))

    ids = range(s.n)
    snapshot_index = [num(x) for x in s.snapshot_index]
    logs = tuple(
        tuple(Entry(num(s.term_cells[i][k]), num(s.value_cells[i][k]))
              for k in range(snapshot_index[i], num(s.last_index[i])))
        for i in ids
    )
    snapshots = tuple(
        Snapshot(k, num(s.term_cells[i][k - 1]), tuple(num(s.value_cells[i][x])
                                                       for x in range(k))) if k else Snapshot()
        for i, k in enumerate(snapshot_index))
    network = {_decode_message(m, num, flag) for m in s.network if flag(m.present)}
    return State(
        term=tuple(num(t) for t in s.term),
        role=tuple(Role(num(r)) for r in s.role),
        voted_for=tuple(None if num(v) == NONE else num(v) for v in s.voted_for),
        log=logs,
        snapshot=snapshots,
        commit_index=tuple(num(c) for c in s.commit_index),
        votes_responded=tuple(frozenset(j for j in ids if flag(s.votes_responded[i][j]))
                              for i in ids),
        votes_granted=tuple(frozenset(j for j in ids if flag(s.votes_granted[i][j]))
                            for i in ids),
        next_index=tuple(tuple(num(x) for x in row) for row in s.next_index),
        match_index=tuple(tuple(num(x) for x in row) for row in s.match_index),
        network=frozenset(network),
        restarts=num(s.restarts),
    )


_FLAGS = frozenset(f for names in SymMsg.BOOLS for f in names)


def _decode_message(m: SymMsg, num: Any, flag: Any) -> Message:
    """The spec message in slot m: its class by kind, its fields by name."""
    kind = num(m.kind)
    if not 0 <= kind < len(MESSAGE_CLASSES):  # pragma: no cover - excluded by the domain
        raise ValueError(f"message kind {kind} outside the encoding")
    args: list[object] = []
    for f in FIELDS[kind]:
        if f == "entries":
            args.append(tuple(Entry(num(m.entry_terms[k]), num(m.entry_values[k]))
                              for k in range(num(m.entry_count))))
        elif f == "values":
            args.append(tuple(num(m.values[k]) for k in range(num(m.last_index))))
        else:
            args.append(flag(getattr(m, f)) if f in _FLAGS else num(getattr(m, f)))
    message: Message = MESSAGE_CLASSES[kind](num(m.src), num(m.dst), num(m.term), *args)
    return message
