"""A `steps` schedule played on the simulator: one exact interleaving, nothing else.

This is how a model checker's counterexample of the Raft cores is replayed for real: the same
`RaftNode` drivers, persisters and trace writer as every simulated run, on a network that
holds every message until the schedule delivers, duplicates or drops it, with timers that
fire only when the schedule fires them (and only if armed). Each step advances virtual time
by one millisecond. A step that cannot be taken — a message that is not in flight, a timer
not armed, a dead node — is bad input naming the schedule's line.

The service on each server is the model checker's: it keeps the (term, command) pairs it was
handed by index, snapshots exactly those (one byte each) when the schedule says `snapshot`,
and restores them from the snapshot on restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from impl.raft.bugs import bug_config, check_bugs
from impl.raft.core import CoreImage
from impl.raft.effects import ApplyCommand, ApplyMsg
from impl.raft.messages import Message
from impl.raft.node import RaftNode
from impl.raft.persister import Persister
from impl.sim.loop import EventLoop
from impl.sim.network import LabNetwork, WireMessage
from impl.sim.schedule import Schedule, wire_json
from impl.trace import Node, TraceWriter
from spec.errors import BadInput


class HeldNetwork(LabNetwork):
    """The lab network's bookkeeping and trace, but a message stays in flight until the
    schedule takes it: `take` delivers it (keeping a copy for a duplicate), `drop` loses it.
    Messages to a dead server, and those of a server that crashed, are lost as labrpc loses
    them."""

    def __init__(self, loop: EventLoop, trace: TraceWriter) -> None:
        super().__init__(loop, trace)
        self.held: list[tuple[int, Node, Node, Any]] = []

    def send(self, src: Node, dst: Node, message: WireMessage) -> int:
        self._next_id += 1
        msg_id = self._next_id
        if self.trace.enabled:
            self.trace.event(src, "send", to=dst, id=msg_id, rpc=message.rpc, bytes=0,
                             msg=message.trace())
        if not self.alive(dst):
            self._drop(msg_id, src, dst, "dead")
        else:
            self.held.append((msg_id, src, dst, message))
        return msg_id

    def find(self, src: int, dst: int, wire: Any) -> int | None:
        for k, (_, s, d, message) in enumerate(self.held):
            if s == src and d == dst and wire_json(message.wire()) == wire:
                return k
        return None

    def take(self, k: int, keep: bool) -> None:
        msg_id, src, dst, message = self.held[k] if keep else self.held.pop(k)
        self._endpoints[dst].deliver(src, message, msg_id)

    def lose(self, k: int, reason: str) -> None:
        msg_id, src, dst, _ = self.held.pop(k)
        self._drop(msg_id, src, dst, reason)

    def detach(self, node: Node) -> None:
        super().detach(node)
        for k in reversed(range(len(self.held))):
            if node in (self.held[k][1], self.held[k][2]):
                self.lose(k, "dead")


@dataclass
class _Service:
    """The model checker's service: (term, command) pairs by index, as handed over."""

    applied: list[tuple[int, Any]] = field(default_factory=list)
    gap: bool = False

    def apply(self, msg: ApplyMsg) -> None:
        if isinstance(msg, ApplyCommand):
            if msg.index <= len(self.applied):
                self.applied[msg.index - 1] = (msg.term, msg.command)
                return
            if msg.index > len(self.applied) + 1:
                self.gap = True
                self.applied.extend([(0, 0)] * (msg.index - len(self.applied) - 1))
            self.applied.append((msg.term, msg.command))
        else:
            self.applied = list(snapshot_pairs(msg.data))


def snapshot_bytes(applied: list[tuple[int, Any]]) -> bytes:
    return bytes(x for pair in applied for x in pair)


def snapshot_pairs(data: bytes) -> list[tuple[int, int]]:
    return [(data[k], data[k + 1]) for k in range(0, len(data) - 1, 2)]


@dataclass(frozen=True)
class Observation:
    """The cluster after a step: each server's core image (None: crashed), what it
    persisted, what its service holds, and the messages in flight as (src, dst, message)."""

    cores: tuple[CoreImage | None, ...]
    persisted: tuple[Any, ...]
    applied: tuple[tuple[tuple[int, Any], ...], ...]
    gaps: tuple[bool, ...]
    in_flight: tuple[tuple[int, int, Message], ...]


