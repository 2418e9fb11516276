"""The solver frame: what is asserted inside a `with frame(...)` block is gone after it, also
when the block ends with an exception or a return."""

from __future__ import annotations

import pytest
import z3

from checker.invariants.solver import frame


def test_a_frame_retracts_its_assertions_however_it_ends() -> None:
    x = z3.Int("x")
    solver = z3.Solver()
    solver.add(x > 0)
    with frame(solver) as inner:
        assert inner is solver
        solver.add(x < 0)
        assert solver.check() == z3.unsat
    assert solver.check() == z3.sat and solver.num_scopes() == 0

    with pytest.raises(RuntimeError), frame(solver):
        solver.add(x < 0)
        raise RuntimeError("interrupted inside the frame")
    assert solver.check() == z3.sat and solver.num_scopes() == 0

    def first_answer() -> z3.CheckSatResult:
        with frame(solver):
            solver.add(x == 0)
            return solver.check()

    assert first_answer() == z3.unsat
    assert solver.check() == z3.sat and solver.num_scopes() == 0
