"""Ghost (history) variables for the Raft proof, kept on the proof side only.

Theory of operation
-------------------
Leader Completeness and State Machine Safety are not inductive over the spec's variables
alone: the spec forgets the votes a leader won by, the log a voter had when it voted, and that
an entry was ever committed (the argument of §5.4.3 is about those events). As in the Ivy,
mypyvy and raft.tla proofs, the proof adds history variables:

- `vote[j][T]`: the candidate j first granted its vote to in term T (NONE if none), and
  `voter_last_term[j][T]`, `voter_last_index[j][T]`: the last term and last index of j's log
  at that moment;
- `committed_in[k][t]`: the term of the leader that first committed the entry (index k, term t)
  (0 if never committed).

`update(ops, pre, g, post)` computes the ghost after a step from the step's pre-state, the
ghost before it and the spec's post-state — and the post-state is a function of the pre-state
and the action, so the ghost update is a deterministic function of (pre-state, action). The
instrumented transition relation is Next(s, s') ∧ g' = update(s, g, s'): its projection onto
the spec's variables is exactly Next (the ghost never constrains the spec's variables), so an
invariant of the instrumented system restricted to the spec's variables is an invariant of the
spec. The same `update` body, written once over `Ops`, runs on concrete spec states (to confirm
counterexamples) and builds the Z3 terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from checker.invariants.ops import Ops
from checker.invariants.symbolic import Bounds
from checker.invariants.view import LEADER, NONE, ConcreteView

Grid = list[list[Any]]


@dataclass
class Ghost:
    """Ghost variables: ints (concrete) or Z3 terms (symbolic). Term-indexed rows have
    max_term + 1 columns (column 0 unused); `committed_in` has one row per log index
    1..max_log."""

    vote: Grid
    voter_last_term: Grid
    voter_last_index: Grid
    committed_in: Grid

    @classmethod
    def fresh(cls, name: str, b: Bounds) -> Ghost:
        terms, ids, idx = range(b.max_term + 1), range(b.servers), range(b.max_log)
        def grid(field: str, rows: range, first: int = 0) -> Grid:
            return [[z3.Int(f"{name}.ghost.{field}[{r + first}][{t}]") for t in terms]
                    for r in rows]

        return cls(grid("vote", ids), grid("voter_last_term", ids),
                   grid("voter_last_index", ids), grid("committed_in", idx, 1))

    @classmethod
    def initial(cls, b: Bounds) -> Ghost:
        terms, ids = b.max_term + 1, range(b.servers)
        return cls([[NONE] * terms for _ in ids], [[0] * terms for _ in ids],
                   [[0] * terms for _ in ids], [[0] * terms for _ in range(b.max_log)])

    def grids(self) -> tuple[Grid, ...]:
        return (self.vote, self.voter_last_term, self.voter_last_index, self.committed_in)

    def cells(self) -> list[Any]:
        return [x for grid in self.grids() for row in grid for x in row]

    def equals(self, other: Ghost) -> z3.BoolRef:
        return z3.And([x == y for x, y in zip(self.cells(), other.cells(), strict=True)])

    def domain(self, b: Bounds) -> z3.BoolRef:
        cs: list[Any] = []
        for j in range(b.servers):
            for t in range(b.max_term + 1):
                vote = self.vote[j][t]
                lt, li = self.voter_last_term[j][t], self.voter_last_index[j][t]
                cs += [vote >= NONE, vote < b.servers, lt >= 0, lt <= b.max_term, li >= 0,
                       li <= b.max_log, z3.Implies(vote == NONE, z3.And(lt == 0, li == 0))]
                if t == 0:
                    cs.append(vote == NONE)
        for row in self.committed_in:
            cs += [row[0] == 0] + [z3.And(c >= 0, c <= b.max_term) for c in row]
        return z3.And(cs)

    def decode(self, model: z3.ModelRef) -> Ghost:
        def num(x: Any) -> int:
            return int(model.eval(x, model_completion=True).as_long())

        return Ghost(*[[[num(x) for x in row] for row in grid] for grid in self.grids()])

    def key(self) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(row) for grid in self.grids() for row in grid)


def update(o: Ops, pre: Any, g: Ghost, post: Any, b: Bounds) -> Ghost:
    """The ghost after the step pre → post (views over the same vocabulary)."""
    vote = [list(r) for r in g.vote]
    voter_last_term = [list(r) for r in g.voter_last_term]
    voter_last_index = [list(r) for r in g.voter_last_index]
    for j in range(b.servers):
        # A new vote: voted_for set, and not the vote it already had in that term (Timeout's
        # vote for itself, or a RequestVote granted — §5.2). The log is unchanged by both.
        newly = o.all([post.voted_for[j] != NONE,
                       o.not_(o.all([pre.voted_for[j] == post.voted_for[j],
                                     pre.term[j] == post.term[j]]))])
        for t in range(1, b.max_term + 1):
            here = o.all([newly, post.term[j] == t, g.vote[j][t] == NONE])
            vote[j][t] = o.ite(here, post.voted_for[j], g.vote[j][t])
            voter_last_term[j][t] = o.ite(here, pre.last_term(j), g.voter_last_term[j][t])
            voter_last_index[j][t] = o.ite(here, pre.last_index[j], g.voter_last_index[j][t])
    committed_in = [list(r) for r in g.committed_in]
    for k in range(1, b.max_log + 1):
        for t in range(1, b.max_term + 1):
            c = g.committed_in[k - 1][t]
            for i in range(b.servers):
                # A leader advancing its commit_index commits every entry up to it (§5.3).
                adv = o.all([pre.role[i] == LEADER, post.role[i] == LEADER,
                             pre.term[i] == post.term[i],
                             post.commit_index[i] > pre.commit_index[i],
                             k <= post.commit_index[i], pre.known(i, k), pre.term_at(i, k) == t])
                c = o.ite(o.all([adv, c == 0]), pre.term[i], c)
            committed_in[k - 1][t] = c
    return Ghost(vote, voter_last_term, voter_last_index, committed_in)


class GhostView(ConcreteView):
    """A concrete view that also carries the ghost variables."""

    __slots__ = ("bounds", "ghost")

    def __init__(self, view: ConcreteView, ghost: Ghost, bounds: Bounds) -> None:
        super().__init__(view.recs, view.network, view.restarts)
        self.ghost = ghost
        self.bounds = bounds


def pick(o: Ops, row: list[Any], idx: Any, default: int = 0) -> Any:
    """row[idx] for an index that may be symbolic (`default` outside the row)."""
    if not o.symbolic:
        return row[idx] if 0 <= idx < len(row) else default
    out: Any = z3.IntVal(default)
    for t, x in enumerate(row):
        out = z3.If(idx == t, x, out)
    return out
