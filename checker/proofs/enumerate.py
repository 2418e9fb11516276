"""The successors of a concrete state as the symbolic transition relation allows them: the
bridge by which tests compare `checker.proofs.transition` with the spec's `successors`."""

from __future__ import annotations

import z3

from checker.invariants.solver import every_model
from checker.invariants.symbolic import Bounds, SymState, decode
from checker.proofs.transition import next_relation
from spec.raft_types import Config, State


class SymbolicSuccessors:
    """Next(pre, post) built once for a configuration; `of(state)` pins pre to a state and
    enumerates every post-state Z3 allows (blocking each model found)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.bounds = Bounds.of(config)
        self.pre = SymState(self.bounds, "pre")
        self.post = SymState(self.bounds, "post")
        relation, _ = next_relation(self.pre, self.post, config)
        self.solver = z3.Solver()
        self.solver.add(relation)

    def of(self, state: State, *, limit: int = 1000) -> set[State]:
        post = self.post
        return every_model(self.solver, self.pre.is_concrete(state), post.cells(),
                           lambda model: decode(model, post), limit=limit)


def symbolic_successors(state: State, config: Config) -> set[State]:
    return SymbolicSuccessors(config).of(state)
