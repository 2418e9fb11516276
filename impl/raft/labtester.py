"""The lab's Raft tester (config.go, scenarios §3.1) in virtual time.

`RaftTester` owns a simulated cluster: the network with long delays on, one persister slot
per server, the apply checkers, and the helpers the lab's tests are written with —
`check_one_leader`, `check_terms`, `check_no_leader`, `n_committed`, `one`, `wait`,
`crash1`, `start1`, `connect`, `disconnect`. Helpers that take time in the lab are tester
tasks here: generators that yield milliseconds to sleep (see `impl.sim.loop`), so that
scenarios can run several of them concurrently, as the Go tests do with goroutines. A
scenario is itself such a task; `run` drives one to completion.

A failed check raises `RaftTestFailure` with the lab's message, immediately — the lab's
applier calls log.Fatalf on an apply error, so we do not wait either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack

from impl.raft.bugs import bug_config, check_bugs
from impl.raft.core import RaftConfig
from impl.raft.effects import ApplyCommand, ApplyMsg, ApplySnapshot
from impl.raft.node import RaftNode
from impl.raft.persister import Persister
from impl.sim.faults import Fault, fault_of
from impl.sim.loop import EventLoop, Task
from impl.sim.network import LabNetwork
from impl.trace import TraceWriter

ELECTION_TIMEOUT_MS = 1000  # the tester's RaftElectionTimeout
SNAPSHOT_INTERVAL = 10  # the snapshot applier snapshots after index 9, 19, 29, ...
MAX_LOG_SIZE = 2000  # 2D: RaftStateSize must stay below this
TEST_BUDGET_MS = 120_000  # "test took longer than 120 seconds" (virtual time here)
_MISSING = object()


class RaftTestFailure(AssertionError):
    """A lab check failed; the message is the lab's."""


@dataclass(frozen=True, slots=True)
class Summary:
    """The lab's pass line: seconds, peers, RPCs, bytes, commits (max index applied)."""

    virtual_ms: int
    peers: int
    rpcs: int
    bytes: int
    commits: int


