"""A Raft server on the simulator: the lab's service-facing API (scenarios §1.4).

`RaftNode` is the driver of one `RaftCore` incarnation. It is what the lab calls a `*Raft`
returned by `Make`: `start(command) -> StartResult(index, term, is_leader)`, `get_state()`,
`snapshot(index, data)`, `kill()`, and an ordered stream of `ApplyCommand`/`ApplySnapshot`
handed to the service's `apply` callback. It carries out each effects bundle in the order the
core requires (`impl.raft.effects`): persist, send, apply, timers. Election timeouts are
drawn here, from the simulator's one generator. It records the trace events of its steps.

A service may call `snapshot` (or `start`) from inside its `apply` callback, as the lab's
snapshot tester does; the resulting effects are queued behind the bundle being carried out.

A service that shares its server with Raft (the lab's KV server: both are services of one
labrpc Server) builds the node with `attach=False`, attaches its own endpoint under the same
node id, and forwards Raft's messages to `RaftNode.deliver`; Raft still sends through the
network under that id, and a crash of the node ends both.

With `RaftConfig.parallel_write` the node's persister sits behind a disk whose writes take a
few virtual ms (`impl.sim.disk.SlowDisk`): a leader's AppendEntries marked `early` leave at
once, every other message waits for the write covering its step, and each finished write is
reported to the core (`persisted`) as a `durable` step, whose trace line carries the
`persist` (what the disk now holds) instead of the step that asked for it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from impl.raft.bugs import core_class
from impl.raft.core import RaftConfig, RaftCore, StartResult
from impl.raft.effects import (
    ApplyCommand,
    ApplyMsg,
    ApplySnapshot,
    Effects,
    HardState,
    Persist,
    Send,
    SetTimer,
)
from impl.raft.messages import Command, Entry, Message
from impl.raft.persister import Persister
from impl.sim.disk import SlowDisk
from impl.sim.loop import EventLoop
from impl.sim.network import LabNetwork
from impl.sim.timers import Timers
from impl.trace import TraceWriter

ApplyFn = Callable[[ApplyMsg], None]


class RaftNode:
    """One incarnation of Raft server `node_id`, attached to `network` (the lab's Make)."""

    def __init__(
        self,
        node_id: int,
        peers: Sequence[int],
        network: LabNetwork,
        persister: Persister,
        apply: ApplyFn,
        config: RaftConfig | None = None,
        client_name: str = "tester",
        attach: bool = True,
        bugs: frozenset[str] = frozenset(),
    ) -> None:
        self.id = node_id
        self.network = network
        self.loop: EventLoop = network.loop
        self.trace: TraceWriter = network.trace
        self.persister = persister
        self._apply = apply
        self._client = client_name
        self.dead = False
        #: Called after every step with this node (the tester's Election Safety watch).
        self.observer: Callable[[RaftNode], None] | None = None
        # `bugs`: fault flags (impl.raft.bugs), for tests and `dscheck sim raft --bug`; with
        # none the core is `RaftCore` itself.
        core = core_class(bugs) if bugs else RaftCore
        self.core = core(node_id, peers, config, restored=persister.restore(),
                         snapshot=persister.read_snapshot())
        self.timers = Timers(self.loop, self._on_timer)
        self._log_form = _LogForms()  # the trace forms of the state's log and the persisted one
        self._persist_form = _LogForms()
        self._pending: deque[Effects] = deque()
        self._busy = False
        self._disk = (SlowDisk(self.loop, persister, self._on_durable)
                      if self.core.config.parallel_write else None)
        if attach:
            network.attach(node_id, self)
        effects = self.core.boot()
        if self.trace.enabled:
            self.trace.event(node_id, "restart", state=self._state(),
                             **self._persist_key(effects))
        self._carry_out(effects)

    # -- the lab's API -----------------------------------------------------------------
    def start(self, command: Command) -> StartResult:
        if self.dead:
            return StartResult(index=-1, term=0, is_leader=False)
        call = self._invoke({"type": "start", "command": command})
        result, effects = self.core.start(command)
        if self.trace.enabled:
            self.trace.event(self.id, "return", client=self._client, call=call,
                             output={"index": result.index, "term": result.term,
                                     "is_leader": result.is_leader}, state=self._state(),
                             **self._persist_key(effects))
        self._carry_out(effects)
        return result

    def get_state(self) -> tuple[int, bool]:
        return self.core.get_state()

    def snapshot(self, index: int, data: bytes) -> None:
        if self.dead:
            return
        call = self._invoke({"type": "snapshot", "index": index})
        effects = self.core.snapshot(index, data)
        if self.trace.enabled:
            self.trace.event(self.id, "return", client=self._client, call=call, output=None,
                             state=self._state(), **self._persist_key(effects))
        self._carry_out(effects)

    def kill(self) -> None:
        """The lab's Kill(): this instance does nothing more (timers void, inputs ignored)."""
        self.dead = True
        self.timers.stop()
        self._pending.clear()
        if self._disk is not None:
            self._disk.stop()  # what was staged and not yet written is lost

    def raft_state_size(self) -> int:
        return self.persister.raft_state_size()

    # -- inputs from the simulator -------------------------------------------------------
    def deliver(self, src: Any, message: Message, msg_id: int) -> None:
        if self.dead:
            return
        effects = self.core.step(src, message)
        if self.trace.enabled:
            self.trace.event(self.id, "receive", **{"from": src}, id=msg_id, msg=message.trace(),
                             state=self._state(), **self._persist_key(effects))
        self._carry_out(effects)

    def _on_timer(self, name: str) -> None:
        if self.dead:
            return
        effects = self.core.timeout(name)
        if self.trace.enabled:
            self.trace.event(self.id, "timer", timer=name, state=self._state(),
                             **self._persist_key(effects))
        self._carry_out(effects)

    # -- carrying out effects, in the core's order ---------------------------------------
    def _carry_out(self, effects: Effects) -> None:
        if self.observer is not None:
            self.observer(self)
        self._pending.append(effects)
        if self._busy:
            return  # re-entered from an apply callback: the outer loop will get to it
        self._busy = True
        try:
            while self._pending and not self.dead:
                self._carry_out_one(self._pending.popleft())
        finally:
            self._busy = False

    def _on_durable(self, state: HardState) -> None:
        if self.dead:
            return
        effects = self.core.persisted(state)
        if self.trace.enabled:
            written = Effects(persist=Persist(state=state, snapshot=None))
            self.trace.event(self.id, "durable", state=self._state(),
                             **_persisted(written, self._persist_form))
        self._carry_out(effects)

    def _persist_key(self, effects: Effects) -> dict[str, object]:
        """A step's `persist` trace key: with a slow disk it moves to the `durable` line."""
        if self._disk is not None:
            return {}
        return _persisted(effects, self._persist_form)

    def _carry_out_one(self, effects: Effects) -> None:
        disk = self._disk
        if disk is None:
            if effects.persist is not None:
                self.persister.save(effects.persist.state, effects.persist.snapshot)
            for send in effects.messages:
                self.network.send(self.id, send.to, send.message)
        else:
            if effects.persist is not None:
                disk.stage(effects.persist)
            waiting: list[Send] = []
            for send in effects.messages:
                if send.early:
                    self.network.send(self.id, send.to, send.message)
                else:
                    waiting.append(send)
            if waiting:
                disk.after_staged(lambda: self._send_all(waiting))
        for msg in effects.applies:
            if self.dead:
                return
            if self.trace.enabled:
                self._trace_apply(msg)
            self._apply(msg)
        for op in effects.timers:
            if isinstance(op, SetTimer):
                low, high = op.low_ms, op.high_ms
                delay = low if low == high else self.loop.rng.randint(low, high)
                self.timers.set(op.name, delay)
            else:
                self.timers.cancel(op.name)

    def _send_all(self, sends: list[Send]) -> None:
        if not self.dead:
            for send in sends:
                self.network.send(self.id, send.to, send.message)

    # -- tracing -----------------------------------------------------------------------
    def _state(self) -> dict[str, object]:
        """The core's `visible_state().to_json()` (tests hold the two equal), with the log's
        trace form kept between steps: a long log converted again on every step costs more
        than the step (a lab churn run's trace repeats 2,700-entry logs 27,000 times)."""
        core = self.core
        self._log_form.update(core.hard_state().log)
        return {"term": core.term, "voted_for": core.voted_for, "role": core.role.value,
                "log": self._log_form.pairs, "snapshot_index": core.snapshot_index,
                "snapshot_term": core.snapshot_term, "commit_index": core.commit_index,
                "last_applied": core.last_applied}

    def _invoke(self, op: dict[str, Any]) -> int:
        if not self.trace.enabled:
            return 0
        call = self.trace.next_call()
        self.trace.event(self.id, "invoke", client=self._client, call=call, op=op)
        return call

    def _trace_apply(self, msg: ApplyMsg) -> None:
        if isinstance(msg, ApplyCommand):
            self.trace.event(self.id, "apply", kind="command", index=msg.index, term=msg.term,
                             command=msg.command)
        elif isinstance(msg, ApplySnapshot):
            self.trace.event(self.id, "apply", kind="snapshot", index=msg.index, term=msg.term)


class _LogForms:
    """The trace forms of one server's log — entries as `[index, term]` pairs, and as runs
    `[first index, term, count]` — kept from one step to the next. A log mostly grows at its
    end, so the forms of the prefix the log still holds (equal by value, checked each time)
    are reused and only the rest is converted. The lists handed out are new each time an
    entry changes and are never changed afterwards."""

    def __init__(self) -> None:
        self.entries: tuple[Entry, ...] = ()
        self.pairs: list[list[int]] = []
        self.runs: list[list[int]] = []

    def update(self, entries: tuple[Entry, ...]) -> None:
        keep = len(self.entries)
        if keep > len(entries) or entries[:keep] != self.entries:
            keep = 0  # cut or rewritten (rare): convert the whole log again
        if keep == len(entries) == len(self.entries):
            return
        pairs = self.pairs[:keep]
        # keep is 0 or the whole previous log, whose runs it reuses; the last run may grow,
        # so it is copied.
        runs = [*self.runs[:-1], list(self.runs[-1])] if keep else []
        for entry in entries[keep:]:
            pairs.append([entry.index, entry.term])
            last = runs[-1] if runs else None
            if last is not None and last[1] == entry.term and last[0] + last[2] == entry.index:
                last[2] += 1
            else:
                runs.append([entry.index, entry.term, 1])
        self.entries, self.pairs, self.runs = entries, pairs, runs


def _persisted(effects: Effects, forms: _LogForms) -> dict[str, object]:
    """The `persist` key of a step's trace line: what the step makes durable, before any of
    its messages is sent (traces/README.md, "Persistence"); no key when it persists nothing.
    The log is written as runs `[first index, term, count]` of consecutive indexes of one
    term: exact, and short (a persisted log is mostly long runs of few terms)."""
    if effects.persist is None:
        return {}
    hard = effects.persist.state
    forms.update(hard.log)
    record: dict[str, object] = {"term": hard.term, "voted_for": hard.voted_for,
                                 "log_runs": forms.runs, "snapshot_index": hard.snapshot_index,
                                 "snapshot_term": hard.snapshot_term}
    if effects.persist.snapshot is not None:
        record["snapshot_bytes"] = len(effects.persist.snapshot)
    return {"persist": record}
