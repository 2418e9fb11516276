"""The event loop: ordering, virtual time, tasks."""

from __future__ import annotations

import pytest

from impl.sim import EventLoop, Task


def test_same_millisecond_events_run_in_the_order_scheduled() -> None:
    loop = EventLoop(1)
    seen: list[str] = []
    loop.call_at(5, seen.append, "b")
    loop.call_at(3, seen.append, "a")
    loop.call_at(5, seen.append, "c")
    loop.run_until(10)
    assert seen == ["a", "b", "c"]
    assert loop.now == 10


def test_run_until_stops_at_the_time_and_keeps_later_events() -> None:
    loop = EventLoop(1)
    seen: list[int] = []
    loop.call_at(100, seen.append, 100)
    loop.run_until(99)
    assert seen == [] and loop.now == 99
    loop.run_for(1)
    assert seen == [100]


def test_scheduling_in_the_past_is_refused() -> None:
    loop = EventLoop(1)
    loop.run_until(50)
    with pytest.raises(ValueError):
        loop.call_at(10, print)


def test_block_advances_virtual_time_and_returns_the_result() -> None:
    loop = EventLoop(1)

    def task() -> Task[str]:
        yield 250
        yield 750
        return "done"

    assert loop.block(task()) == "done"
    assert loop.now == 1000


def test_spawned_tasks_interleave_by_virtual_time() -> None:
    loop = EventLoop(1)
    seen: list[tuple[str, int]] = []

    def ticker(name: str, period: int) -> Task[None]:
        for _ in range(3):
            yield period
            seen.append((name, loop.now))

    loop.spawn(ticker("slow", 30))
    loop.block(ticker("fast", 20))
    # At 60 ms both wake; "slow" scheduled its wake-up first (at 30 ms), so it runs first.
    assert seen[:5] == [("fast", 20), ("slow", 30), ("fast", 40), ("slow", 60), ("fast", 60)]


def test_an_exception_in_a_task_propagates() -> None:
    loop = EventLoop(1)

    def failing() -> Task[None]:
        yield 5
        raise AssertionError("lab check failed")

    with pytest.raises(AssertionError, match="lab check failed"):
        loop.block(failing())