@dataclass
class StepsRun:
    """A played `steps` schedule: one observation before the first step and after each."""

    observations: list[Observation]
    trace: TraceWriter


def play_steps(schedule: Schedule, trace: TraceWriter | None = None) -> StepsRun:
    """Play a `steps` schedule; BadInput (with the schedule's line) for a step that cannot
    be taken."""
    if schedule.kind != "steps":
        raise ValueError("play_steps plays a steps schedule")
    try:
        bugs = check_bugs(schedule.bugs)
    except ValueError as error:
        raise BadInput(f"bugs: {error}", schedule.path, 1) from None
    n = schedule.servers
    loop = EventLoop(0)
    trace = trace if trace is not None else TraceWriter(keep=True)
    trace.set_clock(lambda: loop.now)
    config = bug_config(bugs)
    header: dict[str, Any] = {"servers": n, "unreliable": False, "snapshot": False,
                              "scenario": "schedule",
                              "election_timeout_ms": list(config.election_timeout_ms),
                              "heartbeat_ms": config.heartbeat_ms}
    if bugs:
        header["bugs"] = sorted(bugs)
    trace.header("raft", header, None, generator="dscheck-sim")
    net = HeldNetwork(loop, trace)
    disks = [Persister() for _ in range(n)]
    services = [_Service() for _ in range(n)]
    nodes: list[RaftNode | None] = [None] * n

    def boot(i: int) -> None:
        services[i] = _Service(applied=snapshot_pairs(disks[i].read_snapshot()))
        nodes[i] = RaftNode(i, range(n), net, disks[i], services[i].apply, config, bugs=bugs)

    for i in range(n):
        boot(i)
    observations = [_observe(nodes, disks, services, net)]
    for k, step in enumerate(schedule.items):
        loop.now = k + 1
        _play(step, nodes, disks, services, net, boot, schedule, k)
        observations.append(_observe(nodes, disks, services, net))
    return StepsRun(observations, trace)


def _play(step: dict[str, Any], nodes: list[RaftNode | None], disks: list[Persister],
          services: list[_Service], net: HeldNetwork, boot: Any, schedule: Schedule,
          k: int) -> None:
    op = step["op"]

    def bad(what: str) -> BadInput:
        return BadInput(f"step {k + 1} ({op}): {what}", schedule.path, schedule.line_of(k))

    if op in ("deliver", "duplicate", "drop"):
        found = net.find(step["from"], step["to"], step["msg"])
        if found is None:
            raise bad(f"that message from {step['from']} to {step['to']} is not in flight")
        if op == "drop":
            net.lose(found, "schedule")
        else:
            net.take(found, keep=op == "duplicate")
        return
    i = step["node"]
    node = nodes[i]
    if op == "restart":
        if node is not None:
            raise bad(f"node {i} is running")
        boot(i)
        return
    if node is None:
        raise bad(f"node {i} is crashed")
    if op == "crash":
        node.kill()
        net.detach(i)
        nodes[i] = None
        disks[i] = disks[i].copy()  # the dead instance's later saves go nowhere
        if net.trace.enabled:
            net.trace.event(i, "crash")
    elif op == "timer":
        if not node.timers.armed(step["timer"]):
            raise bad(f"node {i}'s {step['timer']} timer is not armed")
        node.timers.fire_now(step["timer"])
    elif op == "start":
        node.start(step["command"])
    elif op == "snapshot":
        index = step["index"]
        node.snapshot(index, snapshot_bytes(services[i].applied[:index]))


def _observe(nodes: list[RaftNode | None], disks: list[Persister], services: list[_Service],
             net: HeldNetwork) -> Observation:
    return Observation(
        cores=tuple(None if node is None else node.core.image() for node in nodes),
        persisted=tuple((d.restore(), d.read_snapshot()) for d in disks),
        applied=tuple(tuple(s.applied) for s in services),
        gaps=tuple(s.gap for s in services),
        in_flight=tuple((int(src), int(dst), m) for _, src, dst, m in net.held))
