"""Is a rebalancing step minimal? Z3 answers exactly, over every assignment of the shards.

Theory of operation
-------------------
For a step from the assignment `before` (shard -> gid) to the groups `gids` now present, the
unknowns are one integer per shard, its new gid, ranging over `gids` (or the single value 0
when no group is present). An assignment is balanced when any two present groups' counts
differ by at most one (the definition, pair by pair); its cost is the number of shards whose
gid differs from `before`'s. The question put to Z3 is

    is there a balanced assignment whose cost is below k?

With k the cost of the assignment judged, "unsat" is the proof that it is minimal, and "sat"
comes with an assignment that does better (re-verified in Python before it is reported). The
proven minimum is found by asking again with k lowered to each better model's cost until the
answer is unsat: the last k is the least cost, and a balanced assignment of that cost was seen.
Z3's "unknown" (or a time-out) gives UNKNOWN, never "minimal".

Nothing here uses `spec.shardctrler`'s closed form `min_moves`: the tests compare the two, and
both with a brute force over every assignment on small cases.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import z3

from checker.invariants.solver import frame
from checker.verdict import Verdict


@dataclass(frozen=True)
class Minimality:
    """The verdict on one step: OK (balanced and minimal), VIOLATION (unbalanced, or a balanced
    assignment moving fewer shards exists: `better`), UNKNOWN (the solver could not say)."""

    verdict: Verdict
    moved: int
    minimum: int | None  # proven least cost of a balanced assignment (None: not known)
    balanced: bool
    reason: str
    better: tuple[int, ...] | None = None  # a balanced assignment moving the fewest shards
    seconds: float = 0.0


def is_balanced(assignment: Sequence[int], gids: Sequence[int]) -> bool:
    """Every shard on a present group (all on 0 when none is), counts within one of each other."""
    present = set(gids)
    if not present:
        return all(g == 0 for g in assignment)
    if any(g not in present for g in assignment):
        return False
    counts = [sum(1 for g in assignment if g == gid) for gid in present]
    return max(counts) - min(counts) <= 1


def cost(before: Sequence[int], after: Sequence[int]) -> int:
    return sum(1 for a, b in zip(before, after, strict=True) if a != b)


class Query:
    """"Is there a balanced assignment over `gids` moving fewer than k shards from `before`?",
    built once per step and asked for several k."""

    def __init__(self, before: Sequence[int], gids: Sequence[int], timeout_ms: int) -> None:
        self.before = tuple(before)
        self.gids = tuple(sorted(set(gids)))
        n = len(before)
        domain = self.gids or (0,)
        self.x = [z3.Int(f"shard{s}") for s in range(n)]
        self.counts = [z3.Int(f"count{g}") for g in self.gids]
        self.kept = [z3.Int(f"kept{g}") for g in self.gids]
        self.cost = z3.Sum([z3.If(x == b, 0, 1) for x, b in zip(self.x, self.before,
                                                                  strict=True)])
        self.definition: list[z3.BoolRef] = [z3.Or([x == g for g in domain]) for x in self.x]
        for g, count, kept in zip(self.gids, self.counts, self.kept, strict=True):
            mine = [x for x, b in zip(self.x, self.before, strict=True) if b == g]
            self.definition += [count == _count(self.x, g), kept == _count(mine, g)]
        self.definition += [a - b <= 1 for a in self.counts for b in self.counts if a is not b]
        # Two consequences of the definition, stated so that the arithmetic core has the
        # counting argument at hand (without them some refutations time out, measured): each
        # shard is on exactly one group, and a group keeps no more shards than it gets. Being
        # implied, they change no answer (tests/shardctrler proves them implied).
        self.implied: list[z3.BoolRef] = [z3.Sum(self.counts) == n] if self.gids else []
        self.implied += [z3.And(kept >= 0, kept <= count)
                         for count, kept in zip(self.counts, self.kept, strict=True)]
        # The plain SMT core, not z3.Solver()'s default preprocessing, which turns the 0/1
        # sums into pseudo-Boolean constraints for a SAT engine that can stall on them; same
        # formulas, same answers.
        self.solver = z3.Tactic("smt").solver()
        self.solver.set("timeout", timeout_ms)
        self.solver.add(self.definition + self.implied)

    def fewer_than(self, k: int) -> tuple[z3.CheckSatResult, tuple[int, ...] | None]:
        with frame(self.solver):
            self.solver.add(self.cost < k)
            answer = self.solver.check()
            if answer != z3.sat:
                return answer, None
            model = self.solver.model()
            return answer, tuple(model.eval(x, model_completion=True).as_long() for x in self.x)


def judge(before: Sequence[int], after: Sequence[int], gids: Sequence[int], *,
          timeout_ms: int = 10_000) -> Minimality:
    """Is `after` a balanced assignment over `gids` moving the fewest shards from `before`?"""
    start = time.perf_counter()
    moved = cost(before, after)
    balanced = is_balanced(after, gids)
    query = Query(before, gids, timeout_ms)
    bound = moved if balanced else len(before) + 1  # any balanced assignment costs ≤ n
    better: tuple[int, ...] | None = None
    while True:
        answer, found = query.fewer_than(bound)
        if answer == z3.unsat:
            break
        if found is None or not (is_balanced(found, gids) and cost(before, found) < bound):
            why = ("the solver did not answer" if found is None
                   else "the solver's assignment does not check")
            return Minimality(Verdict.UNKNOWN, moved, None, balanced, why,
                              seconds=time.perf_counter() - start)
        if balanced:
            better = found  # beats the one judged; the last one found is a least-cost one
        bound = cost(before, found)
    seconds = time.perf_counter() - start
    if not balanced:
        return Minimality(Verdict.VIOLATION, moved, bound, False, "not balanced",
                          seconds=seconds)
    if better is not None:
        return Minimality(Verdict.VIOLATION, moved, bound, True,
                          f"not minimal: {bound} shard(s) suffice", better, seconds)
    return Minimality(Verdict.OK, moved, bound, True, "minimal", seconds=seconds)


def _count(xs: Sequence[z3.ArithRef], gid: int) -> z3.ArithRef:
    return z3.Sum([z3.If(x == gid, 1, 0) for x in xs]) if xs else z3.IntVal(0)
