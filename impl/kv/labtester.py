"""The lab's key/value tester (kvraft's config.go, scenarios §4.1) in virtual time.

`KVTester` owns a simulated service: n servers on the lab network (long delays off, so calls
to unreachable servers fail within 0–99 ms), one persister slot per server, the clerks, and
the helpers the lab's tests are written with — `make_client(to)`, `delete_client`,
`connect_client`, `disconnect_client`, `partition(p1, p2)` (server links only: clerks' links
are separate), `connect_all`, `shutdown_server`, `start_server`, `leader`, `make_partition`,
`log_size`, `snapshot_size`, and the pass line (`begin`/`end`).

Beyond the lab, it watches every apply at every server: replicas must apply the same call at
the same index, and a call (clerk, seq) may execute at one index only — a call executed twice
fails the run at once. With `read_index`, the servers answer gets by ReadIndex (Raft thesis
§6.4) and the tester records each such read: where it read, and what. It records every clerk call's invoke and return as a `History`; what
the servers executed settles the calls still in flight when a run ends (impl.kv.history).

Each message takes `latency_ms` of virtual time in transit. labrpc's is about zero, but a
simulator needs calls to take time: with none, the clients' loops would never let the clock
move. With the default 3 ms a call on a healthy cluster takes four transits (clerk → leader
→ followers → leader → clerk), 12 ms, a little more when it waits for the batch in flight:
well inside the 33 ms per call of the speed tests, and few enough calls that the whole
suite, with its linearizability checks, runs in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from impl.kv.clerk import ClerkConfig
from impl.kv.effects import Applied, Read
from impl.kv.history import NS_PER_MS, Execution, History
from impl.kv.machine import APPEND, GET, PUT, Op
from impl.kv.node import ClerkNode, KVClerkNode, ServerNode
from impl.kv.server import ServerConfig
from impl.kv.tasks import KvTask, block
from impl.raft.core import RaftConfig
from impl.raft.persister import Persister
from impl.sim.faults import Fault, fault_of
from impl.sim.loop import EventLoop
from impl.sim.network import LabNetwork
from impl.trace import TraceWriter

ELECTION_TIMEOUT_MS = 1000  # the kv tester's electionTimeout
TEST_BUDGET_MS = 120_000  # "test took longer than 120 seconds" (virtual time here)
LATENCY_MS = 3


class KVTestFailure(AssertionError):
    """A lab check failed; the message is the lab's."""


@dataclass(frozen=True, slots=True)
class Summary:
    """The lab's pass line: title, seconds, peers, RPCs (clerks' included), clerk calls."""

    title: str
    virtual_ms: int
    peers: int
    rpcs: int
    ops: int

    def line(self) -> str:
        return (f"{self.title} ... Passed -- {self.virtual_ms / 1000:5.1f} {self.peers} "
                f"{self.rpcs:5d} {self.ops:4d}")


class Counted(Protocol):
    """What a clerk handle needs of its tester: the count of calls made."""

    ops: int


N = TypeVar("N", bound=KVClerkNode)


class ClerkHandle(Generic[N]):
    """The tester's handle on one clerk (of the key/value service or the sharded one): its
    calls are tasks (`v = yield from ck.get(k)`)."""

    def __init__(self, tester: Counted, node: N) -> None:
        self.tester = tester
        self.node = node

    @property
    def id(self) -> int:
        return self.node.id

    def get(self, key: str) -> KvTask[str]:
        self.tester.ops += 1
        value = yield self.node.call(GET, key)
        assert isinstance(value, str)
        return value

    def put(self, key: str, value: str) -> KvTask[None]:
        self.tester.ops += 1
        yield self.node.call(PUT, key, value)

    def append(self, key: str, value: str) -> KvTask[None]:
        self.tester.ops += 1
        yield self.node.call(APPEND, key, value)


def _node_of(obj: object) -> int | str | None:
    if isinstance(obj, ServerNode):
        return obj.id
    if isinstance(obj, ClerkNode):
        return obj.name
    return None


