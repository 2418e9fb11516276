"""Parallel breadth-first search of a model: the seen-set and the frontier partitioned.

Partition k (of W) owns every state whose `Model.owner` (by default its fingerprint) is k mod
W: it stores their parent links and expands them. One BFS level is two phases, the shape of a map/shuffle/reduce:

1. *expand* (`expand_partition`): each partition computes the successors of its frontier,
   checks the transition invariants on each step, fingerprints the canonical successor, and buckets
   `(fingerprint, parent fingerprint, encoding)` by owning partition;
2. *merge* (`merge_partition`): each partition takes the buckets addressed to it, keeps the
   fingerprints it has not seen, decodes those states, checks the state invariants on them,
   and makes them its next frontier.

Here the partitions are OS processes exchanging buckets through queues, with a coordinator
that only counts and decides when to stop; the two phase functions are plain functions over
plain data, so an actor per partition on Ray, or a Dask bag shuffled by fingerprint, can run
the same search across machines. Levels are synchronous, so the first violation is still at
the least depth, and the counterexample is rebuilt (and replayed) exactly as in one process.
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from checker.modelcheck.common import Budget, ProgressCallback, finish
from checker.modelcheck.model import Encoding, Model, fingerprint
from checker.modelcheck.result import ModelCheckResult, Options, Progress
from checker.modelcheck.trace import Violation

Record = tuple[int, int | None, Encoding]  # (fingerprint, parent fingerprint, encoding)


@dataclass
class Partition:
    """What partition `index` of `count` holds between levels."""

    index: int
    count: int
    model: Model[Any]
    parent: dict[int, int | None] = field(default_factory=dict)
    frontier: list[tuple[int, Any]] = field(default_factory=list)
    # Fingerprints already shipped to their owner: shipping one again cannot add a state.
    shipped: set[int] = field(default_factory=set)
    # This level's successors that this partition owns itself, kept as states (not decoded).
    local: list[tuple[int, int, Any]] = field(default_factory=list)
    reached: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reached = dict.fromkeys(self.model.sometimes, False)


@dataclass
class LevelReport:
    generated: int = 0
    new: int = 0
    violation: Violation | None = None


def expand_partition(part: Partition, report: LevelReport) -> list[list[Record]]:
    """Phase 1: successors of the partition's frontier, bucketed by owning partition."""
    buckets: list[list[Record]] = [[] for _ in range(part.count)]
    model = part.model
    owner_of = model.owner
    for fp, state in part.frontier:
        step_check = model.step_check(state)
        for action, nxt in model.successors(state):
            report.generated += 1
            name = step_check(nxt)
            if name is not None:
                report.violation = report.violation or Violation(name, fp, action)
                continue
            enc = model.canonical(nxt)
            nfp = fingerprint(enc)
            owner = owner_of(enc, nfp) % part.count
            if owner == part.index:
                if nfp not in part.parent:
                    part.local.append((nfp, fp, enc if model.encoding_is_state else nxt))
            elif nfp not in part.shipped:
                part.shipped.add(nfp)
                buckets[owner].append((nfp, fp, enc))
    part.frontier = []
    return buckets


def merge_partition(part: Partition, incoming: list[Record], report: LevelReport) -> None:
    """Phase 2: keep the unseen records as the next frontier, checking state invariants.
    The partition's own successors come first, as states, so they need no decoding."""
    model = part.model
    for k, (nfp, parent_fp, item) in enumerate([*part.local, *incoming]):
        if nfp in part.parent:
            continue
        part.parent[nfp] = parent_fp
        state = item if k < len(part.local) else model.decode(item)
        part.frontier.append((nfp, state))
        report.new += 1
        model.note_reached(state, part.reached)
        name = model.violated_invariant(state)
        if name is not None and report.violation is None:
            report.violation = Violation(name, nfp, None)
    part.local = []


def _worker(
    index: int, count: int, model: Model[Any], control: Connection, inboxes: list[Any]
) -> None:
    # The model arrives by fork, not by pickling: each process has its own copy (and its
    # own memo, for a model that memoises).
    part = Partition(index, count, model)
    inbox = inboxes[index]
    while True:
        command, arg = control.recv()
        if command == "seed":
            report = LevelReport()
            merge_partition(part, arg, report)
            control.send((report, len(part.frontier), part.reached))
        elif command == "level":
            report = LevelReport()
            buckets = expand_partition(part, report)
            for k in range(count):
                if k != index:
                    inboxes[k].put(buckets[k])
            incoming: list[Record] = []
            for _ in range(count - 1):
                incoming.extend(inbox.get())
            merge_partition(part, incoming, report)
            control.send((report, len(part.frontier), part.reached))
        elif command == "parent":
            control.send(part.parent.get(arg))  # None also for a state it does not own
        else:
            return


def search_parallel(
    model: Model[Any], options: Options, progress: ProgressCallback | None = None
) -> ModelCheckResult:
    """The search of `search.search`, by `options.workers` processes (forked)."""
    count = options.workers
    budget = Budget(options)
    ctx = mp.get_context("fork")
    inboxes = [ctx.Queue() for _ in range(count)]
    pipes = [ctx.Pipe() for _ in range(count)]
    procs = [
        ctx.Process(
            target=_worker,
            args=(k, count, model, pipes[k][1], inboxes),
            daemon=True,
        )
        for k in range(count)
    ]
    for p in procs:
        p.start()
    controls = [a for a, _ in pipes]
    try:
        seeds: list[list[Record]] = [[] for _ in range(count)]
        generated = 0
        for state in model.initial_states():
            generated += 1
            enc = model.canonical(state)
            fp = fingerprint(enc)
            seeds[model.owner(enc, fp) % count].append((fp, None, enc))
        for k in range(count):
            controls[k].send(("seed", seeds[k]))
        distinct, queue, violation, reached = _gather(model, controls)
        depth = 1
        reason = ""
        while queue and violation is None:
            reason = budget.exceeded(distinct, depth) or ""
            if reason:
                break
            for c in controls:
                c.send(("level", None))
            new, queue, violation, reached, level_generated = _gather_level(model, controls)
            distinct += new
            generated += level_generated
            if queue:
                depth += 1
            if progress is not None:
                progress(Progress(generated, distinct, queue, depth, budget.elapsed()))

        def parent_of(fp: int) -> int | None:
            # The owner is not known from the fingerprint alone (see Model.owner): ask every
            # partition; only the owner has the state (this runs only to rebuild a path).
            for control in controls:
                control.send(("parent", fp))
            answers = [control.recv() for control in controls]
            return next((a for a in answers if a is not None), None)

        return finish(
            model,
            options,
            budget,
            parent_of,
            violation,
            reason,
            distinct=distinct,
            generated=generated,
            depth=depth,
            reached=reached,
        )
    finally:
        for c in controls:
            c.send(("stop", None))
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()


def _gather(
    model: Model[Any], controls: list[Connection]
) -> tuple[int, int, Violation | None, dict[str, bool]]:
    new, queue, violation, reached, _ = _gather_level(model, controls)
    return new, queue, violation, reached


def _gather_level(
    model: Model[Any], controls: list[Connection]
) -> tuple[int, int, Violation | None, dict[str, bool], int]:
    new = queue = generated = 0
    violation: Violation | None = None
    reached = dict.fromkeys(model.sometimes, False)
    for c in controls:
        report, frontier, part_reached = c.recv()
        new += report.new
        generated += report.generated
        queue += frontier
        violation = violation or report.violation
        for name, hit in part_reached.items():
            reached[name] = reached[name] or hit
    return new, queue, violation, reached, generated
