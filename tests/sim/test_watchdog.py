"""The event loop's watchdog: a run whose virtual time stops advancing, or whose heap floods
memory, ends with a typed finding naming the time, the count and what was running; broken
Raft cores and tasks end a simulated run with a finding instead of hanging or crashing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from impl.raft.labtester import RaftTester
from impl.raft.scenarios import SCENARIOS
from impl.raft.scenarios.chaos import simulate
from impl.sim import EventLoop, Flooded, LabNetwork, Stalled, Task
from impl.sim.loop import MAX_PENDING, MAX_WORK_PER_INSTANT
from impl.trace import TraceWriter
from tests.broken_cores import chattering
from tests.sim.helpers import Echo, Ping, Pong


def test_a_task_that_never_lets_time_advance_is_stalled() -> None:
    loop = EventLoop(1, max_work_per_instant=1000)

    def spinner() -> Task[None]:
        yield 5
        while True:
            yield 0  # a client loop whose sleep a bug made zero

    with pytest.raises(Stalled) as stalled:
        loop.block(spinner(), "client0")
    error = stalled.value
    assert (error.time_ms, error.count, error.running) == (5, 1001, "task 'client0'")
    assert "stopped advancing at t=5 ms" in str(error) and "task 'client0'" in str(error)


def test_work_charged_inside_one_callback_counts() -> None:
    """A task that loops without yielding never returns to the loop; the work it reports
    (here: messages sent) is what stops it."""
    loop = EventLoop(1, max_work_per_instant=500)
    net = LabNetwork(loop)
    net.attach("a", Echo(net, "a"))
    net.attach("b", Echo(net, "b"))

    def flooder() -> Task[None]:
        yield 1
        while True:
            net.send("a", "b", Ping(0))

    with pytest.raises(Stalled) as stalled:
        loop.block(flooder(), "flooder")
    assert stalled.value.time_ms == 1 and stalled.value.running == "task 'flooder'"


def test_two_nodes_answering_each_other_at_zero_delay_are_stalled() -> None:
    loop = EventLoop(1, max_work_per_instant=2000)
    net = LabNetwork(loop)

    class Chatty(Echo):
        def deliver(self, src: object, message: object, msg_id: int) -> None:
            super().deliver(src, message, msg_id)
            if isinstance(message, Pong):
                net.send(self.me, src, Ping(message.n + 1))  # answers every answer

    net.attach("a", Chatty(net, "a"))
    net.attach("b", Chatty(net, "b"))
    net.send("a", "b", Ping(0))
    with pytest.raises(Stalled) as stalled:
        loop.run_for(10)
    assert stalled.value.time_ms == 0
    assert stalled.value.running is not None and "the delivery of message" in stalled.value.running


def test_a_heap_that_keeps_growing_is_flooded() -> None:
    loop = EventLoop(1, max_pending=5000)

    def spread() -> None:  # every event schedules two more a millisecond later
        loop.call_later(1, spread)
        loop.call_later(1, spread)

    loop.call_later(0, spread)
    with pytest.raises(Flooded) as flooded:
        loop.run_for(1000)
    assert flooded.value.count > 5000 and flooded.value.time_ms < 20
    assert "events are waiting" in str(flooded.value)


def test_time_advancing_resets_the_count() -> None:
    loop = EventLoop(1, max_work_per_instant=10)

    def busy_but_moving() -> Task[int]:
        for _ in range(100):
            yield 0
            yield 0
            yield 1  # a few steps at each instant, then time moves on
        return loop.now

    assert loop.block(busy_but_moving()) == 100
    assert loop.peak_work <= 10


@pytest.fixture
def broken_append_reply() -> Iterator[None]:
    """A chattering Raft core (tests.broken_cores.chattering)."""
    with chattering():
        yield


def test_a_chattering_raft_core_ends_the_run_with_a_finding(broken_append_reply: None) -> None:
    writer = TraceWriter(keep=True)
    run = simulate(seed=1, servers=3, duration_ms=5_000, trace=writer)
    assert run.fault is not None and run.fault.kind == "stalled"
    assert run.failure is not None and run.failure.startswith("the watchdog stopped the run at")
    assert "virtual time stopped advancing" in run.failure
    assert run.fault.event == writer.seq + 1 and run.fault.traced
    assert len(writer.lines) <= MAX_WORK_PER_INSTANT + 1_000  # memory stayed bounded


def test_a_client_that_stops_yielding_ends_the_run_with_a_finding() -> None:
    cfg = RaftTester(3, seed=2)
    # A lower bound keeps the test quick: every start persists the whole (growing) log.
    cfg.loop.max_work_per_instant = 2_000

    def client() -> Task[None]:
        leader = yield from cfg.check_one_leader()
        raft = cfg.rafts[leader]
        assert raft is not None
        while True:  # a bug: the client never sleeps between calls
            raft.start(7)

    with pytest.raises(Stalled) as stalled:
        cfg.run(client())
    fault = cfg.fault(stalled.value)
    assert fault.kind == "stalled" and fault.node is not None
    assert stalled.value.running == "task 'main'"


def test_the_lab_scenarios_stay_far_below_the_bounds() -> None:
    """The bounds are hundreds of times what the lab's scenarios need (impl.sim.loop)."""
    for scenario in SCENARIOS:
        cfg = scenario.tester(1)
        cfg.run(scenario.play(cfg))
        loop = cfg.loop
        assert max(loop.peak_work, loop.work) * 100 < MAX_WORK_PER_INSTANT, scenario.name
        assert loop.peak_pending * 100 < MAX_PENDING, scenario.name
