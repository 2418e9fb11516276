"""Tester tasks that can wait for a clerk's answer, on the simulator's event loop.

The Raft tester's tasks (impl.sim.loop) only sleep: they yield milliseconds and poll. The
key/value tests are made of clerk calls that take as long as the service does, thousands of
them, so here a task may also yield a `Signal` and is resumed, with the signal's value, as
soon as it is set: `value = yield ck.get_signal(...)`. Resumptions go through the loop
(`call_later(0, ...)`), so a task never runs inside the driver that set the signal, and the
order of everything stays fixed by the seed.

An exception raised in a task propagates out of the loop, so a failed check ends the run
(as the Raft tester's tasks do).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from impl.sim.loop import Deadlock, EventLoop

T = TypeVar("T")


class Signal(Generic[T]):
    """A one-shot event with a value that tasks can wait for."""

    __slots__ = ("_loop", "_waiters", "done", "value")

    def __init__(self, loop: EventLoop) -> None:
        self._loop = loop
        self._waiters: list[Callable[[Any], None]] = []
        self.done = False
        self.value: T | None = None

    def set(self, value: T) -> None:
        if self.done:
            raise RuntimeError("a signal is set once")
        self.done, self.value = True, value
        for wake in self._waiters:
            self._loop.call_later(0, wake, value)
        self._waiters.clear()

    def _wait(self, wake: Callable[[Any], None]) -> None:
        if self.done:
            self._loop.call_later(0, wake, self.value)
        else:
            self._waiters.append(wake)


#: A tester coroutine: yields milliseconds to sleep or a Signal to wait for; returns T.
KvTask = Generator["int | Signal[Any]", Any, T]


class Handle(Generic[T]):
    """A spawned task: `finished` is set to its result when it returns."""

    __slots__ = ("finished", "name")

    def __init__(self, loop: EventLoop, name: str) -> None:
        self.name = name
        self.finished: Signal[T] = Signal(loop)

    @property
    def done(self) -> bool:
        return self.finished.done

    @property
    def result(self) -> T | None:
        return self.finished.value


def spawn(loop: EventLoop, task: KvTask[T], name: str = "task") -> Handle[T]:
    """Start `task` at the current virtual time, after the events already scheduled."""
    handle: Handle[T] = Handle(loop, name)

    def resume(value: Any) -> None:
        try:
            step = task.send(value)
        except StopIteration as stop:
            handle.finished.set(stop.value)
            return
        if isinstance(step, Signal):
            step._wait(resume)
        else:
            loop.call_later(int(step), resume, None)

    loop.call_later(0, resume, None)
    return handle


def block(loop: EventLoop, task: KvTask[T], name: str = "main") -> T:
    """Run `task` to completion, advancing virtual time; return what it returned."""
    handle = spawn(loop, task, name)
    while not handle.done:
        if not loop.step():
            raise Deadlock(f"no events left while {name!r} waits")
    return handle.result  # type: ignore[return-value]
