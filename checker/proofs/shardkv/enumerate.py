"""The successors of a concrete state as the symbolic transition relation allows them: the
bridge by which tests compare `checker.proofs.shardkv.transition` with the spec."""

from __future__ import annotations

import z3

from checker.invariants.solver import frame
from checker.proofs.shardkv.symbolic import SymState, decode
from checker.proofs.shardkv.transition import next_relation
from spec.shardkv import Config, State


class SymbolicSuccessors:
    """Next(pre, post) built once for a configuration; `of(state)` pins pre to a state and
    enumerates every post-state Z3 allows (blocking each model found)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.pre = SymState(config, "pre")
        self.post = SymState(config, "post")
        relation, _ = next_relation(self.pre, self.post, config)
        self.solver = z3.Solver()
        self.solver.add(relation)

    def of(self, state: State, *, limit: int = 2000) -> set[State]:
        solver = self.solver
        with frame(solver):
            solver.add(self.pre.is_concrete(state))
            found: set[State] = set()
            for _ in range(limit):
                answer = solver.check()
                if answer == z3.unsat:
                    return found
                if answer != z3.sat:
                    raise RuntimeError(f"solver answered {answer} while enumerating successors")
                model = solver.model()
                found.add(decode(model, self.post))
                # Block this layout of the post-state (the same messages in other slots are
                # other models of the same spec state, blocked in turn).
                solver.add(z3.Not(z3.And([c == model.eval(c, model_completion=True)
                                          for c in self.post.cells()])))
            raise RuntimeError(f"more than {limit} successor encodings")
