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

The watchdog
------------
A broken implementation can keep a simulation busy without virtual time ever advancing: a
client loop that stops yielding, two nodes that answer each other at zero delay forever. The
run would then spin at one instant, and its trace and heap would grow until memory ran out.
So the loop counts the *work done at the current instant* — every event it runs, plus every
unit a driver reports with `charge()` (the network charges each message sent; a tester may
charge each step of a node, which catches a task that spins inside one callback) — and raises
`Stalled` once that count passes `max_work_per_instant`. It also bounds memory: when virtual
time advances while more than `max_pending` events wait in the heap, it raises `Flooded`.
Both name the virtual time, the count, and the task or callback that was running.

The defaults are about a hundred times what the largest legitimate run needs, and hundreds
of times what the lab's scenarios need. Over the 28 lab scenarios (seeds 1–10: at most 122
at one instant, 589 waiting) and 30-second random fault schedules on 3, 5, 7 and 15 servers
(seeds 1–5), the most work seen at one instant was 455 (15 servers on a reliable network:
heartbeat and replication rounds to 14 followers and their replies, all at zero delay) and
the largest heap 2,016 events (the same runs; stale timers and delayed replies wait there).
`bench/sim_watchdog_margin.py` measures both, and `tests/sim/test_watchdog.py` keeps the lab
suite 100 times below the bounds. A runaway
reaches 50,000 units of work in one to three seconds of wall time (with a trace), having
written at most that many trace lines at its instant; 200,000 waiting events hold tens of
megabytes.
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

#: Work (events run + units charged) allowed at one virtual instant; see "The watchdog".
MAX_WORK_PER_INSTANT = 50_000
#: Events allowed to wait in the heap when virtual time advances; see "The watchdog".
MAX_PENDING = 200_000


class Deadlock(RuntimeError):
    """The loop ran out of events while a blocking task was still waiting."""


class Runaway(RuntimeError):
    """The watchdog ended a run that could not finish: the implementation livelocked."""

    def __init__(self, message: str, *, time_ms: int, count: int, running: str | None) -> None:
        super().__init__(message)
        self.time_ms = time_ms
        self.count = count
        self.running = running


class Stalled(Runaway):
    """Virtual time stopped advancing: too much work was done at one instant."""


class Flooded(Runaway):
    """Too many events wait in the heap: the run is exhausting memory."""


@dataclass(slots=True)
class TaskHandle(Generic[T]):
    """A spawned task; `done` once its generator returned (`result`) or raised."""

    name: str
    done: bool = False
    result: T | None = None
    error: BaseException | None = field(default=None, repr=False)


class EventLoop:
    """Virtual time and the one random generator of a run."""

    def __init__(self, seed: int, *, max_work_per_instant: int = MAX_WORK_PER_INSTANT,
                 max_pending: int = MAX_PENDING) -> None:
        if max_work_per_instant < 1 or max_pending < 1:
            raise ValueError("the watchdog's bounds must be at least 1")
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = 0
        self._heap: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self.events_run = 0
        self.max_work_per_instant = max_work_per_instant
        self.max_pending = max_pending
        #: Work done at the current instant, and the largest amount seen at a past instant.
        self.work = 0
        self.peak_work = 0
        #: The largest heap seen when time advanced (what `max_pending` bounds).
        self.peak_pending = 0
        self._running: tuple[Callable[..., None], tuple[Any, ...]] | None = None

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
        heap = self._heap
        if not heap:
            return False
        time, _, callback, args = heapq.heappop(heap)
        if time > self.now:
            self._advance(time, len(heap) + 1)
        self.work += 1
        if self.work > self.max_work_per_instant:
            self._running = (callback, args)
            raise self._stalled()
        self.events_run += 1
        self._running = (callback, args)
        callback(*args)
        return True

    def charge(self, units: int = 1) -> None:
        """Count work a driver does inside the current event (a message sent, a node's step).

        Raises `Stalled` when the work at this instant passes the bound: a task or a node
        that loops inside one callback never returns to the loop, so only this can stop it."""
        self.work += units
        if self.work > self.max_work_per_instant:
            raise self._stalled()

    def run_until(self, time: int) -> None:
        """Run every event scheduled up to and including `time`, then set the clock to it."""
        heap = self._heap
        while heap and heap[0][0] <= time:
            self.step()
        if time > self.now:
            self._advance(time, len(heap))

    def run_for(self, delay_ms: int) -> None:
        self.run_until(self.now + max(0, delay_ms))

    def _advance(self, time: int, pending: int) -> None:
        """Virtual time moves on to `time` with `pending` events scheduled (the watchdog)."""
        if self.work > self.peak_work:
            self.peak_work = self.work
        self.work = 0
        if pending > self.peak_pending:
            self.peak_pending = pending
            if pending > self.max_pending:
                raise Flooded(
                    f"{pending:,} events are waiting in the simulator at t={self.now} ms "
                    f"(bound {self.max_pending:,}): the run is flooding memory"
                    + self._while(), time_ms=self.now, count=pending, running=self.running())
        self.now = time

    def _stalled(self) -> Stalled:
        return Stalled(
            f"virtual time stopped advancing at t={self.now} ms: more than "
            f"{self.max_work_per_instant:,} events and steps at that instant" + self._while(),
            time_ms=self.now, count=self.work, running=self.running())

    def _while(self) -> str:
        running = self.running()
        return f"; running {running}" if running else ""

    def running(self) -> str | None:
        """The task or callback the loop is running (or ran last), for messages. A callback's
        owner may say more through `describe_event(callback, args)` (the network names the
        message it delivers, timers the timer)."""
        if self._running is None:
            return None
        callback, args = self._running
        if getattr(callback, "__func__", None) is EventLoop._resume and len(args) == 2:
            return f"task {args[1].name!r}"
        describe = getattr(getattr(callback, "__self__", None), "describe_event", None)
        shown = describe(callback, args) if describe is not None else None
        return shown or getattr(callback, "__qualname__", repr(callback))

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
