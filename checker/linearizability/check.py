"""`check(history, model)`: split the history into independent parts and search each.

Parts are independent (P-compositionality: a history is linearizable iff each part is,
Herlihy & Wing 1990, locality), so a violation in any part is a violation of the whole, and
parts can be searched on several cores. A time limit turns every part not finished into
UNKNOWN: a search that did not finish never says OK.
"""

from __future__ import annotations

import inspect
import multiprocessing
import os
import resource
import time
from collections.abc import Callable, Generator, Hashable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

from checker.linearizability.confirm import confirm_violation
from checker.linearizability.history import Operation
from checker.linearizability.result import LinResult, PartitionResult
from checker.linearizability.search import search, searching
from checker.verdict import Verdict
from spec.errors import BadInput
from spec.sequential import Model

_STOPPED = "stopped: another part is not linearizable"


def partitions(
    history: Sequence[Operation], model: Model
) -> list[tuple[Hashable, list[Operation]]]:
    """The independent parts, sorted by key (one part, key None, for unpartitioned models).

    A model that names every key a call touches (`keys`) is split into the groups of keys
    that calls connect (a transaction over keys a and b joins their parts); such a part's
    key is the tuple of its keys."""
    if model.keys is not None:
        return _connected_parts(history, model.keys)
    if model.partition is None:
        return [(None, list(history))]
    parts: dict[Hashable, list[Operation]] = {}
    for op in history:
        parts.setdefault(model.partition(op.input), []).append(op)
    return sorted(parts.items(), key=lambda item: repr(item[0]))


def _connected_parts(
    history: Sequence[Operation], keys_of: Callable[[Any], Any]
) -> list[tuple[Hashable, list[Operation]]]:
    parent: dict[Hashable, Hashable] = {}

    def root(k: Hashable) -> Hashable:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    touched: list[list[Hashable]] = []
    for op in history:
        keys = list(keys_of(op.input))
        for k in keys:
            parent.setdefault(k, k)
        for k in keys[1:]:
            a, b = root(keys[0]), root(k)
            if a != b:
                parent[b] = a
        touched.append(keys)
    groups: dict[Hashable, list[Operation]] = {}
    members: dict[Hashable, set[Hashable]] = {}
    loose: list[Operation] = []  # calls that touch no key (an empty transaction)
    for op, keys in zip(history, touched, strict=True):
        if not keys:
            loose.append(op)
            continue
        r = root(keys[0])
        groups.setdefault(r, []).append(op)
        members.setdefault(r, set()).update(keys)
    parts: list[tuple[Hashable, list[Operation]]] = [
        (tuple(sorted(members[r], key=repr)), ops) for r, ops in groups.items()
    ]
    if loose:
        parts.append(((), loose))
    return sorted(parts, key=lambda item: repr(item[0]))


def check(
    history: Sequence[Operation],
    model: Model,
    *,
    timeout: float | None = None,
    workers: int = 1,
    partitioned: bool = True,
    progress: Callable[[int, int], None] | None = None,
    all_parts: bool = False,
    max_memory: int | None = None,
) -> LinResult:
    """Is `history` linearizable with respect to `model`? Never OK unless proven.

    `timeout` is in seconds of wall time for the whole check (None: no limit); on expiry the
    verdict is UNKNOWN (unless some part already showed a violation, which stands).
    `workers` > 1 searches parts in that many forked processes (worth it for large
    histories only: a process costs tens of milliseconds to start).
    `partitioned=False` checks the history as one whole (for comparisons and benchmarks).
    `progress(parts finished, parts)` is called between slices of search (for a progress bar).
    `all_parts`: search every part to the end even after one shows a violation, so that every
    failing part is reported with its evidence (by default, as Porcupine does, the first
    violation ends the check and the parts not finished are UNKNOWN, "stopped").
    `max_memory` (bytes of resident memory, for this process and each worker alike): past
    it, the parts not finished are UNKNOWN ("memory limit reached"), never OK.
    """
    if not partitioned and (model.partition is not None or model.keys is not None):
        model = model.unpartitioned([key for key, _ops in partitions(history, model)])
    validate(history, model)
    history = in_model_terms(history, model)
    deadline = None if timeout is None else time.monotonic() + timeout
    parts = partitions(history, model)
    if workers > 1 and len(parts) > 1:
        results = _search_in_processes(parts, model, deadline, workers, all_parts, max_memory)
    else:
        results = _search_round_robin(parts, model, deadline, progress, all_parts, max_memory)
    for part in results:
        if part.verdict is Verdict.VIOLATION:
            confirm_violation(part, model)
    verdict = Verdict.worst([r.verdict for r in results])
    return LinResult(
        verdict=verdict,
        model=model.name,
        operations=len(history),
        seconds=sum(r.seconds for r in results),
        partitions=tuple(results),
        timed_out=any(r.verdict is Verdict.UNKNOWN for r in results),
        peak_memory=peak_resident(),
    )


def peak_resident() -> int:
    """The most resident memory this process, or any worker it waited for, held (bytes)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) * 1024  # kilobytes on Linux


def resident() -> int:
    """The resident memory of this process now (bytes); its peak where /proc is absent."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _over(max_memory: int | None) -> str | None:
    if max_memory is None:
        return None
    now = resident()
    if now <= max_memory:
        return None
    return f"memory limit reached ({now >> 20} MB resident, limit {max_memory >> 20} MB)"


