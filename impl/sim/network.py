"""The lab network (labrpc, scenarios §1.1) on the event loop, for any sans-I/O nodes.

Theory of operation
-------------------
Nodes exchange one-way messages; each message says whether it is an RPC `request` or the
`reply` that answers one (labrpc's Call is a request and, if all goes well, its reply). The
network applies labrpc's rules in virtual time:

* a request travels over the *end* (caller → server). If that end is disabled or the server is
  dead, the handler never runs and the call fails. When unreliable, a request waits 0–26 ms and
  is then lost with probability 0.1 (the handler does not run);
* a reply travels back over the same end. It is discarded if the end was disabled meanwhile
  (labrpc checks after the handler returns), lost with probability 0.1 when unreliable (the
  handler *has* run — this is what creates duplicate client requests), and, with long
  reordering on, delayed by 200 ms + U(0 .. U(0 .. 2000)) ms with probability 2/3;
* each node has an *incarnation*: a crash ends it, a restart begins a new one. Messages to or
  from an ended incarnation are dropped on arrival, so a dead instance can neither acknowledge
  nor be told anything (scenarios §1.3);
* a failed call is reported to the caller only if its endpoint asks (`wants_call_failures`),
  after labrpc's delay: 0–6999 ms with long delays on (the Raft tester), else 0–99 ms.

Counters follow labrpc: every request sent adds 1 to `total_rpcs` and its msgpack size to
`total_bytes`; a delivered reply adds its size; `rpc_count[n]` counts requests whose handler ran
at node n (the tester's `rpcCount`); `bytes_sent[n]` and `bytes_received[n]` count the msgpack
bytes of every message node n put on the wire and had delivered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

import msgpack

from impl.sim.loop import EventLoop
from impl.trace import Node, TraceWriter

UNRELIABLE_DROP = 0.1  # labrpc: rand % 1000 < 100, for requests and replies alike
SHORT_DELAY_MAX_MS = 26  # labrpc: rand % 27 ms before an unreliable request is handled
LONG_DELAY_MAX_MS = 6999  # a call over a disabled end fails after this long (long delays on)
SHORT_FAIL_MAX_MS = 99  # ... and after this long with long delays off


class WireMessage(Protocol):
    """What the network needs of a message: its RPC kind, wire form, trace form, one line."""

    rpc: ClassVar[Literal["request", "reply"]]

    def wire(self) -> Any: ...

    def trace(self) -> dict[str, Any]: ...

    def describe(self) -> str: ...


class Endpoint(Protocol):
    """A node's attachment to the network: the driver (host) of one sans-I/O core."""

    def deliver(self, src: Node, message: Any, msg_id: int) -> None: ...


@dataclass(slots=True)
class NetworkStats:
    total_rpcs: int = 0
    total_bytes: int = 0
    delivered: int = 0
    dropped: int = 0


def wire_size(message: WireMessage) -> int:
    """Bytes of the msgpack encoding of the message (what labrpc counts with gob)."""
    return len(msgpack.packb(message.wire(), use_bin_type=True))


