"""The coordinator's task state machine, sans I/O.

Theory of operation
-------------------
A job is `n_map` map tasks (one per input file) followed by `n_reduce` reduce tasks. Every task
is IDLE, IN_PROGRESS or DONE (the states of the MapReduce paper, section 3.1, and of
`spec/mapreduce.py`). The core never reads a clock, sleeps or touches a file: the driver passes
the current time (`now`, seconds on any monotonic scale) into every call and carries out the
effects it gets back.

Rules this file keeps:

1. Reduce tasks are handed out only once every map task is DONE: a reduce reads one
   intermediate file from every map task, and those must be final when it starts.
2. A task is re-issued only when its current attempt has been IN_PROGRESS for at least
   `task_timeout` seconds (the lab: 10 s). Never earlier: the lab's job-count test fails if a
   map task of a crash-free run executes twice, and a backup task costs a whole execution.
   A worker that crashes is noticed only this way; the lab gives the coordinator no other sign.
3. Every hand-out is a new *attempt* number. A worker writes its results under temporary names
   derived from (task, attempt) and then reports completion. The first report of any issued
   attempt of a not-yet-DONE task wins: the core answers `Commit`, and the driver must rename
   that attempt's files onto their final names *before it handles any other request* (so no
   reduce task starts on half-committed map output, and `done` never precedes the last rename).
   Every later report of the same task is answered `Discard`, and the driver deletes those
   files. Hence each final file holds exactly one completed execution, even for applications
   whose output differs between runs (mtiming, or a stalled worker waking up late).
4. The job is done exactly when every reduce task is DONE, i.e. every `mr-out-Y` is final.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

TaskKind = Literal["map", "reduce"]


class TaskState(enum.Enum):
    IDLE = "idle"
    IN_PROGRESS = "in progress"
    DONE = "done"


class ProtocolError(Exception):
    """A worker reported something the coordinator never asked for (a bug or a stray client)."""


# ---- what the core answers to a worker asking for work -------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MapAssignment:
    task: int
    attempt: int
    filename: str  # as the user named it: it is what the application's map() receives
    path: str  # where the worker reads it (absolute when the coordinator resolved it)
    n_reduce: int

    def describe(self) -> str:
        return f"map {self.task}#{self.attempt} {self.filename}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReduceAssignment:
    task: int
    attempt: int
    n_map: int

    def describe(self) -> str:
        return f"reduce {self.task}#{self.attempt}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait:
    """Nothing to hand out now (tasks are running, or reduces wait for maps); ask again."""

    def describe(self) -> str:
        return "wait"


@dataclass(frozen=True, slots=True, kw_only=True)
class Exit:
    """The job is done: the worker may exit."""

    def describe(self) -> str:
        return "exit"


Assignment = MapAssignment | ReduceAssignment | Wait | Exit


# ---- what the core answers to a completion report -------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Commit:
    """Rename this attempt's temporary files onto the final names, before anything else."""

    kind: TaskKind
    task: int
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Discard:
    """The task was already committed by another attempt: delete this attempt's files."""

    kind: TaskKind
    task: int
    attempt: int


Decision = Commit | Discard


@dataclass(slots=True)
class _Task:
    state: TaskState = TaskState.IDLE
    attempts_issued: int = 0
    started_at: float = 0.0  # when the current attempt was handed out
    committed_attempt: int | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    maps_done: int
    n_map: int
    reduces_done: int
    n_reduce: int
    in_progress: int
    reissued: int

    @property
    def phase(self) -> str:
        if self.maps_done < self.n_map:
            return "map"
        return "reduce" if self.reduces_done < self.n_reduce else "done"


