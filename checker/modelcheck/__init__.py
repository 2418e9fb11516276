"""dscheck's explicit-state model checker: one breadth-first search, generic over a `Model`.

A model (`checker.modelcheck.models`: Raft, MapReduce, ...) carries its bounded configuration,
initial states, successors, properties, symmetry and presentation, configured once; `check`
explores every state it reaches, checks every invariant at every state and every transition
invariant at every step, and returns a `ModelCheckResult`: OK, VIOLATION with a shortest
counterexample replayed through the model's readable spec, or UNKNOWN when a bound of the
search (`Options`) cut it. It runs in this process, or on forked workers with the seen-set
partitioned (`Options(workers=N)`), with the same results.
"""

from __future__ import annotations

from typing import Any

from checker.modelcheck.common import ProgressCallback
from checker.modelcheck.model import Model
from checker.modelcheck.parallel import search_parallel
from checker.modelcheck.result import (
    Counterexample,
    ModelCheckResult,
    Options,
    Progress,
    Step,
)
from checker.modelcheck.search import search


def check(
    model: Model[Any], options: Options | None = None, progress: ProgressCallback | None = None
) -> ModelCheckResult:
    """Explore `model` within its bounds and `options`' search bounds (see module docstring)."""
    options = options or Options()
    run = search if options.workers == 1 else search_parallel
    return run(model, options, progress)


__all__ = [
    "Counterexample",
    "Model",
    "ModelCheckResult",
    "Options",
    "Progress",
    "Step",
    "check",
]
