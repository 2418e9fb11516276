"""The MapReduce coordinator, as an executable specification (lab 1; the MapReduce paper, §3).

Theory of operation
-------------------
A job of `n_map` map tasks and `n_reduce` reduce tasks runs on `n_workers` workers. Each task is
idle, in progress or done. A worker asks for work and gets any idle task of the current phase
(maps first: a reduce reads one intermediate file of every map task). It executes the task,
which leaves complete *temporary* files behind, and then reports; the coordinator commits the
first report of a task (renames that attempt's files onto the final names) and discards later
ones. Two kinds of fault are modelled:

- worker crash: at any moment a worker loses the attempt it is running (its temporary files
  may exist but are never committed, since only a report commits) and starts afresh, like the
  lab's restart loops starting a new worker process;
- re-issue on timeout: an in-progress task may go back to idle, after which it is handed out
  again as a new attempt. Time is abstracted away: a timeout may fire whenever the task is in
  progress, which covers every timing, including the coordinator giving up on a live but slow
  worker whose report then arrives late. ("Never earlier than 10 s" is a timing property of the
  implementation's core; tests/mapreduce/test_core_mr.py checks it in virtual time.)

File contents are represented by *who wrote them*: a final reduce output is the attempt that
produced it together with the map attempts it read, so that two different executions are never
confused, as they would not be for an application whose output varies between runs.

The configuration bounds how many attempts of one task may be handed out (`max_attempts`), which
keeps the state space finite; exploring it exhaustively is a proof for that bounded job.
`mutation` switches on a deliberately wrong coordinator, used to check that the checker
notices (STYLE.md 9); it is None for the real design.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

IDLE, IN_PROGRESS, DONE = "idle", "in progress", "done"
T = TypeVar("T")

Mutation = Literal["commit_every_report", "reduce_before_maps_done", "done_when_reduces_issued"]
MUTATIONS: tuple[Mutation, ...] = (
    "commit_every_report",  # the coordinator renames every report's files: overwrites
    "reduce_before_maps_done",  # reduces handed out while a map is unfinished
    "done_when_reduces_issued",  # done once every reduce is handed out, not committed
)


@dataclass(frozen=True, slots=True)
class Config:
    n_map: int = 2
    n_reduce: int = 2
    n_workers: int = 2
    max_attempts: int = 2
    mutation: Mutation | None = None

    def __post_init__(self) -> None:
        if min(self.n_map, self.n_reduce, self.n_workers, self.max_attempts) < 1:
            raise ValueError("every bound of a MapReduce configuration must be at least 1")

    @property
    def n_tasks(self) -> int:
        return self.n_map + self.n_reduce

    def is_map(self, task: int) -> bool:
        return task < self.n_map

    def describe(self) -> str:
        bug = f", mutation {self.mutation}" if self.mutation else ""
        return (
            f"{self.n_map} maps, {self.n_reduce} reduces, {self.n_workers} workers, "
            f"at most {self.max_attempts} attempts per task{bug}"
        )


# An execution of a task: (task, attempt). A reduce execution also records what it read: the
# attempt whose committed file it found for each map task (None: no final file yet).
Reads = tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class Written:
    task: int
    attempt: int
    reads: Reads  # empty for a map execution


@dataclass(frozen=True, slots=True)
class Worker:
    running: tuple[int, int] | None = None  # (task, attempt) being executed
    finished: Written | None = None  # executed: temporary files complete, report not yet sent


@dataclass(frozen=True, slots=True)
class State:
    tasks: tuple[str, ...]  # IDLE / IN_PROGRESS / DONE, map tasks first
    issued: tuple[int, ...]  # attempts handed out per task
    workers: tuple[Worker, ...]
    final: tuple[Written | None, ...]  # what each task's final file(s) hold, per task
    commits: tuple[int, ...]  # how many times each task's final files were (over)written
    done: bool  # the coordinator's Done()


Action = tuple[str, State]


def initial_states(config: Config) -> list[State]:
    return [
        State(
            tasks=(IDLE,) * config.n_tasks,
            issued=(0,) * config.n_tasks,
            workers=(Worker(),) * config.n_workers,
            final=(None,) * config.n_tasks,
            commits=(0,) * config.n_tasks,
            done=False,
        )
    ]


def successors(config: Config, state: State) -> Iterator[Action]:
    """Every enabled action, named for counterexamples, with the state it leads to."""
    for w, worker in enumerate(state.workers):
        if worker.running is None and worker.finished is None and not state.done:
            yield from _hand_out(config, state, w)
        if worker.running is not None:
            task, attempt = worker.running
            reads: Reads = () if config.is_map(task) else _map_files(config, state)
            written = Written(task, attempt, reads)
            yield (
                f"worker {w} executes {_name(config, task)}#{attempt}",
                _set_worker(state, w, Worker(finished=written)),
            )
        if worker.finished is not None:
            yield _report(config, state, w, worker.finished)
        if worker.running is not None or worker.finished is not None:
            yield f"worker {w} crashes", _set_worker(state, w, Worker())
    for task, status in enumerate(state.tasks):
        if status == IN_PROGRESS:
            tasks = _set(state.tasks, task, IDLE)
            yield f"{_name(config, task)} times out", replace(state, tasks=tasks)


def _hand_out(config: Config, state: State, w: int) -> Iterator[Action]:
    maps_done = all(state.tasks[t] == DONE for t in range(config.n_map))
    if config.mutation == "reduce_before_maps_done":
        candidates = range(config.n_tasks)
    else:
        candidates = range(config.n_map, config.n_tasks) if maps_done else range(config.n_map)
    for task in candidates:
        if state.tasks[task] != IDLE or state.issued[task] >= config.max_attempts:
            continue
        attempt = state.issued[task]
        next_state = replace(
            _set_worker(state, w, Worker(running=(task, attempt))),
            tasks=_set(state.tasks, task, IN_PROGRESS),
            issued=_set(state.issued, task, attempt + 1),
        )
        if config.mutation == "done_when_reduces_issued":
            reduces = next_state.tasks[config.n_map :]
            next_state = replace(next_state, done=all(s != IDLE for s in reduces))
        yield f"worker {w} gets {_name(config, task)}#{attempt}", next_state


def _report(config: Config, state: State, w: int, written: Written) -> Action:
    name = f"{_name(config, written.task)}#{written.attempt}"
    idle_worker = _set_worker(state, w, Worker())
    if state.tasks[written.task] == DONE and config.mutation != "commit_every_report":
        return f"worker {w} reports {name}: discarded", idle_worker
    tasks = _set(state.tasks, written.task, DONE)
    done = state.done or all(s == DONE for s in tasks[config.n_map :])
    return f"worker {w} reports {name}: committed", replace(
        idle_worker,
        tasks=tasks,
        final=_set(state.final, written.task, written),
        commits=_set(state.commits, written.task, min(state.commits[written.task] + 1, 2)),
        done=done,
    )


# ---- invariants -------------------------------------------------------------------------------


def each_reduce_output_reflects_one_execution(config: Config, state: State) -> bool:
    """Every final `mr-out-Y` was written by exactly one completed execution of reduce task Y,
    and that execution read the final intermediate file of every map task."""
    current = _map_files(config, state)
    for task in range(config.n_map, config.n_tasks):
        final, commits = state.final[task], state.commits[task]
        if commits > 1 or (final is None) != (commits == 0):
            return False
        if final is not None and (None in final.reads or final.reads != current):
            return False
    return True


def each_intermediate_reflects_one_execution(config: Config, state: State) -> bool:
    """Every final `mr-X-*` was written by exactly one completed execution of map task X."""
    return all(
        state.commits[task] <= 1 and (state.final[task] is None) == (state.commits[task] == 0)
        for task in range(config.n_map)
    )


def done_implies_every_output_final(config: Config, state: State) -> bool:
    """Done() only when every reduce output is committed and its task can commit no more."""
    if not state.done:
        return True
    return all(
        state.tasks[task] == DONE and state.final[task] is not None
        for task in range(config.n_map, config.n_tasks)
    )


def outputs_unchanged_after_done(config: Config, before: State, after: State) -> bool:
    """The step property behind "final": once done, no action rewrites an output."""
    return not before.done or before.final == after.final


INVARIANTS: dict[str, Callable[[Config, State], bool]] = {
    "each reduce output reflects exactly one completed execution of its task": (
        each_reduce_output_reflects_one_execution
    ),
    "each intermediate file reflects exactly one completed map execution": (
        each_intermediate_reflects_one_execution
    ),
    "done implies every output is final": done_implies_every_output_final,
}
STEP_PROPERTIES: dict[str, Callable[[Config, State, State], bool]] = {
    "outputs never change once done": outputs_unchanged_after_done,
}


SOMETIMES: dict[str, Callable[[Config, State], bool]] = {
    # Reached in every bounded job that can finish: shows the bounds are not vacuous.
    "the job finishes": lambda config, state: state.done,
}


def variables(config: Config, state: State) -> dict[str, object]:
    """The state as named variables of plain JSON values, keyed by task and worker names."""
    tasks = {_name(config, t): status for t, status in enumerate(state.tasks)}
    issued = {_name(config, t): n for t, n in enumerate(state.issued)}
    final = {
        _name(config, t): None if w is None else f"#{w.attempt}"
        for t, w in enumerate(state.final)
    }
    workers = {}
    for w, worker in enumerate(state.workers):
        if worker.running is not None:
            workers[f"w{w}"] = f"runs {_name(config, worker.running[0])}#{worker.running[1]}"
        elif worker.finished is not None:
            done = worker.finished
            workers[f"w{w}"] = f"wrote {_name(config, done.task)}#{done.attempt}"
        else:
            workers[f"w{w}"] = "idle"
    commits = {_name(config, t): n for t, n in enumerate(state.commits)}
    return {
        "tasks": tasks,
        "issued": issued,
        "workers": workers,
        "final": final,
        "commits": commits,
        "done": state.done,
    }


def describe(config: Config, state: State) -> str:
    """One line: every task's state/attempts issued(=committed attempt), the workers, done."""
    parts = []
    for task, status in enumerate(state.tasks):
        final = state.final[task]
        held = f"={final.attempt}" if final is not None else ""
        parts.append(f"{_name(config, task)}:{status}/{state.issued[task]}{held}")
    for w, worker in enumerate(state.workers):
        if worker.running is not None:
            parts.append(f"w{w}:runs {_name(config, worker.running[0])}#{worker.running[1]}")
        elif worker.finished is not None:
            finished = worker.finished
            parts.append(f"w{w}:wrote {_name(config, finished.task)}#{finished.attempt}")
    return " ".join(parts) + (" DONE" if state.done else "")


# ---- helpers ----------------------------------------------------------------------------------


def _map_files(config: Config, state: State) -> Reads:
    return tuple(
        final.attempt if final is not None else None for final in state.final[: config.n_map]
    )


def _name(config: Config, task: int) -> str:
    return f"map{task}" if config.is_map(task) else f"reduce{task - config.n_map}"


def _set_worker(state: State, index: int, worker: Worker) -> State:
    return replace(state, workers=_set(state.workers, index, worker))


def _set(values: tuple[T, ...], index: int, value: T) -> tuple[T, ...]:
    return (*values[:index], value, *values[index + 1 :])
