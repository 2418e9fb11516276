"""The lab's shard controller tester (shardctrler's config.go and test_test.go helpers,
scenarios §5) in virtual time.

`CtrlTester` owns a simulated controller: 3 servers on a reliable lab network (long delays off,
as in the kv testers), one persister slot each, no snapshots, and the helpers the lab's tests
are written with — `make_clerk`, `shutdown_server`, `start_server`, `leader`, the pass line
(`begin`/`end`), and the two checks of section 5.2: `check(ck, gids)` and
`check_same_config(a, b)`.

Beyond the lab, it watches every apply at every server: replicas must apply the same call at
the same index, with the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from impl.kv.history import NS_PER_MS
from impl.kv.labtester import LATENCY_MS, TEST_BUDGET_MS, Summary
from impl.kv.tasks import KvTask, block
from impl.rsm.clerk import ClerkConfig
from impl.rsm.effects import Applied
from impl.rsm.server import ServerConfig
from impl.shardctrler.machine import QUERY
from impl.shardctrler.node import ControllerCluster, CtrlClerkNode, CtrlServerNode
from impl.sim.faults import Fault, fault_of
from impl.sim.loop import EventLoop
from impl.sim.network import LabNetwork
from impl.trace import Node, TraceWriter
from spec.shardctrler import Configuration

SERVERS = 3
# The lab's skeleton clerk sleeps 100 ms after a round of servers that did not answer.
CLERK = ClerkConfig(rpc_timeout_ms=400, retry_pause_ms=100)


@dataclass(slots=True)
class CtrlCall:
    """One controller clerk call of a run: kind and argument (spec.sequential_shardctrler's
    model inputs), virtual times in ns (the clock times 10^6 plus the event's rank within its
    millisecond), and the output (a configuration; None or a refusal's reason for a change).
    `returned` is None while the call is in flight."""

    clerk: int
    seq: int
    f: str
    arg: Any
    invoked: int
    returned: int | None = None
    output: Any = None


class CtrlTestFailure(AssertionError):
    """A lab check failed; the message is the lab's."""


class Counting(Protocol):
    """What a clerk handle needs of its tester: a call counter, and the failure to raise."""

    ops: int

    def fail(self, message: str) -> AssertionError: ...


class CtrlHandle:
    """The tester's handle on one controller clerk: its calls are tasks
    (`config = yield from ck.query(-1)`)."""

    def __init__(self, tester: Counting, node: CtrlClerkNode) -> None:
        self.tester = tester
        self.node = node

    def join(self, groups: Mapping[int, Iterable[str]]) -> KvTask[None]:
        self.tester.ops += 1
        refused = yield self.node.join(groups)
        self._accepted("Join", refused)

    def leave(self, gids: Iterable[int]) -> KvTask[None]:
        self.tester.ops += 1
        refused = yield self.node.leave(gids)
        self._accepted("Leave", refused)

    def move(self, shard: int, gid: int) -> KvTask[None]:
        self.tester.ops += 1
        refused = yield self.node.move(shard, gid)
        self._accepted("Move", refused)

    def query(self, num: int = -1) -> KvTask[Configuration]:
        self.tester.ops += 1
        config = yield self.node.query(num)
        assert isinstance(config, Configuration)
        return config

    def _accepted(self, what: str, refused: Any) -> None:
        if refused is not None:
            raise self.tester.fail(f"{what} refused by the controller: {refused}")


class CtrlTester:
    def __init__(self, n: int = SERVERS, *, seed: int = 1, trace: TraceWriter | None = None,
                 scenario: str = "", latency_ms: int = LATENCY_MS) -> None:
        if n < 1:
            raise ValueError("a controller needs at least one server")
        self.n = n
        self.loop = EventLoop(seed)
        self.rng = self.loop.rng
        self.trace = trace if trace is not None else TraceWriter.disabled()
        self.trace.set_clock(lambda: self.loop.now)
        server_config = ServerConfig()
        self.names: tuple[str, ...] = tuple(f"ctrler{i}" for i in range(n))
        self.trace.header("shardctrler", {
            "servers": list(self.names), "unreliable": False, "maxraftstate": -1,
            "scenario": scenario, "latency_ms": latency_ms,
            "election_timeout_ms": list(server_config.raft.election_timeout_ms),
            "heartbeat_ms": server_config.raft.heartbeat_ms,
            "clerk_rpc_timeout_ms": CLERK.rpc_timeout_ms}, seed, generator="dscheck-sim")
        self.net = LabNetwork(self.loop, self.trace)
        self.net.latency_ms = latency_ms
        self.net.set_long_delays(False)
        self.cluster = ControllerCluster(self.net, self.names, server_config, self)
        self._next_clerk = 1000
        #: What each log index held and what applying it gave, by whichever replica applied
        #: it first: every other replica must agree.
        self._at_index: dict[int, tuple[Any, Any]] = {}
        self.ops = 0
        self.applies = 0
        #: every clerk call, in invocation order (the history checker.shardctrler.audit reads)
        self.history: list[CtrlCall] = []
        self._pending: dict[int, CtrlCall] = {}
        #: (clerk, seq) of a change -> the index where it took effect (or was refused)
        self._executed: dict[tuple[int, int], int] = {}
        #: (clerk, seq) of a query -> (index, configuration read) of every application of it
        self._reads: dict[tuple[int, int], list[tuple[int, Any]]] = {}
        self._stamp_ms = -1
        self._stamp_k = 0
        self.t0 = 0
        self.rpcs0 = 0
        self.ops0 = 0
        self.title = ""
        for i in range(n):
            self.cluster.start(i)

    # -- running -----------------------------------------------------------------------
    def run(self, task: KvTask[Any]) -> Any:
        return block(self.loop, task)

    @property
    def now(self) -> int:
        return self.loop.now

    def fail(self, message: str) -> CtrlTestFailure:
        return CtrlTestFailure(f"{message} (seed {self.loop.seed}, t={self.loop.now} ms)")

    def fault(self, error: BaseException) -> Fault:
        """`error`, raised out of a run by a server or a clerk (or the watchdog), as a
        finding (impl.sim.faults)."""

        def node_of(obj: object) -> Node | None:
            if isinstance(obj, CtrlClerkNode):
                return obj.name
            return obj.id if isinstance(obj, CtrlServerNode) else None

        return fault_of(error, self.loop, self.trace, node_of)

    # -- what the servers report (impl.shardctrler.node.CtrlObserver) -------------------
    def ctrl_applied(self, server: Node, event: Applied) -> None:
        self.applies += 1
        seen = self._at_index.get(event.index)
        if seen is None:
            self._at_index[event.index] = (event.op, event.outcome)
            op, outcome = event.op, event.outcome
            call = (op.clerk, op.seq)
            if op.kind == QUERY:
                self._reads.setdefault(call, []).append((event.index, outcome.config))
            elif outcome.executed:
                self._executed.setdefault(call, event.index)
        elif seen != (event.op, event.outcome):
            raise self.fail(f"server {server} applied {list(event.op)} at index {event.index} "
                            f"with {event.outcome}, where another server applied "
                            f"{list(seen[0])} with {seen[1]}")

    def stamp(self) -> int:
        """Virtual ns, strictly increasing: the clock, and the event's rank within its ms."""
        now = self.loop.now
        if now != self._stamp_ms:
            self._stamp_ms, self._stamp_k = now, 0
        self._stamp_k += 1
        return now * NS_PER_MS + self._stamp_k

    # -- what the clerks report (impl.shardctrler.node.CallObserver) ---------------------
    def ctrl_invoked(self, clerk: int, seq: int, f: str, arg: Any) -> None:
        call = CtrlCall(clerk, seq, f, arg, self.stamp())
        self.history.append(call)
        self._pending[clerk] = call

    def ctrl_returned(self, clerk: int, output: Any) -> None:
        call = self._pending.pop(clerk)
        call.returned, call.output = self.stamp(), output

    def witness(self) -> dict[tuple[int, int], int]:
        """The order the controller claims: for each call that took effect, its log index —
        a change's first execution, a query's application whose read is what the clerk got
        (or, in flight at the end, its first). A checker may verify this order as a
        linearization; it is a claim to check, never evidence by itself."""
        order: dict[tuple[int, int], int] = {}
        for call in self.history:
            ident = (call.clerk, call.seq)
            if call.f != "query":
                if ident in self._executed:
                    order[ident] = self._executed[ident]
                continue
            for index, config in self._reads.get(ident, ()):
                if call.returned is None or config == call.output:
                    order[ident] = index
                    break
        return order

    # -- clerks and servers --------------------------------------------------------------
    def make_clerk(self) -> CtrlHandle:
        """A clerk that knows every server, in an order drawn at random (the lab shuffles
        the ends)."""
        clerk_id = self._next_clerk
        self._next_clerk += 1
        order = list(self.names)
        self.rng.shuffle(order)
        return CtrlHandle(self, CtrlClerkNode(f"ck{clerk_id}", clerk_id, order, self.net,
                                              CLERK, observer=self))

    def shutdown_server(self, i: int) -> None:
        self.cluster.shutdown(i)

    def start_server(self, i: int) -> None:
        self.cluster.start(i)

    def leader(self) -> tuple[bool, int]:
        found = self.cluster.leader()
        return (False, 0) if found is None else (True, found)

    # -- the lab's checks (scenarios §5.2) -----------------------------------------------
    def check(self, ck: CtrlHandle, groups: Iterable[int]) -> KvTask[Configuration]:
        """Query(-1) has exactly `groups`; every shard is on a present group (if any);
        over the present groups, shard counts differ by at most one."""
        c = yield from ck.query(-1)
        wanted = sorted(groups)
        if sorted(c.gids) != wanted:
            raise self.fail(f"wanted {len(wanted)} groups, got {len(c.gids)}: "
                            f"{list(c.gids)} instead of {wanted}")
        if wanted:
            for shard, gid in enumerate(c.shards):
                if gid not in c.gids:
                    raise self.fail(f"shard {shard} -> invalid group {gid}")
            counts = {gid: 0 for gid in c.gids}
            for gid in c.shards:
                counts[gid] += 1
            if max(counts.values()) > min(counts.values()) + 1:
                raise self.fail(f"max {max(counts.values())} too much larger than min "
                                f"{min(counts.values())}")
        return c

    def check_same_config(self, a: Configuration, b: Configuration) -> None:
        """Equal number, shards, groups and server lists (in order)."""
        if a.num != b.num:
            raise self.fail(f"num wrong: {a.num} vs {b.num}")
        if a.shards != b.shards:
            raise self.fail(f"shards wrong: {list(a.shards)} vs {list(b.shards)}")
        if a.groups != b.groups:
            raise self.fail(f"groups wrong: {a.groups} vs {b.groups}")

    # -- the pass line -------------------------------------------------------------------
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
