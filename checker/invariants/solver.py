"""One solver frame: assertions that last for a `with` block, then are gone.

`with frame(solver): solver.add(goal); solver.check()` pushes a backtracking point on entry
and pops it on exit, whatever happens inside (a return from the middle, an exception, a
worker interrupted). A push without its pop would leave the goal asserted for every later
check on the same solver — a solver kept across checks to reuse its learned lemmas, as the
proofs do — and every later answer would be about the wrong formula.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import z3


@contextlib.contextmanager
def frame(solver: z3.Solver) -> Iterator[z3.Solver]:
    solver.push()
    try:
        yield solver
    finally:
        solver.pop()