class RaftTester:
    def __init__(
        self,
        n: int,
        *,
        unreliable: bool = False,
        snapshot: bool = False,
        seed: int = 1,
        trace: TraceWriter | None = None,
        config: RaftConfig | None = None,
        scenario: str = "",
        drop_rate: float | None = None,
        bugs: frozenset[str] = frozenset(),
        duration_ms: int | None = None,
        schedule: str | None = None,
    ) -> None:
        if n < 1:
            raise ValueError("a Raft cluster needs at least one server")
        self.n = n
        self.loop = EventLoop(seed)
        self.trace = trace if trace is not None else TraceWriter.disabled()
        self.trace.set_clock(lambda: self.loop.now)
        # Fault flags (impl.raft.bugs): off by default; a flag may need a RaftConfig field
        # set for its mistake to show, and gets it here.
        self.bugs = check_bugs(bugs)
        self.config = bug_config(self.bugs, config) if self.bugs else (config or RaftConfig())
        header: dict[str, Any] = {
            "servers": n, "unreliable": unreliable, "snapshot": snapshot, "scenario": scenario,
            "election_timeout_ms": list(self.config.election_timeout_ms),
            "heartbeat_ms": self.config.heartbeat_ms}
        # What else it takes to replay the run (only when it differs from the defaults, so
        # that the traces of plain runs stay as they were).
        if duration_ms is not None:
            header["duration_ms"] = duration_ms
        if drop_rate is not None:
            header["drop_rate"] = drop_rate
        if schedule is not None:  # the run's faults came from this file, not from the seed
            header["schedule"] = schedule
        if self.config.max_entries_per_message != RaftConfig().max_entries_per_message:
            header["max_entries_per_message"] = self.config.max_entries_per_message
        if self.config.parallel_write:
            header["parallel_write"] = True
        if self.bugs:
            header["bugs"] = sorted(self.bugs)
        self.trace.header("raft", header, seed, generator="dscheck-sim")
        self.net = LabNetwork(self.loop, self.trace)
        #: Called with every server after each of its steps (before its effects): the role-
        #: aimed faults of a schedule watch elections through it (scenarios/roles.py).
        self.step_hooks: list[Callable[[RaftNode], None]] = []
        self.net.set_reliable(not unreliable)
        self.net.set_long_delays(True)  # the Raft tester always turns long delays on
        if drop_rate is not None:
            self.net.drop_rate = drop_rate
        #: Every (term -> leader) seen after any step of any server: Election Safety is
        #: checked continuously, not only when check_one_leader happens to look.
        self.leaders: dict[int, int] = {}
        self.rng = self.loop.rng
        self.snapshot_mode = snapshot
        self.rafts: list[RaftNode | None] = [None] * n
        self.saved: list[Persister | None] = [None] * n
        self.connected = [False] * n
        self.logs: list[dict[int, Any]] = [{} for _ in range(n)]
        self.last_applied = [0] * n
        self.max_index = 0
        self.max_index0 = 0
        self.rpcs0 = 0
        self.bytes0 = 0
        self.t0 = 0
        for i in range(n):
            for j in range(n):
                if i != j:
                    self.net.enable(i, j, False)
        for i in range(n):
            self.start1(i)
        for i in range(n):
            self.connect(i)

    # -- running -----------------------------------------------------------------------
    def run(self, task: Task[Any]) -> Any:
        """Drive a tester task (a scenario) to completion in virtual time."""
        return self.loop.block(task)

    def sleep(self, ms: int) -> Task[None]:
        yield ms

    @property
    def now(self) -> int:
        return self.loop.now

    def fail(self, message: str) -> RaftTestFailure:
        return RaftTestFailure(f"{message} (seed {self.loop.seed}, t={self.loop.now} ms)")

    def fault(self, error: BaseException) -> Fault:
        """`error`, raised out of a run by a server (or the watchdog), as a finding."""
        return fault_of(error, self.loop, self.trace,
                        lambda obj: obj.id if isinstance(obj, RaftNode) else None)

    # -- the apply checkers ------------------------------------------------------------
    def _check_logs(self, i: int, index: int, command: Any) -> bool:
        for j, log in enumerate(self.logs):
            old = log.get(index, _MISSING)
            if old is not _MISSING and old != command:
                raise self.fail(f"commit index={index} server={i} {command!r} != "
                                f"server={j} {old!r}")
        prev_ok = (index - 1) in self.logs[i]
        self.logs[i][index] = command
        self.max_index = max(self.max_index, index)
        return prev_ok

    def _applier(self, i: int) -> Callable[[ApplyMsg], None]:
        def apply(msg: ApplyMsg) -> None:
            if isinstance(msg, ApplyCommand):
                prev_ok = self._check_logs(i, msg.index, msg.command)
                if msg.index > 1 and not prev_ok:
                    raise self.fail(f"server {i} apply out of order {msg.index}")
        return apply

    def _snapshot_applier(self, i: int) -> Callable[[ApplyMsg], None]:
        def apply(msg: ApplyMsg) -> None:
            if isinstance(msg, ApplySnapshot):
                self._ingest_snapshot(i, msg.data, msg.index)
                return
            if msg.index != self.last_applied[i] + 1:
                raise self.fail(f"server {i} apply out of order, expected index "
                                f"{self.last_applied[i] + 1}, got {msg.index}")
            prev_ok = self._check_logs(i, msg.index, msg.command)
            if msg.index > 1 and not prev_ok:
                raise self.fail(f"server {i} apply out of order {msg.index}")
            self.last_applied[i] = msg.index
            if (msg.index + 1) % SNAPSHOT_INTERVAL == 0:
                xlog = [self.logs[i].get(j) for j in range(msg.index + 1)]
                data = msgpack.packb([msg.index, xlog], use_bin_type=True)
                raft = self.rafts[i]
                if raft is not None:
                    raft.snapshot(msg.index, data)
        return apply

    def _ingest_snapshot(self, i: int, data: bytes, index: int) -> None:
        try:
            last_included, xlog = msgpack.unpackb(data, raw=False)
        except (ValueError, TypeError) as error:
            raise self.fail(f"server {i} snapshot decode error: {error}") from error
        if index != -1 and index != last_included:
            raise self.fail(f"server {i} snapshot doesn't match m.SnapshotIndex")
        self.logs[i] = {j: xlog[j] for j in range(len(xlog))}
        self.last_applied[i] = last_included

    # -- crash, restart, connectivity (scenarios §1.3) ----------------------------------
    def crash1(self, i: int) -> None:
        self.disconnect(i)
        self.net.detach(i)  # in-flight messages to and from it are void from now on
        raft = self.rafts[i]
        if raft is not None:
            raft.kill()
            self.rafts[i] = None
            if self.trace.enabled:
                self.trace.event(i, "crash")
        saved = self.saved[i]
        if saved is not None:
            self.saved[i] = saved.copy()  # the dead instance's later saves go nowhere

    def start1(self, i: int) -> None:
        self.crash1(i)
        self.last_applied[i] = 0
        saved = self.saved[i]
        if saved is not None:
            saved = self.saved[i] = saved.copy()
            snapshot = saved.read_snapshot()
            if snapshot:
                self._ingest_snapshot(i, snapshot, -1)  # the service reads its snapshot
        else:
            saved = self.saved[i] = Persister()
        applier = self._snapshot_applier(i) if self.snapshot_mode else self._applier(i)
        node = RaftNode(i, range(self.n), self.net, saved, applier, self.config, bugs=self.bugs)
        node.observer = self._observe
        self.rafts[i] = node

    def _observe(self, node: RaftNode) -> None:
        # Every step of every server is work for the loop's watchdog: a task that calls a
        # server in a loop that never yields stalls virtual time without running any event.
        self.loop.charge()
        for hook in self.step_hooks:
            hook(node)
        term, is_leader = node.core.get_state()
        if is_leader:
            other = self.leaders.setdefault(term, node.id)
            if other != node.id:
                raise self.fail(f"election safety: servers {other} and {node.id} both lead "
                                f"term {term}")

    def connect(self, i: int) -> None:
        self.connected[i] = True
        for j in range(self.n):
            if j != i and self.connected[j]:
                self.net.enable(i, j, True)
                self.net.enable(j, i, True)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="connect", args={"node": i})

    def disconnect(self, i: int) -> None:
        self.connected[i] = False
        for j in range(self.n):
            if j != i:
                self.net.enable(i, j, False)
                self.net.enable(j, i, False)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="disconnect", args={"node": i})

    def partition(self, groups: list[list[int]]) -> None:
        """Only servers in the same group talk; every server in a group counts as connected."""
        members = {i for group in groups for i in group}
        for i in range(self.n):
            self.connected[i] = i in members
        self.net.partition(groups)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="partition", args={"groups": groups})

    def set_unreliable(self, unreliable: bool) -> None:
        self.net.set_reliable(not unreliable)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="reliable", args={"on": not unreliable})

    def set_long_reordering(self, on: bool) -> None:
        self.net.set_long_reordering(on)
        if self.trace.enabled:
            self.trace.event("tester", "network", action="long_reordering", args={"on": on})

    # -- counters ----------------------------------------------------------------------
    def rpc_count(self, i: int) -> int:
        return self.net.rpc_count.get(i, 0)

    def rpc_total(self) -> int:
        return self.net.stats.total_rpcs

    def bytes_total(self) -> int:
        return self.net.stats.total_bytes

    def log_size(self) -> int:
        """Largest RaftStateSize over servers (the lab's LogSize)."""
        return max((p.raft_state_size() for p in self.saved if p is not None), default=0)

    def begin(self) -> None:
        self.t0 = self.loop.now
        self.rpcs0 = self.rpc_total()
        self.bytes0 = self.bytes_total()
        self.max_index0 = self.max_index

    def end(self) -> Summary:
        if self.loop.now - self.t0 > TEST_BUDGET_MS:
            raise self.fail("test took longer than 120 seconds")
        return Summary(self.loop.now - self.t0, self.n, self.rpc_total() - self.rpcs0,
                       self.bytes_total() - self.bytes0, self.max_index - self.max_index0)

    # -- checks (config.go) ------------------------------------------------------------
    def check_one_leader(self) -> Task[int]:
        for _ in range(10):
            yield 450 + self.rng.randint(0, 99)
            leaders: dict[int, list[int]] = {}
            for i in range(self.n):
                raft = self.rafts[i]
                if self.connected[i] and raft is not None:
                    term, is_leader = raft.get_state()
                    if is_leader:
                        leaders.setdefault(term, []).append(i)
            last_term = -1
            for term, ids in leaders.items():
                if len(ids) > 1:
                    raise self.fail(f"term {term} has {len(ids)} (>1) leaders")
                last_term = max(last_term, term)
            if leaders:
                return leaders[last_term][0]
        raise self.fail("expected one leader, got none")

    def check_terms(self) -> int:
        term = -1
        for i in range(self.n):
            raft = self.rafts[i]
            if self.connected[i] and raft is not None:
                xterm, _ = raft.get_state()
                if term == -1:
                    term = xterm
                elif term != xterm:
                    raise self.fail("servers disagree on term")
        return term

    def check_no_leader(self) -> None:
        for i in range(self.n):
            raft = self.rafts[i]
            if self.connected[i] and raft is not None and raft.get_state()[1]:
                raise self.fail(f"expected no leader among connected servers, but {i} claims "
                                "to be leader")

    def n_committed(self, index: int) -> tuple[int, Any]:
        count, command = 0, None
        for i in range(self.n):
            value = self.logs[i].get(index, _MISSING)
            if value is not _MISSING:
                if count > 0 and command != value:
                    raise self.fail(f"committed values do not match: index {index}, "
                                    f"{command!r}, {value!r}")
                count += 1
                command = value
        return count, command

    def wait(self, index: int, n: int, start_term: int) -> Task[Any]:
        to = 10
        for _ in range(30):
            count, _ = self.n_committed(index)
            if count >= n:
                break
            yield to
            if to < 1000:
                to *= 2
            if start_term > -1:
                for raft in self.rafts:
                    if raft is not None and raft.get_state()[0] > start_term:
                        return -1  # someone moved on to a later term: cannot expect success
        count, command = self.n_committed(index)
        if count < n:
            raise self.fail(f"only {count} decided for index {index}; wanted {n}")
        return command

    def one(self, command: Any, expected: int, retry: bool) -> Task[int]:
        """Agreement on `command` by at least `expected` servers, within 10 s (config.go)."""
        t0 = self.loop.now
        starts = 0
        while self.loop.now - t0 < 10_000:
            index = -1
            for _ in range(self.n):
                starts = (starts + 1) % self.n
                raft = self.rafts[starts]
                if self.connected[starts] and raft is not None:
                    result = raft.start(command)
                    if result.is_leader:
                        index = result.index
                        break
            if index != -1:
                t1 = self.loop.now
                while self.loop.now - t1 < 2_000:
                    count, got = self.n_committed(index)
                    if count > 0 and count >= expected and got == command:
                        return index
                    yield 20
                if not retry:
                    raise self.fail(f"one({command!r}) failed to reach agreement")
            else:
                yield 50
        raise self.fail(f"one({command!r}) failed to reach agreement")
