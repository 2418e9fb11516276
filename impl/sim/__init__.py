"""The deterministic simulator: virtual time, one seed, the lab network, named timers.

Any sans-I/O core runs here through a small driver (an `Endpoint`) that turns the core's
effects into `LabNetwork.send` calls and `Timers`; see `impl.raft.node` for Raft's.
"""

from impl.sim.loop import Deadlock, EventLoop, Task, TaskHandle
from impl.sim.network import Endpoint, LabNetwork, NetworkStats, WireMessage, wire_size
from impl.sim.timers import Timers

__all__ = [
    "Deadlock",
    "Endpoint",
    "EventLoop",
    "LabNetwork",
    "NetworkStats",
    "Task",
    "TaskHandle",
    "Timers",
    "WireMessage",
    "wire_size",
]
