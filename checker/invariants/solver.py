"""One solver frame: assertions that last for a `with` block, then are gone.

`with frame(solver): solver.add(goal); solver.check()` pushes a backtracking point on entry
and pops it on exit, whatever happens inside (a return from the middle, an exception, a
worker interrupted). A push without its pop would leave the goal asserted for every later
check on the same solver — a solver kept across checks to reuse its learned lemmas, as the
proofs do — and every later answer would be about the wrong formula.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import z3

T = TypeVar("T")


@contextlib.contextmanager
def frame(solver: z3.Solver) -> Iterator[z3.Solver]:
    solver.push()
    try:
        yield solver
    finally:
        solver.pop()


def every_model(
    solver: z3.Solver,
    constraint: Any,
    cells: Sequence[Any],
    decode: Callable[[z3.ModelRef], T],
    *,
    limit: int,
) -> set[T]:
    """Every value of `decode(model)` over the models of `constraint` (in a frame of
    `solver`), each model blocked by its values of `cells` once found. RuntimeError when the
    solver answers unknown or more than `limit` models exist: an enumeration is either whole
    or an error, never a silent sample."""
    with frame(solver):
        solver.add(constraint)
        found: set[T] = set()
        for _ in range(limit):
            answer = solver.check()
            if answer == z3.unsat:
                return found
            if answer != z3.sat:
                raise RuntimeError(f"solver answered {answer} while enumerating models")
            model = solver.model()
            found.add(decode(model))
            # Block this assignment of the cells (other assignments that decode to the same
            # value, e.g. the same messages in other slots, are blocked in turn).
            solver.add(z3.Not(z3.And([c == model.eval(c, model_completion=True) for c in cells])))
        raise RuntimeError(f"more than {limit} models")