class CoordinatorCore:
    def __init__(
        self,
        files: Sequence[str],
        n_reduce: int,
        task_timeout: float,
        paths: Sequence[str] | None = None,
    ) -> None:
        if not files:
            raise ValueError("a job needs at least one input file")
        if n_reduce < 1:
            raise ValueError("n_reduce must be at least 1")
        if task_timeout <= 0:
            raise ValueError("task_timeout must be positive")
        self.files = tuple(files)
        self.paths = tuple(paths) if paths is not None else self.files
        if len(self.paths) != len(self.files):
            raise ValueError("one path per input file")
        self.n_reduce = n_reduce
        self.task_timeout = task_timeout
        self._maps = [_Task() for _ in self.files]
        self._reduces = [_Task() for _ in range(n_reduce)]
        self._reissued = 0

    @property
    def n_map(self) -> int:
        return len(self._maps)

    @property
    def done(self) -> bool:
        return all(task.state is TaskState.DONE for task in self._reduces)

    def state_of(self, kind: TaskKind, task: int) -> TaskState:
        return self._tasks(kind)[task].state

    def attempts_issued(self, kind: TaskKind, task: int) -> int:
        return self._tasks(kind)[task].attempts_issued

    def committed_attempt(self, kind: TaskKind, task: int) -> int | None:
        return self._tasks(kind)[task].committed_attempt

    def request(self, now: float) -> Assignment:
        """A worker asks for work. Hands out an idle task of the current phase, if any."""
        if self.done:
            return Exit()
        maps_done = all(task.state is TaskState.DONE for task in self._maps)
        kind: TaskKind = "reduce" if maps_done else "map"
        tasks = self._tasks(kind)
        self._expire(tasks, now)
        for index, task in enumerate(tasks):
            if task.state is TaskState.IDLE:
                task.state = TaskState.IN_PROGRESS
                task.started_at = now
                attempt = task.attempts_issued
                task.attempts_issued += 1
                if attempt > 0:
                    self._reissued += 1
                if kind == "map":
                    return MapAssignment(
                        task=index,
                        attempt=attempt,
                        filename=self.files[index],
                        path=self.paths[index],
                        n_reduce=self.n_reduce,
                    )
                return ReduceAssignment(task=index, attempt=attempt, n_map=self.n_map)
        return Wait()

    def complete(self, kind: TaskKind, task: int, attempt: int) -> Decision:
        """A worker reports that attempt `attempt` of a task wrote all its temporary files."""
        tasks = self._tasks(kind)
        if not 0 <= task < len(tasks):
            raise ProtocolError(f"no {kind} task {task} (the job has {len(tasks)})")
        entry = tasks[task]
        if not 0 <= attempt < entry.attempts_issued:
            raise ProtocolError(f"{kind} task {task} attempt {attempt} was never handed out")
        if entry.state is TaskState.DONE:
            return Discard(kind=kind, task=task, attempt=attempt)
        # Rule 3: the first completed attempt wins, even one that had timed out: its files are
        # complete, and accepting it finishes the job sooner than waiting for the backup.
        entry.state = TaskState.DONE
        entry.committed_attempt = attempt
        return Commit(kind=kind, task=task, attempt=attempt)

    def next_deadline(self) -> float | None:
        """The earliest time at which an in-progress task may be re-issued (for the driver's timer)."""
        starts = [
            task.started_at
            for task in (*self._maps, *self._reduces)
            if task.state is TaskState.IN_PROGRESS
        ]
        return min(starts) + self.task_timeout if starts else None

    def progress(self) -> Progress:
        return Progress(
            maps_done=sum(task.state is TaskState.DONE for task in self._maps),
            n_map=self.n_map,
            reduces_done=sum(task.state is TaskState.DONE for task in self._reduces),
            n_reduce=self.n_reduce,
            in_progress=sum(
                task.state is TaskState.IN_PROGRESS for task in (*self._maps, *self._reduces)
            ),
            reissued=self._reissued,
        )

    def _expire(self, tasks: list[_Task], now: float) -> None:
        # Rule 2: `>=`, so a task is re-issued at its deadline and never a moment before it.
        for task in tasks:
            if task.state is TaskState.IN_PROGRESS and now - task.started_at >= self.task_timeout:
                task.state = TaskState.IDLE

    def _tasks(self, kind: TaskKind) -> list[_Task]:
        if kind == "map":
            return self._maps
        if kind == "reduce":
            return self._reduces
        raise ProtocolError(f"unknown task kind {kind!r}")
