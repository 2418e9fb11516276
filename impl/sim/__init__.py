"""The deterministic simulator: virtual time, one seed, the lab network, named timers.

Any sans-I/O core runs here through a small driver (an `Endpoint`) that turns the core's
effects into `LabNetwork.send` calls and `Timers`; see `impl.raft.node` for Raft's. To host a
new kind of node (a KV server, a clerk, a shard controller):

1. give each message class `rpc` ("request"/"reply"), `wire()`, `trace()` and `describe()`
   (`WireMessage`);
2. write a driver with `deliver(src, message, msg_id)` (and, for clerks that retry on a failed
   call, `wants_call_failures = True` and `call_failed(dst, message)`); it steps its core and
   carries out the effects: `network.send(me, to, msg)`, `Timers(loop, fire).set(name, ms)`,
   drawing any random delay from `loop.rng`, never from another generator;
3. `network.attach(node_id, driver)` on start and restart, `network.detach(node_id)` on crash;
4. write tester logic as tasks (generators yielding ms) run with `loop.block` / `loop.spawn`.

Everything random comes from `EventLoop.rng`, so a seed fixes the run and, with a
`TraceWriter`, its trace byte for byte.

A driver that does work outside the loop's events (a step, a send) reports it with
`loop.charge()`, so that the loop's watchdog (`Stalled`, `Flooded`) can end a run that
spins at one instant; `fault_of` turns an exception out of a run into a `Fault` finding.
"""

from impl.sim.faults import Fault, fault_of
from impl.sim.loop import Deadlock, EventLoop, Flooded, Runaway, Stalled, Task, TaskHandle
from impl.sim.network import Endpoint, LabNetwork, NetworkStats, WireMessage, wire_size
from impl.sim.timers import Timers

__all__ = [
    "Deadlock",
    "Endpoint",
    "EventLoop",
    "Fault",
    "Flooded",
    "LabNetwork",
    "NetworkStats",
    "Runaway",
    "Stalled",
    "Task",
    "TaskHandle",
    "Timers",
    "WireMessage",
    "fault_of",
    "wire_size",
]
