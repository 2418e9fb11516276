"""Breadth-first explicit-state search of a model, in one process.

Level by level: every state of level d is expanded before any of level d+1, and invariants are
checked when a state is first stored, so the first violation found is at the least depth and
its path of parents is a shortest counterexample. The seen-set maps each state's fingerprint
(of its canonical encoding, see `Model.canonical`) to its parent's fingerprint; the path is
rebuilt from it afterwards by replaying the model (`trace.rebuild`), so states need not be
kept.

The parallel search (`parallel.py`) runs the same level step over partitions of fingerprints;
`checker.modelcheck.check` picks one of the two.
"""

from __future__ import annotations

from typing import Any

from checker.modelcheck.common import Budget, ProgressCallback, finish
from checker.modelcheck.model import Model, fingerprint
from checker.modelcheck.result import ModelCheckResult, Options, Progress
from checker.modelcheck.trace import Violation

NO_PARENT = None


def search(
    model: Model[Any], options: Options, progress: ProgressCallback | None = None
) -> ModelCheckResult:
    """Explore every state of `model` reachable within its bounds; see module docstring."""
    budget = Budget(options)
    canonical, successors = model.canonical, model.successors
    expand_encoding = model.encoding_is_state
    parent: dict[int, int | None] = {}
    reached = dict.fromkeys(model.sometimes, False)
    frontier: list[tuple[int, Any]] = []
    generated = 0
    violation: Violation | None = None

    for state in model.initial_states():
        generated += 1
        fp = fingerprint(canonical(state))
        if fp in parent:
            continue
        parent[fp] = NO_PARENT
        frontier.append((fp, state))
        model.note_reached(state, reached)
        name = model.violated_invariant(state)
        if name is not None and violation is None:
            violation = Violation(name, fp, None)

    depth = 1
    last_report = 0.0
    reason = ""
    while frontier and violation is None:
        reason = budget.exceeded(len(parent), depth) or ""
        if reason:
            break
        next_frontier: list[tuple[int, Any]] = []
        for fp, state in frontier:
            step_check = model.step_check(state)
            for action, nxt in successors(state):
                generated += 1
                name = step_check(nxt)
                if name is not None:
                    violation = Violation(name, fp, action)
                    break
                encoding = canonical(nxt)
                nfp = fingerprint(encoding)
                if nfp in parent:
                    continue
                parent[nfp] = fp
                if expand_encoding:
                    nxt = encoding
                next_frontier.append((nfp, nxt))
                model.note_reached(nxt, reached)
                name = model.violated_invariant(nxt)
                if name is not None:
                    violation = Violation(name, nfp, None)
                    break
            if violation is not None:
                break
            if budget.elapsed() - last_report >= 0.5:
                last_report = budget.elapsed()
                if progress is not None:
                    progress(
                        Progress(generated, len(parent), len(next_frontier), depth, last_report)
                    )
                reason = budget.exceeded(len(parent), 0) or ""
                if reason:
                    break
        if reason:
            break
        if next_frontier and violation is None:
            depth += 1
        frontier = next_frontier

    return finish(
        model,
        options,
        budget,
        parent.get,
        violation,
        reason,
        distinct=len(parent),
        generated=generated,
        depth=depth,
        reached=reached,
    )
