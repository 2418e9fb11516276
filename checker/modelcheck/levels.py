"""The coordinator of a partitioned search: levels, bounds, checkpoints, progress, the end.

The forked engine (`parallel.py`) and the Ray engine (`ray_search.py`) differ only in where
the partitions (`partition.Partition`) live and how buckets travel between them; both are
`Partitions` here, and `drive` runs the same breadth-first search over either: seed (or load a
checkpoint), then level after level until the frontier is empty, a violation is found (the
level is finished first, so the figures do not depend on the order of work), or a bound cuts
it. The coordinator holds no states: only counters, and the partitions' statuses.

`depth` follows the serial search (`search.py`): the number of levels whose states were all
stored, the initial states being level 1; on a violation, the level that was being expanded.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from checker.modelcheck import checkpoint
from checker.modelcheck.common import Budget, ProgressCallback, finish
from checker.modelcheck.model import Model
from checker.modelcheck.partition import LevelReport, Record
from checker.modelcheck.result import ModelCheckResult, NodeProgress, Options, Progress

LevelTick = Callable[[int, int], None]  # (generated, new) so far in this level


@dataclass
class PartStatus:
    """A partition's figures at the end of a level (or of a seed, a load)."""

    report: LevelReport
    distinct: int
    queue: int
    reached: dict[str, bool]
    node: str = ""
    memory: int = 0
    extra: dict[str, float] = field(default_factory=dict)
    cpu: float = 0.0  # CPU seconds of the partition's process so far


class Partitions(Protocol):
    """Where the partitions live (forked processes, Ray actors)."""

    count: int
    fingerprint: Callable[[Any], int]

    def seed(self, buckets: list[list[Record]]) -> list[PartStatus]: ...

    def load(self, parts: list[checkpoint.SavedPart]) -> list[PartStatus]: ...

    def level(self, budget: Budget, tick: LevelTick) -> tuple[list[PartStatus], str]:
        """Expand the frontier and merge the next level; stop early (returning the reason)
        only if a bound cuts it between batches."""
        ...

    def parent_of(self, fp: int) -> int | None: ...

    def dump(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


def drive(
    model: Model[Any],
    options: Options,
    progress: ProgressCallback | None,
    partitions: Partitions,
    budget: Budget,
) -> ModelCheckResult:
    """The search (see the module docstring) over `partitions`."""
    count = partitions.count
    resumed_at: int | None = None
    if options.resume is not None:
        saved = checkpoint.read(options.resume, model, count)
        statuses = partitions.load(saved.parts)
        depth, generated, resumed_at = saved.depth, saved.generated, saved.depth
        reached = dict(saved.reached)
    else:
        buckets: list[list[Record]] = [[] for _ in range(count)]
        generated = 0
        for state in model.initial_states():
            generated += 1
            enc = model.canonical(state)
            fp = partitions.fingerprint(enc)
            buckets[model.owner(enc, fp) % count].append((fp, None, enc))
        statuses = partitions.seed(buckets)
        depth = 1
        reached = dict.fromkeys(model.sometimes, False)
    violation = _merge_reached(statuses, reached)
    distinct, queue = _totals(statuses)
    nodes = _nodes(statuses) if options.per_node else ()
    last_checkpoint = time.monotonic()
    reason = ""

    def write_checkpoint() -> None:
        assert options.checkpoint is not None
        checkpoint.write(
            options.checkpoint, model, depth=depth, generated=generated, distinct=distinct,
            reached=reached, seconds=budget.elapsed(), parts=partitions.dump(),
        )

    while queue and violation is None:
        if options.checkpoint is not None and (
            time.monotonic() - last_checkpoint >= options.checkpoint_every
            or options.checkpoint_every == 0
        ):
            write_checkpoint()
            last_checkpoint = time.monotonic()
        reason = budget.exceeded(distinct, depth) or ""
        if reason:
            break
        tick = _ticker(progress, budget, generated, distinct, queue, depth, nodes)
        statuses, reason = partitions.level(budget, tick)
        generated += sum(s.report.generated for s in statuses)
        violation = _merge_reached(statuses, reached)
        distinct, queue = _totals(statuses)
        nodes = _nodes(statuses) if options.per_node else ()
        if reason:
            break
        # A level that found states adds one to the depth. Not `report.new`: a level resumed
        # from a checkpoint cut inside it may find all its states before the cut.
        if queue and violation is None:
            depth += 1
        if progress is not None:
            progress(Progress(generated, distinct, queue, depth, budget.elapsed(), nodes))

    if reason and violation is None and options.checkpoint is not None:
        write_checkpoint()  # a cut search resumes from where it stopped
    result = finish(
        model, options, budget, partitions.parent_of, violation, reason,
        distinct=distinct, generated=generated, depth=depth, reached=reached,
        fingerprint=partitions.fingerprint,
    )
    result_nodes = _nodes(statuses) if count > 1 or options.per_node else ()
    return result.with_run(resumed_at=resumed_at, nodes=result_nodes)


def _ticker(
    progress: ProgressCallback | None,
    budget: Budget,
    generated: int,
    distinct: int,
    queue: int,
    depth: int,
    nodes: tuple[NodeProgress, ...],
) -> LevelTick:
    """Progress within a level: the level's figures so far on top of the previous ones."""

    def tick(level_generated: int, level_new: int) -> None:
        if progress is not None:
            progress(Progress(generated + level_generated, distinct + level_new, queue, depth,
                              budget.elapsed(), nodes))

    return tick


def _merge_reached(statuses: list[PartStatus], reached: dict[str, bool]) -> Any:
    violation = None
    for s in statuses:
        violation = violation or s.report.violation
        for name, hit in s.reached.items():
            reached[name] = reached[name] or hit
    return violation


def _totals(statuses: list[PartStatus]) -> tuple[int, int]:
    return sum(s.distinct for s in statuses), sum(s.queue for s in statuses)


def _nodes(statuses: list[PartStatus]) -> tuple[NodeProgress, ...]:
    by_node: dict[str, list[PartStatus]] = defaultdict(list)
    for s in statuses:
        by_node[s.node].append(s)
    return tuple(
        NodeProgress(
            node=node,
            partitions=len(parts),
            distinct=sum(p.distinct for p in parts),
            queue=sum(p.queue for p in parts),
            memory=sum(p.memory for p in parts),
            cpu=sum(p.cpu for p in parts),
        )
        for node, parts in sorted(by_node.items())
    )