class LabNetwork:
    """Per-end enable/disable, reliability, long reordering and long delays, counters."""

    def __init__(self, loop: EventLoop, trace: TraceWriter | None = None) -> None:
        self.loop = loop
        self.trace = trace if trace is not None else TraceWriter.disabled()
        self.reliable = True
        self.long_reordering = False
        self.long_delays = False
        self.drop_rate = UNRELIABLE_DROP  # applies to requests and replies when unreliable
        # Transit time of every delivered message. labrpc's is ~0 and so is the Raft tester's;
        # the KV tester sets a few ms so that clerks' calls take virtual time (section 1.1).
        self.latency_ms = 0
        self.stats = NetworkStats()
        self.rpc_count: dict[Node, int] = {}
        self.bytes_sent: dict[Node, int] = {}  # per sender: every message put on the wire
        self.bytes_received: dict[Node, int] = {}  # per receiver: every message delivered
        self._endpoints: dict[Node, Endpoint] = {}
        self._incarnation: dict[Node, int] = {}
        self._alive: dict[Node, bool] = {}
        self._disabled: set[tuple[Node, Node]] = set()
        # Extra transit time of a sender's requests (a fault schedule's `slow`): a request
        # then arrives after replies sent later, the race some flags need. Empty: no draw
        # and no cost, so runs without it are unchanged.
        self.slow: dict[Node, int] = {}
        self._next_id = 0

    # -- membership: attach, crash, restart ------------------------------------------
    def attach(self, node: Node, endpoint: Endpoint) -> None:
        """Attach a (new incarnation of a) node; messages of older incarnations are void."""
        self._incarnation[node] = self._incarnation.get(node, 0) + 1
        self._alive[node] = True
        self._endpoints[node] = endpoint
        self.rpc_count.setdefault(node, 0)

    def detach(self, node: Node) -> None:
        """The node's current incarnation is dead: nothing reaches it or comes from it."""
        self._alive[node] = False
        self._incarnation[node] = self._incarnation.get(node, 0) + 1

    def alive(self, node: Node) -> bool:
        return self._alive.get(node, False)

    # -- ends ------------------------------------------------------------------------
    def enable(self, caller: Node, server: Node, on: bool) -> None:
        """Enable or disable the end from `caller` to `server` (one direction)."""
        if on:
            self._disabled.discard((caller, server))
        else:
            self._disabled.add((caller, server))

    def enabled(self, caller: Node, server: Node) -> bool:
        return (caller, server) not in self._disabled

    def partition(self, groups: Iterable[Iterable[Node]]) -> None:
        """Only nodes in the same group can talk; nodes in no group talk to nobody."""
        group_of: dict[Node, int] = {}
        for number, group in enumerate(groups):
            for node in group:
                group_of[node] = number
        nodes = list(self._incarnation)
        for a in nodes:
            for b in nodes:
                if a != b:
                    same = a in group_of and group_of.get(a) == group_of.get(b)
                    self.enable(a, b, same)

    def set_reliable(self, on: bool) -> None:
        self.reliable = on

    def set_long_reordering(self, on: bool) -> None:
        self.long_reordering = on

    def set_long_delays(self, on: bool) -> None:
        self.long_delays = on

    # -- sending ---------------------------------------------------------------------
    def send(self, src: Node, dst: Node, message: WireMessage) -> int:
        """Put `message` on the network; returns its id (the trace's `id`)."""
        self.loop.charge()  # the watchdog: a node that sends without end stalls the run
        self._next_id += 1
        msg_id = self._next_id
        size = wire_size(message)
        self.bytes_sent[src] = self.bytes_sent.get(src, 0) + size
        trace = self.trace
        if trace.enabled:
            trace.event(src, "send", to=dst, id=msg_id, rpc=message.rpc, bytes=size,
                        msg=message.trace())
        src_inc = self._incarnation.get(src, 0)
        dst_inc = self._incarnation.get(dst, 0)
        rng = self.loop.rng
        if message.rpc == "request":
            self.stats.total_rpcs += 1
            self.stats.total_bytes += size
            if not self.enabled(src, dst) or not self.alive(dst):
                self._drop(msg_id, src, dst, "disconnected" if self.alive(dst) else "dead")
                self._fail_later(src, dst, message, self._fail_delay())
                return msg_id
            delay = self.latency_ms + (self.slow.get(src, 0) if self.slow else 0)
            if not self.reliable:
                delay += rng.randint(0, SHORT_DELAY_MAX_MS)
                if rng.random() < self.drop_rate:
                    self._drop(msg_id, src, dst, "unreliable")
                    self._fail_later(src, dst, message, delay)
                    return msg_id
            self.loop.call_later(delay, self._arrive, msg_id, src, src_inc, dst, dst_inc,
                                 message, size)
            return msg_id
        # A reply: it answers a call made over the end (dst -> src).
        if not self.enabled(dst, src):
            self._drop(msg_id, src, dst, "disconnected")
            return msg_id
        if not self.reliable and rng.random() < self.drop_rate:
            self._drop(msg_id, src, dst, "unreliable")
            return msg_id
        delay = self.latency_ms
        if self.long_reordering and rng.randint(0, 899) < 600:
            delay += 200 + rng.randint(0, rng.randint(0, 1999))
        self.loop.call_later(delay, self._arrive, msg_id, src, src_inc, dst, dst_inc,
                             message, size)
        return msg_id

    def _arrive(self, msg_id: int, src: Node, src_inc: int, dst: Node, dst_inc: int,
                message: WireMessage, size: int) -> None:
        if self._incarnation.get(dst) != dst_inc or not self._alive.get(dst, False):
            self._drop(msg_id, src, dst, "dead")
            return
        if self._incarnation.get(src) != src_inc:
            # The sender's instance died after sending: labrpc disables its ends at a crash.
            self._drop(msg_id, src, dst, "dead")
            return
        if message.rpc == "request":
            self.rpc_count[dst] = self.rpc_count.get(dst, 0) + 1
        else:
            self.stats.total_bytes += size  # labrpc counts a reply's bytes on delivery
        self.stats.delivered += 1
        self.bytes_received[dst] = self.bytes_received.get(dst, 0) + size
        self._endpoints[dst].deliver(src, message, msg_id)

    def describe_event(self, callback: Any, args: tuple[Any, ...]) -> str | None:
        """One line for the event loop's watchdog: which delivery was running."""
        if getattr(callback, "__func__", None) is LabNetwork._arrive:
            msg_id, src, _, dst, _, message, _ = args
            return f"the delivery of message {msg_id} from {src} to {dst}: {message.describe()}"
        return None

    def _drop(self, msg_id: int, src: Node, dst: Node, reason: str) -> None:
        self.stats.dropped += 1
        if self.trace.enabled:
            self.trace.event(dst, "drop", **{"from": src}, to=dst, id=msg_id, reason=reason)

    def _fail_delay(self) -> int:
        limit = LONG_DELAY_MAX_MS if self.long_delays else SHORT_FAIL_MAX_MS
        return self.loop.rng.randint(0, limit)

    def _fail_later(self, src: Node, dst: Node, message: WireMessage, delay: int) -> None:
        endpoint = self._endpoints.get(src)
        if endpoint is not None and getattr(endpoint, "wants_call_failures", False):
            inc = self._incarnation.get(src)
            self.loop.call_later(delay, self._report_failure, src, inc, dst, message)

    def _report_failure(self, src: Node, inc: int, dst: Node, message: WireMessage) -> None:
        if self._incarnation.get(src) == inc and self._alive.get(src, False):
            self._endpoints[src].call_failed(dst, message)  # type: ignore[attr-defined]
