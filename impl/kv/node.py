"""Key/value servers and clerks on the simulator: the drivers of their sans-I/O cores.

`ServerNode` is one incarnation of a key/value server (the lab's StartKVServer), the shared
server driver of impl.rsm.node with the key/value service's trace state and applies: it
restores from the persister, carries out each `ServerEffects` in the order of
impl.rsm.effects, and reports every apply to its `Observer`.

`ClerkNode` hosts a `Clerk` under a name of its own (e.g. "ck1003"), so that the tester can
cut a clerk's links to servers without touching server-to-server links. It records each
call's invoke and return through its `Observer`, and sets a `Signal` when a call finishes.

Both record trace events (traces/README.md, system "kv") when the trace is on. A server's
trace `state` writes its Raft log as runs of one term (`log_runs`, `LogRuns`) rather than entry
by entry: a service's log holds thousands of entries, and a state after every step would
otherwise repeat them all (a lab scenario's trace would run to half a gigabyte).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Protocol

from impl.kv.clerk import Clerk, ClerkConfig
from impl.kv.effects import Applied, Read
from impl.kv.machine import GET, StateMachine
from impl.kv.server import KVServer, ServerConfig
from impl.kv.tasks import Signal
from impl.raft.messages import Entry
from impl.raft.persister import Persister
from impl.rsm import node as rsm_node
from impl.rsm.effects import Done
from impl.sim.network import LabNetwork

STORE_INLINE_BYTES = 256  # a store this small is written out in full in trace states


class Observer(Protocol):
    """What the tester watches: applies at servers, and clerk calls."""

    def applied(self, server: int, event: Applied) -> None: ...

    def read(self, server: int, event: Read) -> None: ...

    def invoked(self, clerk: int, seq: int, f: str, key: str, value: str | None) -> None: ...

    def returned(self, clerk: int, output: str | None) -> None: ...


class ServerNode(rsm_node.ServerNode):
    core: KVServer

    def __init__(self, node_id: int, peers: Sequence[int], network: LabNetwork,
                 persister: Persister, config: ServerConfig, observer: Observer) -> None:
        self.observer = observer
        self._store = StoreTrace()
        self._runs = LogRuns()
        core = KVServer(node_id, peers, config, restored=persister.restore(),
                        snapshot=persister.read_snapshot())
        super().__init__(node_id, peers, network, persister, core)

    def _record_applied(self, event: Applied) -> None:
        if self.trace.enabled:
            self.trace.event(self.id, "apply", kind="command", index=event.index,
                             term=event.term, command=list(event.op),
                             executed=event.outcome.executed, output=event.outcome.output)
        self.observer.applied(self.core.id, event)

    def _record_read(self, event: Read) -> None:
        if self.trace.enabled:
            self.trace.event(self.id, "read", index=event.index, read_index=event.read_index,
                             command=list(event.op), output=event.outcome.output)
        self.observer.read(self.core.id, event)

    def state(self) -> dict[str, Any]:
        """The trace `state`: Raft's visible state (its log as runs), and the service's."""
        raft = self.core.raft
        hard = raft.hard_state()
        state: dict[str, Any] = {
            "term": raft.term, "voted_for": raft.voted_for, "role": raft.role.value,
            "log_runs": self._runs.of(hard.snapshot_index, hard.log),
            "snapshot_index": hard.snapshot_index, "snapshot_term": hard.snapshot_term,
            "commit_index": raft.commit_index, "last_applied": raft.last_applied}
        state["kv"] = self._store.of(self.core.machine)
        return state


class LogRuns:
    """A log's entries as runs `[first index, last index, term]`, one per stretch of equal
    terms, exactly (whatever the terms: a buggy core's log is written as it is). Kept from
    one state to the next: when the log only grew, only its new entries are read."""

    def __init__(self) -> None:
        self._base = -1
        self._entries: tuple[Entry, ...] = ()
        self._runs: list[list[int]] = []

    def of(self, snapshot_index: int, entries: tuple[Entry, ...]) -> list[list[int]]:
        old = self._entries
        if snapshot_index == self._base and entries == old:
            return self._runs
        keep = len(old)
        if not (snapshot_index == self._base and len(entries) >= keep
                and entries[:keep] == old):
            keep, self._runs = 0, []
        runs = [list(run) for run in self._runs]  # the previous states' lists stay as written
        for entry in entries[keep:]:
            if runs and runs[-1][2] == entry.term and runs[-1][1] + 1 == entry.index:
                runs[-1][1] = entry.index
            else:
                runs.append([entry.index, entry.index, entry.term])
        self._base, self._entries, self._runs = snapshot_index, entries, runs
        return runs


def store_digest(data: dict[str, str]) -> str:
    """sha256 of the store as canonical JSON (keys sorted, no spaces), first 16 hex digits."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class StoreTrace:
    """The `kv` part of a server's trace state — applied index, key count, digest, the store
    itself when small, the duplicate table — as the simulator's and the network's servers
    write it; the digest is recomputed only when the applied index moves."""

    def __init__(self) -> None:
        self._digest: tuple[int, str] = (-1, "")  # (applied index, digest) of the store

    def of(self, machine: StateMachine) -> dict[str, Any]:
        if self._digest[0] != machine.applied:
            self._digest = (machine.applied, store_digest(machine.data))
        kv: dict[str, Any] = {"applied": machine.applied, "keys": len(machine.data),
                              "digest": self._digest[1]}
        if sum(len(k) + len(v) for k, v in machine.data.items()) <= STORE_INLINE_BYTES:
            kv["store"] = dict(sorted(machine.data.items()))
        kv["dup"] = {str(clerk): seq for clerk, seq in sorted(machine.last_seq.items())}
        return kv


class CallObserver(Protocol):
    """What a tester watches of a clerk: its calls and their outputs."""

    def invoked(self, clerk: int, seq: int, f: str, key: str, value: str | None) -> None: ...

    def returned(self, clerk: int, output: str | None) -> None: ...


class KVClerkNode(rsm_node.ClerkNode):
    """A get/put/append clerk on the network under `name` (of the key/value service or the
    sharded one: `core` is its clerk core); `call` returns a Signal set to the output, and the
    call is traced as an invoke and a return."""

    def __init__(self, name: str, core: Any, network: LabNetwork,
                 observer: CallObserver) -> None:
        self.observer = observer
        self._signal: Signal[str | None] | None = None
        self._call_id = 0
        super().__init__(name, core, network)

    def call(self, kind: str, key: str, value: str | None = None) -> Signal[str | None]:
        effects = self.core.call(kind, key, value)
        self._signal = Signal(self.loop)
        self.observer.invoked(self.core.id, self.core.seq, kind, key, value)
        if self.trace.enabled:
            self._call_id = self.trace.next_call()
            op: dict[str, Any] = {"type": kind, "key": key}
            if kind != GET:
                op["value"] = value
            op["clerk"], op["seq"] = self.core.id, self.core.seq
            self.trace.event(self.name, "invoke", client=self.name, call=self._call_id, op=op)
        self._carry_out(effects)
        return self._signal

    def _finished(self, done: Done) -> None:
        self.observer.returned(self.core.id, done.output)
        if self.trace.enabled:
            output = {"value": done.output} if done.output is not None else None
            self.trace.event(self.name, "return", client=self.name, call=self._call_id,
                             output=output)
        signal, self._signal = self._signal, None
        assert signal is not None
        signal.set(done.output)


class ClerkNode(KVClerkNode):
    """A key/value clerk on the network under `name`."""

    core: Clerk

    def __init__(self, name: str, clerk_id: int, servers: Sequence[int], network: LabNetwork,
                 observer: Observer, config: ClerkConfig | None = None) -> None:
        super().__init__(name, Clerk(clerk_id, servers, config), network, observer)
