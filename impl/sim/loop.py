"""The discrete-event loop: virtual time, one seeded random generator, cooperative tasks.

Theory of operation
-------------------
Time is an integer count of virtual milliseconds. Work is a heap of callbacks keyed by
(time, sequence number); the sequence number makes the order of events scheduled for the
same millisecond the order in which they were scheduled, so a run depends only on the seed.
Every random choice of a run — network delays and drops, election timeouts, a tester's
choice of peer — is drawn from `EventLoop.rng`, the one generator; nothing reads a clock.

Testers are written as generators that yield a number of milliseconds to sleep (the lab's
Go testers sleep and poll). `spawn` runs one concurrently with everything else; `block`
runs one to completion from ordinary code, advancing virtual time as it sleeps. An
exception raised inside a task propagates out of the loop, so a failing check fails the run.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: A tester coroutine: yields milliseconds to sleep, finally returns its result.
Task = Generator[int, None, T]


class Deadlock(RuntimeError):
    """The loop ran out of events while a blocking task was still waiting."""


@dataclass(slots=True)
class TaskHandle(Generic[T]):
    """A spawned task; `done` once its generator returned (`result`) or raised."""

    name: str
    done: bool = False
    result: T | None = None
    error: BaseException | None = field(default=None, repr=False)


class EventLoop:
    """Virtual time and the one random generator of a run."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = 0
        self._heap: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self.events_run = 0

    # -- scheduling ------------------------------------------------------------------
    def call_at(self, time: int, callback: Callable[..., None], *args: Any) -> None:
        if time < self.now:
            raise ValueError(f"cannot schedule in the past: {time} < {self.now}")
        self._seq += 1
        heapq.heappush(self._heap, (time, self._seq, callback, args))

    def call_later(self, delay_ms: int, callback: Callable[..., None], *args: Any) -> None:
        self.call_at(self.now + max(0, delay_ms), callback, *args)

    # -- running ---------------------------------------------------------------------
    def step(self) -> bool:
        """Run the next event; False when there is none."""
        if not self._heap:
            return False
        time, _, callback, args = heapq.heappop(self._heap)
        self.now = time
        self.events_run += 1
        callback(*args)
        return True

    def run_until(self, time: int) -> None:
        """Run every event scheduled up to and including `time`, then set the clock to it."""
        heap = self._heap
        while heap and heap[0][0] <= time:
            self.step()
        self.now = max(self.now, time)

    def run_for(self, delay_ms: int) -> None:
        self.run_until(self.now + max(0, delay_ms))

    # -- tasks -----------------------------------------------------------------------
    def spawn(self, task: Task[T], name: str = "task") -> TaskHandle[T]:
        """Start `task` now (at the current virtual time, after already scheduled events)."""
        handle: TaskHandle[T] = TaskHandle(name)
        self.call_later(0, self._resume, task, handle)
        return handle

    def _resume(self, task: Task[T], handle: TaskHandle[T]) -> None:
        try:
            delay = next(task)
        except StopIteration as stop:
            handle.done = True
            handle.result = stop.value
            return
        except BaseException as error:
            handle.done = True
            handle.error = error
            raise
        self.call_later(int(delay), self._resume, task, handle)

    def block(self, task: Task[T], name: str = "main") -> T:
        """Run `task` to completion, advancing virtual time; return what it returned."""
        handle = self.spawn(task, name)
        while not handle.done:
            if not self.step():
                raise Deadlock(f"no events left while {name!r} waits")
        return handle.result  # type: ignore[return-value]
