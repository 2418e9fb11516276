"""Breadth-first explicit-state search of a model, in one process.

Level by level: every state of level d is expanded before any of level d+1, and invariants are
checked when a state is first stored, so the first violation found is at the least depth and
its path of parents is a shortest counterexample. The seen-set maps each state's fingerprint
(of its canonical encoding, see `Model.canonical`) to its parent's fingerprint; the path is
rebuilt from it afterwards by replaying the model (`trace.rebuild`), so states need not be
kept.

With `Options.checkpoint` it writes its seen-set and frontier at level boundaries (and where
a bound cut it), and with `Options.resume` it continues from such a checkpoint
(`checkpoint.py`); both need fingerprints that outlive the process (`plain`).

The partitioned searches (`parallel.py` on forked processes, `ray_search.py` on Ray) run the
same level step over partitions of fingerprints; `checker.modelcheck.check` picks one.
"""

from __future__ import annotations

import time
from typing import Any

from checker.modelcheck import checkpoint
from checker.modelcheck.common import Budget, ProgressCallback, cyclic_gc_paused, finish
from checker.modelcheck.model import Model
from checker.modelcheck.plain import fingerprint_function
from checker.modelcheck.result import ModelCheckResult, Options, Progress
from checker.modelcheck.trace import Violation

NO_PARENT = None


def search(
    model: Model[Any], options: Options, progress: ProgressCallback | None = None
) -> ModelCheckResult:
    """Explore every state of `model` reachable within its bounds; see module docstring."""
    with cyclic_gc_paused():
        return _search(model, options, progress)


def _search(
    model: Model[Any], options: Options, progress: ProgressCallback | None
) -> ModelCheckResult:
    budget = Budget(options)
    canonical, successors = model.canonical, model.successors
    fingerprint = fingerprint_function(model, options.stable_fingerprints)
    expand_encoding = model.encoding_is_state
    parent: dict[int, int | None] = {}
    reached = dict.fromkeys(model.sometimes, False)
    frontier: list[tuple[int, Any]] = []
    next_frontier: list[tuple[int, Any]] = []
    generated = 0
    violation: Violation | None = None
    resumed_at: int | None = None
    depth = 1

    if options.resume is not None:
        saved = checkpoint.read(options.resume, model, 1)
        (part,) = saved.parts
        parent = checkpoint.parents_dict(part)
        decode = model.decode
        frontier = [(fp, decode(enc)) for fp, enc in part.frontier]
        next_frontier = [(fp, decode(enc)) for fp, enc in part.next]
        generated, depth, resumed_at = saved.generated, saved.depth, saved.depth
        reached = dict(saved.reached)
    else:
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

    def write_checkpoint(rest: list[tuple[int, Any]]) -> None:
        assert options.checkpoint is not None
        encode = (lambda s: s) if expand_encoding else canonical
        part = checkpoint.SavedPart(
            *checkpoint.seen_arrays(parent),
            [(fp, encode(s)) for fp, s in rest],
            [(fp, encode(s)) for fp, s in next_frontier],
        )
        checkpoint.write(
            options.checkpoint, model, depth=depth, generated=generated, distinct=len(parent),
            reached=reached, seconds=budget.elapsed(), parts=[checkpoint.dump_part(part)],
        )

    last_report = 0.0
    last_checkpoint = time.monotonic()
    reason = ""
    while (frontier or next_frontier) and violation is None:
        if options.checkpoint is not None and (
            options.checkpoint_every == 0
            or time.monotonic() - last_checkpoint >= options.checkpoint_every
        ):
            write_checkpoint(frontier)
            last_checkpoint = time.monotonic()
        reason = budget.exceeded(len(parent), depth) or ""
        if reason:
            break
        expanded = 0
        for fp, state in frontier:
            step_check = model.step_check(state)
            for action, nxt in successors(state):
                generated += 1
                name = step_check(nxt)
                if name is not None:
                    violation = Violation(name, fp, action)
                    break
                if expand_encoding:
                    # A successor that is itself a stored canonical state (61% of them in
                    # the raft.tla comparison) is known by its own fingerprint: no
                    # canonical form is computed for it.
                    nfp = fingerprint(nxt)
                    if nfp in parent:
                        continue
                    encoding = canonical(nxt)
                    if encoding is not nxt:
                        nfp = fingerprint(encoding)
                        if nfp in parent:
                            continue
                        nxt = encoding
                else:
                    nfp = fingerprint(canonical(nxt))
                    if nfp in parent:
                        continue
                parent[nfp] = fp
                next_frontier.append((nfp, nxt))
                model.note_reached(nxt, reached)
                name = model.violated_invariant(nxt)
                if name is not None:
                    violation = Violation(name, nfp, None)
                    break
            if violation is not None:
                break
            expanded += 1
            # The clock is read every 64 states: reading it at every one cost 0.5% of the
            # instructions of a small raft.tla search (callgrind, 57,021 states).
            if not expanded & 63 and budget.elapsed() - last_report >= 0.5:
                last_report = budget.elapsed()
                if progress is not None:
                    progress(
                        Progress(generated, len(parent), len(next_frontier), depth, last_report)
                    )
                reason = budget.exceeded(len(parent), 0) or ""
                if reason:
                    break
        if reason:
            frontier = frontier[expanded:]
            break
        if next_frontier and violation is None:
            depth += 1
        frontier, next_frontier = next_frontier, []

    if reason and violation is None and options.checkpoint is not None:
        write_checkpoint(frontier)  # a cut search resumes from where it stopped
    result = finish(
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
        fingerprint=fingerprint,
    )
    return result.with_run(resumed_at=resumed_at, nodes=())
