"""dscheck's explicit-state model checker: one breadth-first search, generic over a `Model`.

A model (`checker.modelcheck.models`: Raft, MapReduce, ...) carries its bounded configuration,
initial states, successors, properties, symmetry and presentation, configured once; `check`
explores every state it reaches, checks every invariant at every state and every transition
invariant at every step, and returns a `ModelCheckResult`: OK, VIOLATION with a shortest
counterexample replayed through the model's readable spec, or UNKNOWN when a bound of the
search (`Options`) cut it. It runs in this process, on forked workers with the seen-set
partitioned (`Options(workers=N)`), or on Ray actors, on this machine or a cluster
(`Options(engine="ray", address=...)`), with the same results; any of them can write
checkpoints and resume from one (`Options(checkpoint=..., resume=...)`).
"""

from __future__ import annotations

from typing import Any

from checker.modelcheck.common import ProgressCallback
from checker.modelcheck.model import Model
from checker.modelcheck.parallel import search_parallel
from checker.modelcheck.result import (
    Counterexample,
    ModelCheckResult,
    NodeProgress,
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
    if options.engine == "ray":
        from checker.modelcheck.ray_search import search_ray  # Ray is an optional extra

        return search_ray(model, options, progress)
    run = search if options.workers == 1 else search_parallel
    return run(model, options, progress)


__all__ = [
    "Counterexample",
    "Model",
    "ModelCheckResult",
    "NodeProgress",
    "Options",
    "Progress",
    "Step",
    "check",
]