class KVTester:
    def __init__(
        self,
        n: int,
        *,
        unreliable: bool = False,
        maxraftstate: int = -1,
        seed: int = 1,
        trace: TraceWriter | None = None,
        scenario: str = "",
        raft: RaftConfig | None = None,
        clerk: ClerkConfig | None = None,
        latency_ms: int = LATENCY_MS,
        read_index: bool = False,
    ) -> None:
        if n < 1:
            raise ValueError("a key/value service needs at least one server")
        self.n = n
        self.loop = EventLoop(seed)
        self.rng = self.loop.rng
        self.trace = trace if trace is not None else TraceWriter.disabled()
        self.trace.set_clock(lambda: self.loop.now)
        self.server_config = (
            ServerConfig(maxraftstate=maxraftstate, read_index=read_index) if raft is None
            else ServerConfig(maxraftstate=maxraftstate, raft=raft, read_index=read_index))
        self.clerk_config = clerk or ClerkConfig()
        self.maxraftstate = maxraftstate
        raft_config = self.server_config.raft
        header: dict[str, Any] = {
            "servers": n, "unreliable": unreliable, "maxraftstate": maxraftstate,
            "scenario": scenario, "latency_ms": latency_ms,
            "election_timeout_ms": list(raft_config.election_timeout_ms),
            "heartbeat_ms": raft_config.heartbeat_ms,
            "clerk_rpc_timeout_ms": self.clerk_config.rpc_timeout_ms}
        if read_index:
            header["read_index"] = True
        if raft_config.parallel_write:
            header["parallel_write"] = True
        self.trace.header("kv", header, seed, generator="dscheck-sim")
        self.net = LabNetwork(self.loop, self.trace)
        self.net.latency_ms = latency_ms
        self.net.set_long_delays(False)  # the kv tester: clerks cycle through servers quickly
        self.servers: list[ServerNode | None] = [None] * n
        self.saved: list[Persister | None] = [None] * n
        self.clerks: dict[int, ClerkHandle[ClerkNode]] = {}
        self._next_clerk = n + 1000  # clerk ids start 1000 above the highest server id
        self.history = History()
        #: (clerk, seq) -> where it first executed; settles in-flight calls at the end.
        self.executed: dict[tuple[int, int], Execution] = {}
        #: What each log index held and what applying it gave (a get's value), by whichever
        #: replica applied it first: every other replica must agree.
        self._at_index: dict[int, tuple[Op, str | None]] = {}
        #: (clerk, seq) of a get -> every index it was applied at (a retried get can be in
        #: the log more than once; its answer comes from one of them).
        self._get_indices: dict[tuple[int, int], list[int]] = {}
        #: (clerk, seq) of a get -> every ReadIndex read of it: where, and what it read.
        self._reads: dict[tuple[int, int], list[Execution]] = {}
        self.ops = 0
        self.applies = 0
        self.reads = 0
        self._stamp_ms = -1
        self._stamp_k = 0
        self.t0 = 0
        self.rpcs0 = 0
        self.ops0 = 0
        self.title = ""
        for i in range(n):
            self.start_server(i)
        self.connect_all()
        self.net.set_reliable(not unreliable)

    # -- running -----------------------------------------------------------------------
    def run(self, task: KvTask[Any]) -> Any:
        return block(self.loop, task)

    @property
    def now(self) -> int:
        return self.loop.now

    def stamp(self) -> int:
        """Virtual ns, strictly increasing: the clock, and the event's rank within its ms."""
        now = self.loop.now
        if now != self._stamp_ms:
            self._stamp_ms, self._stamp_k = now, 0
        self._stamp_k += 1
        return now * NS_PER_MS + self._stamp_k

    def fail(self, message: str) -> KVTestFailure:
        return KVTestFailure(f"{message} (seed {self.loop.seed}, t={self.loop.now} ms)")

    def fault(self, error: BaseException) -> Fault:
        """`error`, raised out of a run by a server or a clerk (or the watchdog), as a
        finding (impl.sim.faults)."""
        return fault_of(error, self.loop, self.trace, _node_of)

    # -- what the servers and clerks report (impl.kv.node.Observer) ----------------------
    def applied(self, server: int, event: Applied) -> None:
        self.applies += 1
        op, output = event.op, event.outcome.output
        seen = self._at_index.get(event.index)
        if seen is None:
            self._at_index[event.index] = (op, output)
            if op.kind == GET:
                self._get_indices.setdefault((op.clerk, op.seq), []).append(event.index)
        elif seen[0] != op:
            raise self.fail(f"server {server} applied {list(op)} at index {event.index}, "
                            f"where another server applied {list(seen[0])}")
        elif seen[1] != output:
            raise self.fail(f"server {server} read {output!r} for {list(op)} at index "
                            f"{event.index}, where another server read {seen[1]!r}")
        if event.outcome.executed:
            call = (op.clerk, op.seq)
            first = self.executed.get(call)
            if first is None:
                self.executed[call] = Execution(event.index, event.outcome.output, self.stamp())
            elif first.index != event.index:
                raise self.fail(f"call {op.seq} of clerk {op.clerk} executed twice: at index "
                                f"{first.index} and, on server {server}, at {event.index}")

    def read(self, server: int, event: Read) -> None:
        self.reads += 1
        op = event.op
        self._reads.setdefault((op.clerk, op.seq), []).append(
            Execution(event.index, event.outcome.output, self.stamp()))

    def invoked(self, clerk: int, seq: int, f: str, key: str, value: str | None) -> None:
        self.history.invoke(clerk, seq, f, key, value, self.stamp())

    def returned(self, clerk: int, output: str | None) -> None:
        self.history.complete(clerk, output, self.stamp())

    # -- clerks --------------------------------------------------------------------------
    def make_client(self, to: list[int]) -> ClerkHandle[ClerkNode]:
        """A clerk that can reach the servers in `to` (the lab's makeClient); it knows all
        servers, in an order drawn at random (the lab shuffles the ends)."""
        clerk_id = self._next_clerk
        self._next_clerk += 1
        order = list(range(self.n))
        self.rng.shuffle(order)
        node = ClerkNode(f"ck{clerk_id}", clerk_id, order, self.net, self, self.clerk_config)
        ck = ClerkHandle(self, node)
        self.clerks[clerk_id] = ck
        self.connect_client(ck, to)
        return ck

    def delete_client(self, ck: ClerkHandle[ClerkNode]) -> None:
        self.net.detach(ck.node.name)
        ck.node.timers.stop()
        del self.clerks[ck.id]

    def connect_client(self, ck: ClerkHandle[ClerkNode], to: list[int]) -> None:
        for server in range(self.n):
            self.net.enable(ck.node.name, server, server in to)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="connect_client",
                             args={"client": ck.node.name, "servers": sorted(to)})

    def disconnect_client(self, ck: ClerkHandle[ClerkNode], frm: list[int]) -> None:
        for server in frm:
            self.net.enable(ck.node.name, server, False)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="disconnect_client",
                             args={"client": ck.node.name, "servers": sorted(frm)})

    # -- servers: links, crashes, restarts (scenarios §1.3, §4.1) -------------------------
    def _link(self, i: int, others: list[int], on: bool) -> None:
        for j in others:
            if j != i:
                self.net.enable(i, j, on)
                self.net.enable(j, i, on)

    def connect_all(self) -> None:
        for i in range(self.n):
            self._link(i, list(range(self.n)), True)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="partition",
                             args={"groups": [list(range(self.n))]})

    def partition(self, p1: list[int], p2: list[int]) -> None:
        """Servers talk only within their half; clerks' links are untouched."""
        for group, other in ((p1, p2), (p2, p1)):
            for i in group:
                self._link(i, other, False)
                self._link(i, group, True)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="partition",
                             args={"groups": [sorted(p1), sorted(p2)]})

    def shutdown_server(self, i: int) -> None:
        self._link(i, list(range(self.n)), False)
        self.net.detach(i)  # calls in flight to it fail, its replies are void
        saved = self.saved[i]
        if saved is not None:
            self.saved[i] = saved.copy()  # the dead instance's later saves go nowhere
        server = self.servers[i]
        if server is not None:
            server.kill()
            self.servers[i] = None
            if self.trace.enabled:
                self.trace.event(i, "crash")

    def start_server(self, i: int) -> None:
        """Start server i from its persisted state (not connected: call connect_all)."""
        self.shutdown_server(i)
        saved = self.saved[i]
        self.saved[i] = saved = saved.copy() if saved is not None else Persister()
        self.servers[i] = ServerNode(i, range(self.n), self.net, saved, self.server_config,
                                     self)
        self._link(i, list(range(self.n)), False)

    def leader(self) -> tuple[bool, int]:
        for i, server in enumerate(self.servers):
            if server is not None and server.core.is_leader:
                return True, i
        return False, 0

    def make_partition(self) -> tuple[list[int], list[int]]:
        """A majority without the leader, and a minority holding it (the lab's)."""
        _, leader = self.leader()
        p1 = [i for i in range(self.n) if i != leader][: self.n // 2 + 1]
        p2 = [i for i in range(self.n) if i != leader and i not in p1] + [leader]
        return p1, p2

    def set_unreliable(self, unreliable: bool) -> None:
        self.net.set_reliable(not unreliable)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="reliable", args={"on": not unreliable})

    # -- sizes, counters, the pass line --------------------------------------------------
    def log_size(self) -> int:
        return max((p.raft_state_size() for p in self.saved if p is not None), default=0)

    def max_index_applied(self) -> int:
        """The highest log index any replica applied a call at: how far the log grew."""
        return max(self._at_index, default=0)

    def snapshot_size(self) -> int:
        return max((p.snapshot_size() for p in self.saved if p is not None), default=0)

    def rpc_total(self) -> int:
        return self.net.stats.total_rpcs

    def begin(self, title: str) -> None:
        self.title = title
        self.t0 = self.loop.now
        self.rpcs0 = self.rpc_total()
        self.ops0 = self.ops

    def end(self) -> Summary:
        if self.loop.now - self.t0 > TEST_BUDGET_MS:
            raise self.fail("test took longer than 120 seconds")
        return Summary(self.title, self.loop.now - self.t0, self.n,
                       self.rpc_total() - self.rpcs0, self.ops - self.ops0)

    def witness(self) -> dict[tuple[int, int], int]:
        """The order the service claims: for each call of the history that took effect, its
        place — twice the log index where it did (a write's first execution, a get's
        application whose read is the value the clerk got, or, settled, its first), or, for
        a ReadIndex read, twice the index it read at plus one (after that entry, before the
        next). A checker may verify this order as a linearization; it is a claim to check,
        never evidence by itself."""
        order: dict[tuple[int, int], int] = {}
        for call in self.history.calls:
            ident = (call.clerk, call.seq)
            reads = self._reads.get(ident, ())
            if reads:  # a get served by ReadIndex (never also through the log)
                chosen = next((r for r in reads if r.output == call.output), reads[0])
                if call.returned is None or call.settled:
                    chosen = reads[0]
                order[ident] = 2 * chosen.index + 1
                continue
            first = self.executed.get(ident)
            if first is None:
                continue
            if call.f != GET or call.returned is None or call.settled:
                order[ident] = 2 * first.index
                continue
            for index in self._get_indices.get(ident, ()):
                if self._at_index[index][1] == call.output:
                    order[ident] = 2 * index
                    break
        return order

    def settle(self) -> tuple[int, int]:
        """Settle the calls still in flight from what the servers executed, or read by
        ReadIndex; returns the (settled, unknown) counts. Call it when the run is over."""
        first_reads = {ident: reads[0] for ident, reads in self._reads.items()}
        return self.history.settle({**first_reads, **self.executed})