def _search_round_robin(
    parts: list[tuple[Hashable, list[Operation]]],
    model: Model,
    deadline: float | None,
    progress: Callable[[int, int], None] | None = None,
    all_parts: bool = False,
    max_memory: int | None = None,
) -> list[PartitionResult]:
    """Share one core among the parts, a slice of search at a time.

    A violation in any part decides the verdict, and parts differ wildly in cost: a part
    that refutes in a millisecond must not wait behind one that needs minutes. Once a part
    shows a violation the others are stopped as UNKNOWN, unless `all_parts`.
    """
    runs = {i: searching(key, ops, model) for i, (key, ops) in enumerate(parts)}
    results: dict[int, PartitionResult] = {}
    cpu = dict.fromkeys(runs, 0.0)
    while runs:
        violated = False
        for i, run in list(runs.items()):
            started = time.process_time()
            try:
                next(run)
            except StopIteration as finished:
                results[i] = finished.value
                del runs[i]
                violated = results[i].verdict is Verdict.VIOLATION
            cpu[i] += time.process_time() - started
            if violated and not all_parts:
                break
        if progress is not None:
            progress(len(results), len(parts))
        expired = deadline is not None and time.monotonic() > deadline
        full = _over(max_memory) if runs else None
        if runs and (expired or full or (violated and not all_parts)):
            why = "time limit reached" if expired else (full or _STOPPED)
            for i, run in runs.items():
                started = time.process_time()
                results[i] = _stop(run, why, parts[i], model)
                cpu[i] += time.process_time() - started
            runs.clear()
    return [replace(results[i], seconds=cpu[i]) for i in range(len(parts))]


def _stop(
    run: Generator[None, bool | None, PartitionResult],
    why: str,
    part: tuple[Hashable, list[Operation]],
    model: Model,
) -> PartitionResult:
    if inspect.getgeneratorstate(run) == inspect.GEN_CREATED:  # never given a slice
        run.close()
        return replace(_not_started(part[0], part[1], model), note=why)
    try:
        run.send(True)
    except StopIteration as finished:
        result: PartitionResult = finished.value
        return replace(result, note=why)
    raise AssertionError("a search asked to stop must finish")


def validate(history: Sequence[Operation], model: Model) -> None:
    """Every input must be one the model understands and every return follow its call: say
    which line is wrong, up front (BadInput)."""
    init = model.init()
    for op in history:
        if op.ret is not None and op.ret < op.call:
            raise BadInput(
                f"{op.describe()} returns at {op.ret}, before its call at {op.call}",
                "history",
                op.line,
            )
        try:
            model.step(init, op.input)
        except (ValueError, TypeError, KeyError) as error:
            raise BadInput(f"{op.describe()}: {error}", "history", op.line) from None


def in_model_terms(history: Sequence[Operation], model: Model) -> Sequence[Operation]:
    """Outputs as the model gives them (a set read recorded as a list, say)."""
    form = model.output_form
    if form is None:
        return history
    return [
        op if not op.output_known else replace(op, output=form(op.input, op.output))
        for op in history
    ]


def _not_started(key: Hashable, ops: list[Operation], model: Model) -> PartitionResult:
    return PartitionResult(
        key=key,
        verdict=Verdict.UNKNOWN,
        operations=tuple(ops),
        linearization=(),
        state=model.init(),
        note="time limit reached before this part was searched",
    )


# Worker processes are forked with the parts and the model already in memory (initializer
# arguments are not pickled under fork), so models built from lambdas work too; only the
# part's index goes out and its result comes back. An event shared by the workers stops the
# remaining searches once one part shows a violation.
_WORK: dict[str, Any] = {}


def _init_worker(
    parts: list[tuple[Hashable, list[Operation]]],
    model: Model,
    deadline: float | None,
    stop: Any,
    max_memory: int | None,
) -> None:
    _WORK.update(parts=parts, model=model, deadline=deadline, stop=stop, max_memory=max_memory)


def _search_part(index: int) -> PartitionResult:
    key, ops = _WORK["parts"][index]
    deadline, stop, max_memory = _WORK["deadline"], _WORK["stop"], _WORK["max_memory"]
    if stop.is_set():
        return replace(_not_started(key, ops, _WORK["model"]), note=_STOPPED)
    if deadline is not None and time.monotonic() > deadline:
        return _not_started(key, ops, _WORK["model"])

    def why_stop() -> str | None:
        return _STOPPED if stop.is_set() else _over(max_memory)

    return search(key, ops, _WORK["model"], deadline, stop=why_stop)


def _search_in_processes(
    parts: list[tuple[Hashable, list[Operation]]],
    model: Model,
    deadline: float | None,
    workers: int,
    all_parts: bool = False,
    max_memory: int | None = None,
) -> list[PartitionResult]:
    # Largest parts first, so one long part does not start last.
    order = sorted(range(len(parts)), key=lambda i: -len(parts[i][1]))
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    results: dict[int, PartitionResult] = {}
    with ProcessPoolExecutor(
        max_workers=min(workers, len(parts)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(parts, model, deadline, stop, max_memory),
    ) as pool:
        futures = {pool.submit(_search_part, i): i for i in order}
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if result.verdict is Verdict.VIOLATION and not all_parts:
                stop.set()
    return [results[i] for i in range(len(parts))]
