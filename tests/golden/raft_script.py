"""Raft core scripts: inputs to `impl.raft.core.RaftCore`, each followed by what it did.

A small cluster of cores driven by hand, with no clock and no randomness: timers fire only
when the script says so, and messages wait in flight, in send order, until delivered or
dropped. The commands (after `> ` in a golden file):

    cluster N            N fresh servers s0..s(N-1), each booted
    timeout S NAME       server S's timer NAME (election, heartbeat) fires
    start S CMD          the service calls Start(CMD) on server S
    snapshot S INDEX     the service hands S a snapshot of everything through INDEX
    deliver S            deliver every message now in flight to S, in send order
    stabilize            deliver everything in flight, and what that sends, until none is left
    drop S->T            lose every message now in flight from S to T
    crash S              S loses its volatile state; what it persisted stays on its disk
    restart S            a new core for S from its disk, booted
    status               every server's state

Each input prints the effects it returned, in the order the driver must carry them out
(persist, send, apply, timers: `impl.raft.effects`), with the messages' one-line
descriptions, and the server's state when the step changed it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from impl.raft.core import RaftConfig, RaftCore, StartResult, VisibleState
from impl.raft.effects import (
    ApplyCommand,
    ApplySnapshot,
    CancelTimer,
    Effects,
    HardState,
    Persist,
    SetTimer,
)
from impl.raft.messages import Message


@dataclass
class Disk:
    """What a server has persisted: its last `Persist`, and the snapshot bytes saved with it."""

    state: HardState | None = None
    snapshot: bytes = b""


@dataclass(frozen=True)
class InFlight:
    src: int
    dst: int
    message: Message

    def describe(self) -> str:
        return f"{self.src}->{self.dst} {self.message.describe()}"


class ScriptError(ValueError):
    """A command the harness does not know, or one that cannot apply (a down server...)."""


class Cluster:
    def __init__(self) -> None:
        self.cores: dict[int, RaftCore | None] = {}
        self.disks: dict[int, Disk] = {}
        self.in_flight: list[InFlight] = []
        self.config = RaftConfig()

    def run(self, command: str) -> list[str]:
        """Carry out one script command; the lines it prints."""
        verb, *args = command.split()
        commands: dict[str, Callable[..., list[str]]] = {
            "cluster": self._cluster, "timeout": self._timeout, "start": self._start,
            "snapshot": self._snapshot, "deliver": self._deliver, "stabilize": self._stabilize,
            "drop": self._drop, "crash": self._crash, "restart": self._restart,
            "status": self._status,
        }
        if verb not in commands:
            raise ScriptError(f"unknown command {verb!r} (known: {', '.join(commands)})")
        return commands[verb](*args)

    # ---------------------------------------------------------------- commands
    def _cluster(self, n: str) -> list[str]:
        peers = tuple(range(int(n)))
        out = []
        for node in peers:
            self.cores[node] = RaftCore(node, peers, self.config)
            self.disks[node] = Disk()
            out += self._effects(node, lambda core: core.boot())
        return out

    def _timeout(self, node: str, name: str) -> list[str]:
        return self._effects(int(node), lambda core: core.timeout(name))

    def _start(self, node: str, command: str) -> list[str]:
        results: list[StartResult] = []

        def start(core: RaftCore) -> Effects:
            result, effects = core.start(command)
            results.append(result)
            return effects

        body = self._effects(int(node), start)
        r = results[0]
        head = f"index {r.index}, term {r.term}" if r.is_leader else f"not the leader (term {r.term})"
        return [f"s{node} start {command!r}: {head}", *body]

    def _snapshot(self, node: str, index: str) -> list[str]:
        data = f"snapshot@{index}".encode()
        return self._effects(int(node), lambda core: core.snapshot(int(index), data))

    def _deliver(self, node: str) -> list[str]:
        dst = int(node)
        now = [m for m in self.in_flight if m.dst == dst]
        self.in_flight = [m for m in self.in_flight if m.dst != dst]
        out = []
        for message in now:
            out += self._receive(message)
        return out

    def _stabilize(self) -> list[str]:
        out = []
        while self.in_flight:
            out += self._receive(self.in_flight.pop(0))
        return out

    def _drop(self, link: str) -> list[str]:
        src, dst = (int(x) for x in link.split("->"))
        lost = [m for m in self.in_flight if (m.src, m.dst) == (src, dst)]
        self.in_flight = [m for m in self.in_flight if (m.src, m.dst) != (src, dst)]
        return [f"dropped: {m.describe()}" for m in lost]

    def _crash(self, node: str) -> list[str]:
        self._up(int(node))
        self.cores[int(node)] = None
        disk = self.disks[int(node)]
        kept = "nothing" if disk.state is None else _hard_state(disk.state)
        return [f"s{node} crashed; its disk holds {kept}"]

    def _restart(self, node: str) -> list[str]:
        n = int(node)
        if self.cores.get(n) is not None:
            raise ScriptError(f"s{n} is not down")
        disk = self.disks[n]
        core = RaftCore(n, tuple(self.cores), self.config, restored=disk.state,
                        snapshot=disk.snapshot)
        self.cores[n] = core
        return [f"s{n} restarted: {_state(core.visible_state())}",
                *self._effects(n, lambda core: core.boot())]

    def _status(self) -> list[str]:
        return [f"s{n}: " + ("down" if core is None else _state(core.visible_state()))
                for n, core in self.cores.items()]

    # ---------------------------------------------------------------- carrying out effects
    def _up(self, node: int) -> RaftCore:
        core = self.cores.get(node)
        if core is None:
            raise ScriptError(f"s{node} is down or does not exist")
        return core

    def _receive(self, message: InFlight) -> list[str]:
        if self.cores.get(message.dst) is None:
            return [f"{message.describe()}  (lost: s{message.dst} is down)"]
        body = self._effects(message.dst, lambda core: core.step(message.src, message.message))
        return [message.describe()] + ["  " + line for line in body]

    def _effects(self, node: int, step: Callable[[RaftCore], Effects]) -> list[str]:
        """Run `step` on `node`'s core, carry out its effects, and describe them (the state
        first, if the step changed it)."""
        core = self._up(node)
        old = core.visible_state()
        effects = step(core)
        new = core.visible_state()
        changed = [f"s{node} state: {_state(new)}"] if new != old else []
        return changed + self._carry_out(node, effects)

    def _carry_out(self, node: int, effects: Effects) -> list[str]:
        out = []
        if effects.persist is not None:
            out.append(f"s{node} persist: {_persist(effects.persist)}")
            disk = self.disks[node]
            disk.state = effects.persist.state
            if effects.persist.snapshot is not None:
                disk.snapshot = effects.persist.snapshot
        for send in effects.messages:
            flying = InFlight(node, send.to, send.message)
            self.in_flight.append(flying)
            out.append(f"s{node} send: {flying.describe()}")
        for apply in effects.applies:
            match apply:
                case ApplyCommand():
                    out.append(f"s{node} apply: {apply.index}/{apply.term} {apply.command!r}")
                case ApplySnapshot():
                    out.append(f"s{node} apply snapshot: {apply.index}/{apply.term} "
                               f"{len(apply.data)}B")
        for timer in effects.timers:
            match timer:
                case SetTimer():
                    span = (f"{timer.low_ms} ms" if timer.low_ms == timer.high_ms
                            else f"{timer.low_ms}..{timer.high_ms} ms")
                    out.append(f"s{node} timer: {timer.name} in {span}")
                case CancelTimer():
                    out.append(f"s{node} timer: {timer.name} cancelled")
        return out


def _log(entries: tuple[tuple[int, int], ...], snapshot_index: int, snapshot_term: int) -> str:
    shown = " ".join(f"{index}/{term}" for index, term in entries)
    if snapshot_index:
        snapshot = f"snapshot {snapshot_index}/{snapshot_term}"
        shown = f"{snapshot} | {shown}" if shown else snapshot
    return f"[{shown}]"


def _state(v: VisibleState) -> str:
    voted = "-" if v.voted_for is None else f"s{v.voted_for}"
    return (f"term {v.term} {v.role.value}, voted {voted}, "
            f"log {_log(v.log, v.snapshot_index, v.snapshot_term)}, commit {v.commit_index}")


def _hard_state(h: HardState) -> str:
    voted = "-" if h.voted_for is None else f"s{h.voted_for}"
    entries = tuple((e.index, e.term) for e in h.log)
    return f"term {h.term}, voted {voted}, log {_log(entries, h.snapshot_index, h.snapshot_term)}"


def _persist(p: Persist) -> str:
    snapshot = "" if p.snapshot is None else f", snapshot data {len(p.snapshot)}B"
    return _hard_state(p.state) + snapshot
