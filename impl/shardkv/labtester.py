"""The lab's sharded key/value tester (shardkv's config.go, scenarios §6.1) in virtual time.

`ShardTester` owns a simulated sharded service on one lab network (long delays off, so calls
to unreachable servers fail within 0–99 ms; unreliable applies to the controller's traffic
too): the controller's 3 servers ("ctrler0".."ctrler2", fresh persisters, never restarted),
3 replica groups with gids 100, 101 and 102 of `n` servers each ("server-<gid>-<i>"), all
started at setup and none joined, and the helpers the lab's tests are written with —
`join`/`leave` and `joinm`/`leavem` through the tester's own controller clerk,
`shutdown_server`, `start_server`, `shutdown_group`, `start_group`, `make_client`,
`checklogs`, and the pass line (`begin`/`end`).

Beyond the lab, it watches every apply at every server: within a group, replicas apply the
same command at the same index with the same outcome; a clerk call (clerk, seq) may execute
at one place only — a group and an index — anywhere in the service, so a call executed again
by the group a shard moved to (a duplicate table not migrated) fails the run at once. It
records every clerk call's invoke and return as a `History` (impl.kv.history); what the
servers executed settles the calls still in flight when a run ends. And a run that would
take longer than the lab's 120 seconds of (virtual) time fails, rather than run on: a
service that lost a shard would keep its clerks retrying forever.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from impl.kv.history import NS_PER_MS, Execution, History
from impl.kv.labtester import LATENCY_MS, TEST_BUDGET_MS, ClerkHandle, Summary
from impl.kv.machine import GET, Op, Outcome
from impl.kv.tasks import KvTask, spawn
from impl.raft.persister import Persister
from impl.rsm.effects import Applied
from impl.rsm.server import ServerConfig
from impl.shardctrler.labtester import CLERK as CTRL_CLERK
from impl.shardctrler.labtester import CtrlHandle
from impl.shardctrler.node import ControllerCluster, CtrlClerkNode, CtrlServerNode
from impl.shardkv.clerk import ShardClerkConfig
from impl.shardkv.node import ShardClerkNode, ShardServerNode, server_name
from impl.shardkv.server import ShardServerConfig
from impl.sim.faults import Fault, fault_of
from impl.sim.loop import Deadlock, EventLoop
from impl.sim.network import LabNetwork
from impl.trace import Node, TraceWriter

GIDS = (100, 101, 102)
CTRL_SERVERS = 3


class ShardTestFailure(AssertionError):
    """A lab check failed; the message is the lab's."""


#: The tester's handle on one sharded-KV clerk (impl.kv.labtester.ClerkHandle).
ShardClerkHandle = ClerkHandle[ShardClerkNode]


