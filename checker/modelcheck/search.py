"""Breadth-first explicit-state search of the Raft spec, in one process.

Level by level: every state of level d is expanded before any of level d+1, and invariants are
checked when a state is first stored, so the first violation found is at the least depth and
its path of parents is a shortest counterexample. The seen-set maps each state's fingerprint
(of its canonical encoding, see `encoding`) to its parent's fingerprint; the path is rebuilt
from it afterwards by replaying the spec (`trace.rebuild`), so states need not be kept.

The parallel search (`parallel.py`) runs the same level step over partitions of fingerprints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from checker.modelcheck.encoding import fingerprint
from checker.modelcheck.model import Model, model_named
from checker.modelcheck.result import ModelCheckResult, Options, Progress
from checker.modelcheck.trace import Violation, rebuild
from checker.verdict import Verdict
from spec.raft import SOMETIMES, Config

ProgressCallback = Callable[[Progress], None]

NO_PARENT = None


def model_for(options: Options) -> Model:
    return model_named(options.model, options.engine)


class Budget:
    """The search's bounds: which one, if any, cuts the search now."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def exceeded(self, distinct: int, depth: int) -> str | None:
        o = self.options
        if o.max_states is not None and distinct >= o.max_states:
            return f"state bound reached ({o.max_states:,} distinct states)"
        if o.time_limit is not None and self.elapsed() >= o.time_limit:
            return f"time limit reached ({o.time_limit:g} s)"
        if o.max_depth is not None and depth >= o.max_depth:
            return f"depth bound reached ({o.max_depth} levels)"
        return None


def check(
    config: Config, options: Options | None = None, progress: ProgressCallback | None = None
) -> ModelCheckResult:
    """Explore every state reachable within `config`'s bounds; see module docstring."""
    options = options or Options()
    if options.workers > 1:
        from checker.modelcheck.parallel import check_parallel

        result: ModelCheckResult = check_parallel(config, options, progress)
        return result
    budget = Budget(options)
    symmetry = options.symmetry
    model = model_for(options)
    canonical, successors = model.canonical, model.successors
    expand_encoding = model.encoding_is_state
    parent: dict[int, int | None] = {}
    reached = dict.fromkeys(SOMETIMES, False)
    frontier: list[tuple[int, Any]] = []
    generated = 0
    violation: Violation | None = None

    for state in model.initial_states(config):
        generated += 1
        fp = fingerprint(canonical(state, symmetry))
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
            for action, nxt in successors(state, config):
                generated += 1
                name = step_check(nxt)
                if name is not None:
                    violation = Violation(name, fp, action)
                    break
                encoding = canonical(nxt, symmetry)
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
        config,
        options,
        budget,
        parent.get,
        violation,
        reason,
        len(parent),
        generated,
        depth,
        reached,
    )


def finish(
    config: Config,
    options: Options,
    budget: Budget,
    parent_of: Callable[[int], int | None],
    violation: Violation | None,
    reason: str,
    distinct: int,
    generated: int,
    depth: int,
    reached: dict[str, bool],
) -> ModelCheckResult:
    """Turn the search's end into a result: rebuild and replay the counterexample if any."""
    seconds = budget.elapsed()
    if violation is not None:
        path = [violation.fingerprint]
        while (up := parent_of(path[-1])) is not None:
            path.append(up)
        path.reverse()
        model = model_for(options)
        trace = rebuild(config, model.replay or model, options.symmetry, path, violation)
        return ModelCheckResult(
            Verdict.VIOLATION,
            config,
            options,
            distinct,
            generated,
            depth,
            seconds,
            f"{violation.invariant} violated",
            trace,
            reached,
        )
    verdict = Verdict.UNKNOWN if reason else Verdict.OK
    return ModelCheckResult(
        verdict,
        config,
        options,
        distinct,
        generated,
        depth,
        seconds,
        reason or "every reachable state explored",
        None,
        reached,
    )
