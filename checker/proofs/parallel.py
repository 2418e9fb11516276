"""The solver calls of a Houdini round, run in this process or spread over forked workers.

Theory of operation
-------------------
A round's work is a list of `Task`s (parts of consecution checks, `checker.proofs.consecution`)
that are independent of one another: each is a solver call relative to the same standing set.
With one worker they run here, in candidate order, stopping an invariant at its first
counterexample — the sequential proof. With N workers they go to N forked processes, slowest
first (longest-processing-time-first list scheduling, Graham 1969: within 4/3 of the best
makespan), each worker taking the next task when it is free. Z3 objects cannot be pickled, so
every worker builds its own symbolic step and solver from the config and the candidates
(inherited through fork, never pickled), and only plain data travels: the task out, the
verdict, times and the CTI as spec states back.

A task's cost is estimated by what the same part took in the previous round, else by the
measured cost of its invariant (`COST_HINTS`, seconds of one core at the default bounds)
shared among its parts. The estimate only orders the work; it never changes a verdict.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
import signal
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from checker.invariants import LEADER_APPEND_ONLY
from checker.invariants.raft import Invariant
from checker.proofs.consecution import PartResult, StepChecker, Task
from checker.verdict import Verdict
from spec.raft import Config

# Seconds of one core per consecution check at the default bounds (3 servers, terms ≤ 3,
# logs ≤ 1, ≤ 2 messages, with the ghost lemmas), measured with the parts of
# `consecution.split` by `bench/prove_speed.py --ghost --workers 1`; anything else counts as
# DEFAULT_COST. Only the order of the work depends on them.
COST_HINTS: dict[str, float] = {
    "EntryTermsElected": 6.0,
    "MatchHistory": 7.0,
    "CommittedStable": 3.5,
    "GhostVoterLog": 3.0,
    "AppendEntriesCommitted": 2.2,
    "CommitCovered": 1.8,
    "AppendEntriesEntriesOfLeader": 1.7,
    "LeaderVotes": 1.7,
    "GhostVotes": 1.6,
    "CommittedEntriesOutvoteRivals": 1.4,
    "LeaderCompleteness": 1.2,
    "GhostLeaderQuorum": 1.1,
    "LeaderBlocksRivals": 1.1,
    "CommittedOnQuorum": 1.0,
}
DEFAULT_COST = 0.3


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def longest_first(tasks: list[Task], parts: dict[str, int],
                  measured: dict[tuple[str, int], float]) -> list[Task]:
    """The tasks, most expensive first (ties in the given order)."""
    def cost(t: Task) -> float:
        if (t.invariant, t.part) in measured:
            return measured[(t.invariant, t.part)]
        return COST_HINTS.get(t.invariant, DEFAULT_COST) / parts[t.invariant]

    return sorted(tasks, key=lambda t: -cost(t))


# The worker's own checker, built once per process by `_start` from the fork-inherited
# arguments, and the round's "already has a counterexample" flags (shared memory, one byte per
# check): the remaining parts of a check that failed are skipped, as in the sequential order.
_CHECKER: StepChecker | None = None
_FAILED: Any = None
_INDEX: dict[str, int] = {}


def _start(config: Config, candidates: tuple[Invariant, ...], timeout_ms: int, failed: Any,
           index: dict[str, int]) -> None:
    global _CHECKER, _FAILED, _INDEX
    # A forked worker inherits its parent's signal handlers; one that ignores SIGTERM (an
    # asyncio loop's no-op handler left behind) would make Pool.terminate wait forever.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _CHECKER, _FAILED, _INDEX = StepChecker(config, candidates, timeout_ms), failed, index


def _run(task: Task) -> PartResult | None:
    """The task's result, or None if another part of its check has a counterexample."""
    assert _CHECKER is not None, "worker not started"
    if _FAILED[_INDEX[task.invariant]]:
        return None
    result = _CHECKER.run(task)
    if result.verdict is Verdict.VIOLATION:
        _FAILED[_INDEX[task.invariant]] = 1
    return result


class Workers:
    """Where a round's tasks run: here (workers=1) or in a pool of forked processes."""

    def __init__(self, config: Config, candidates: tuple[Invariant, ...], timeout_ms: int,
                 workers: int) -> None:
        self.workers = workers
        self.local: StepChecker | None = None
        self.pool: multiprocessing.pool.Pool | None = None
        if workers == 1:
            self.local = StepChecker(config, candidates, timeout_ms)
        else:
            # fork: the candidates' bodies are closures, and the workers inherit them as they
            # are; nothing Z3 is pickled.
            ctx = multiprocessing.get_context("fork")
            names = [inv.name for inv in candidates] + [LEADER_APPEND_ONLY.name]
            self.index = {name: k for k, name in enumerate(names)}
            self.failed = ctx.Array("b", len(names), lock=False)
            self.pool = ctx.Pool(workers, _start,
                                 (config, candidates, timeout_ms, self.failed, self.index))

    def run_round(self, tasks: list[Task], parts: dict[str, int],
                  measured: dict[tuple[str, int], float]) -> Iterator[PartResult]:
        """Every task's result (sequentially: in order, skipping the rest of an invariant's
        parts after a counterexample; in parallel: as they finish)."""
        if self.local is not None:
            failed: set[str] = set()
            for task in tasks:
                if task.invariant not in failed:
                    result = self.local.run(task)
                    if result.verdict is Verdict.VIOLATION:
                        failed.add(task.invariant)
                    yield result
            return
        assert self.pool is not None
        for k in range(len(self.failed)):
            self.failed[k] = 0  # a new round: the standing set changed
        ordered = longest_first(tasks, parts, measured)
        for found in self.pool.imap_unordered(_run, ordered, chunksize=1):
            if found is not None:
                yield found

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