class ShardTester:
    def __init__(
        self,
        n: int = 3,
        *,
        unreliable: bool = False,
        maxraftstate: int = -1,
        seed: int = 1,
        trace: TraceWriter | None = None,
        scenario: str = "",
        latency_ms: int = LATENCY_MS,
        bugs: frozenset[str] = frozenset(),
        gids: Iterable[int] = GIDS,
    ) -> None:
        if n < 1:
            raise ValueError("a replica group needs at least one server")
        self.n = n
        self.gids = tuple(gids)
        self.maxraftstate = maxraftstate
        self.loop = EventLoop(seed)
        self.rng = self.loop.rng
        self.trace = trace if trace is not None else TraceWriter.disabled()
        self.trace.set_clock(lambda: self.loop.now)
        self.server_config = ShardServerConfig(rsm=ServerConfig(maxraftstate=maxraftstate),
                                               bugs=frozenset(bugs))
        self.clerk_config = ShardClerkConfig()
        self.ctrl_names = tuple(f"ctrler{i}" for i in range(CTRL_SERVERS))
        self.names = {gid: tuple(server_name(gid, i) for i in range(n)) for gid in self.gids}
        raft = self.server_config.rsm.raft
        self.trace.header("shardkv", {
            "controllers": list(self.ctrl_names),
            "groups": {str(gid): list(names) for gid, names in self.names.items()},
            "unreliable": unreliable, "maxraftstate": maxraftstate, "scenario": scenario,
            "latency_ms": latency_ms, "election_timeout_ms": list(raft.election_timeout_ms),
            "heartbeat_ms": raft.heartbeat_ms, "poll_ms": self.server_config.poll_ms,
            "clerk_rpc_timeout_ms": self.clerk_config.rpc_timeout_ms,
            "bugs": sorted(bugs)}, seed, generator="dscheck-sim")
        self.net = LabNetwork(self.loop, self.trace)
        self.net.latency_ms = latency_ms
        self.net.set_long_delays(False)
        self.ctrl = ControllerCluster(self.net, self.ctrl_names, ServerConfig(), self)
        for i in range(CTRL_SERVERS):
            self.ctrl.start(i)
        self.servers: dict[int, list[ShardServerNode | None]] = {
            gid: [None] * n for gid in self.gids}
        self.saved: dict[int, list[Persister | None]] = {gid: [None] * n for gid in self.gids}
        self._next_clerk = 1000
        self.history = History()
        #: (clerk, seq) -> where it first executed (time: a stamp); settles in-flight calls.
        self.executed: dict[tuple[int, int], Execution] = {}
        self._executed_at: dict[tuple[int, int], tuple[int, int]] = {}  # -> (gid, index)
        #: per group, what each log index held and what applying it gave, first seen
        self._at_index: dict[int, dict[int, tuple[Any, Any]]] = {gid: {} for gid in self.gids}
        self._ctrl_at_index: dict[int, tuple[Any, Any]] = {}
        #: (clerk, seq) of a get -> (stamp, value read) of every application of it
        self._get_reads: dict[tuple[int, int], list[tuple[int, str | None]]] = {}
        self.ops = 0
        self.applies = 0
        self._stamp_ms = -1
        self._stamp_k = 0
        self.t0 = 0
        self.rpcs0 = 0
        self.ops0 = 0
        self.title = ""
        for gi in range(len(self.gids)):
            for i in range(n):
                self.start_server(gi, i)
        self.mck = self._ctrl_clerk()
        self.net.set_reliable(not unreliable)

    # -- running -----------------------------------------------------------------------
    def run(self, task: KvTask[Any], budget_ms: int = TEST_BUDGET_MS) -> Any:
        """Run `task` to completion in virtual time; more than `budget_ms` fails the run."""
        handle = spawn(self.loop, task, "main")
        deadline = self.loop.now + budget_ms
        loop = self.loop
        while not handle.done:
            if not loop.step():
                raise Deadlock("no events left while the test waits")
            if loop.now > deadline:
                raise self.fail(f"test took longer than {budget_ms // 1000} seconds")
        return handle.result

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

    def fail(self, message: str) -> ShardTestFailure:
        return ShardTestFailure(f"{message} (seed {self.loop.seed}, t={self.loop.now} ms)")

    def fault(self, error: BaseException) -> Fault:
        """`error`, raised out of a run by a server or a clerk (or the watchdog), as a
        finding (impl.sim.faults)."""

        def node_of(obj: object) -> Node | None:
            if isinstance(obj, ShardClerkNode | CtrlClerkNode):
                return obj.name
            if isinstance(obj, ShardServerNode | CtrlServerNode):
                return obj.id
            return None

        return fault_of(error, self.loop, self.trace, node_of)

    # -- what the servers and clerks report ----------------------------------------------
    def ctrl_applied(self, server: Node, event: Applied) -> None:
        seen = self._ctrl_at_index.get(event.index)
        if seen is None:
            self._ctrl_at_index[event.index] = (event.op, event.outcome)
        elif seen != (event.op, event.outcome):
            raise self.fail(f"controller server {server} applied {list(event.op)} at index "
                            f"{event.index}, where another applied {list(seen[0])}")

    def kv_applied(self, gid: int, server: Node, event: Applied) -> None:
        self.applies += 1
        command, outcome = event.op, event.outcome
        at = self._at_index[gid]
        seen = at.get(event.index)
        if seen is None:
            at[event.index] = (command, outcome)
        elif seen != (command, outcome):
            raise self.fail(f"{server} applied {list(command)[:3]}… with {outcome} at index "
                            f"{event.index}, where another server of group {gid} applied "
                            f"{list(seen[0])[:3]}… with {seen[1]}")
        if not isinstance(command, Op) or not isinstance(outcome, Outcome):
            return
        call = (command.clerk, command.seq)
        if command.kind == GET and seen is None:
            self._get_reads.setdefault(call, []).append((self.stamp(), outcome.output))
        if outcome.executed:
            first = self._executed_at.get(call)
            if first is None:
                self._executed_at[call] = (gid, event.index)
                self.executed[call] = Execution(event.index, outcome.output, self.stamp())
            elif first != (gid, event.index):
                raise self.fail(f"call {command.seq} of clerk {command.clerk} executed twice: "
                                f"in group {first[0]} at index {first[1]} and, on {server}, "
                                f"in group {gid} at index {event.index}")

    def invoked(self, clerk: int, seq: int, f: str, key: str, value: str | None) -> None:
        self.history.invoke(clerk, seq, f, key, value, self.stamp())

    def returned(self, clerk: int, output: str | None) -> None:
        self.history.complete(clerk, output, self.stamp())

    # -- the controller --------------------------------------------------------------------
    def _clerk_id(self) -> int:
        self._next_clerk += 1
        return self._next_clerk - 1

    def _ctrl_clerk(self) -> CtrlHandle:
        order = list(self.ctrl_names)
        self.rng.shuffle(order)
        clerk_id = self._clerk_id()
        node = CtrlClerkNode(f"ctrlck{clerk_id}", clerk_id, order, self.net, CTRL_CLERK)
        return CtrlHandle(self, node)

    def join(self, gi: int) -> KvTask[None]:
        yield from self.joinm([gi])

    def joinm(self, gis: Iterable[int]) -> KvTask[None]:
        """Join groups (indexes into `gids`) in one Join."""
        yield from self.mck.join({self.gids[gi]: list(self.names[self.gids[gi]]) for gi in gis})

    def leave(self, gi: int) -> KvTask[None]:
        yield from self.leavem([gi])

    def leavem(self, gis: Iterable[int]) -> KvTask[None]:
        yield from self.mck.leave([self.gids[gi] for gi in gis])

    # -- group servers: crashes and restarts (scenarios §1.3, §6.1) -----------------------
    def shutdown_server(self, gi: int, i: int) -> None:
        gid = self.gids[gi]
        name = self.names[gid][i]
        self.net.detach(name)  # calls in flight to it fail, its replies are void
        saved = self.saved[gid][i]
        if saved is not None:
            self.saved[gid][i] = saved.copy()  # the dead instance's later saves go nowhere
        server = self.servers[gid][i]
        if server is not None:
            server.kill()
            self.servers[gid][i] = None
            if self.trace.enabled:
                self.trace.event(name, "crash")

    def start_server(self, gi: int, i: int) -> None:
        """Start server i of group `gids[gi]` from its persisted state."""
        gid = self.gids[gi]
        self.shutdown_server(gi, i)
        saved = self.saved[gid][i]
        self.saved[gid][i] = saved = saved.copy() if saved is not None else Persister()
        self.servers[gid][i] = ShardServerNode(gid, i, self.names[gid], self.ctrl_names,
                                               self.net, saved, self.server_config,
                                               self._clerk_id(), self)

    def shutdown_group(self, gi: int) -> None:
        for i in range(self.n):
            self.shutdown_server(gi, i)

    def start_group(self, gi: int) -> None:
        for i in range(self.n):
            self.start_server(gi, i)

    def set_unreliable(self, unreliable: bool) -> None:
        self.net.set_reliable(not unreliable)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="reliable", args={"on": not unreliable})

    # -- clerks --------------------------------------------------------------------------
    def make_client(self) -> ShardClerkHandle:
        clerk_id = self._clerk_id()
        node = ShardClerkNode(f"ck{clerk_id}", clerk_id, self.ctrl_names, self.net, self,
                              self.clerk_config)
        return ClerkHandle(self, node)

    def delete_client(self, ck: ShardClerkHandle) -> None:
        self.net.detach(ck.node.name)
        ck.node.timers.stop()

    def check(self, ck: ShardClerkHandle, key: str, value: str) -> KvTask[None]:
        got = yield from ck.get(key)
        if got != value:
            raise self.fail(f"Get({key!r}): expected:\n{value!r}\nreceived:\n{got!r}")

    # -- sizes, counters, the pass line --------------------------------------------------
    def persisters(self) -> list[Persister]:
        return [p for gid in self.gids for p in self.saved[gid] if p is not None]

    def checklogs(self) -> None:
        """Every group server: Raft state at most 8 × maxraftstate, or no snapshot at all
        when maxraftstate is -1 (the lab's checklogs)."""
        for gid in self.gids:
            for i, p in enumerate(self.saved[gid]):
                if p is None:
                    continue
                if self.maxraftstate >= 0 and p.raft_state_size() > 8 * self.maxraftstate:
                    raise self.fail(f"persister.RaftStateSize() {p.raft_state_size()}, but "
                                    f"maxraftstate {self.maxraftstate} ({server_name(gid, i)})")
                if self.maxraftstate < 0 and p.snapshot_size() > 0:
                    raise self.fail(f"maxraftstate is -1, but snapshot is non-empty "
                                    f"({server_name(gid, i)})")

    def persisted_bytes(self) -> int:
        """Raft state plus snapshot, summed over every group server (challenge 1's total)."""
        return sum(p.raft_state_size() + p.snapshot_size() for p in self.persisters())

    def log_size(self) -> int:
        return max((p.raft_state_size() for p in self.persisters()), default=0)

    def snapshot_size(self) -> int:
        return max((p.snapshot_size() for p in self.persisters()), default=0)

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

    # -- the history ---------------------------------------------------------------------
    def witness(self) -> dict[tuple[int, int], int]:
        """The order the service claims: for each call of the history that took effect, the
        moment (a stamp) its entry was first applied anywhere — a write's first execution, a
        get's application whose read is the value the clerk got (or, settled, its first).
        Log indexes of different groups do not compare; these moments do. A checker may
        verify this order as a linearization; it is a claim, never evidence by itself."""
        order: dict[tuple[int, int], int] = {}
        for call in self.history.calls:
            ident = (call.clerk, call.seq)
            if call.f != GET:
                first = self.executed.get(ident)
                if first is not None:
                    order[ident] = first.time
                continue
            reads = self._get_reads.get(ident, [])
            for stamp, value in reads:
                if call.returned is None or call.settled or value == call.output:
                    order[ident] = stamp
                    break
        return order

    def settle(self) -> tuple[int, int]:
        """Settle the calls still in flight from what the servers executed; returns the
        (settled, unknown) counts. Call it when the run is over."""
        return self.history.settle(self.executed)


__all__ = ["GIDS", "ShardClerkHandle", "ShardTestFailure", "ShardTester"]
