"""Faults aimed at a role, resolved at run time, and faults triggered by what the cluster does.

A `faults` schedule names a fault's server by number, or by a role that is resolved when
the fault is carried out (impl/sim/schedule.py lists the fields):

- `leader`: the live leader of the highest term; `follower`: a live follower (of any
  term); `candidate`: the newest candidate (the
  server that most recently started an election, while it is still alive);
- `voter`: a live server that granted its vote to the newest candidate in that term;
  `nonvoter`: a live server that is neither the newest candidate nor its voter;
- `crashed`: the servers a fault crashed and that are still down, the latest first.

Several servers may hold a role; `pick` k chooses the k-th (mod the count; servers in id
order, `crashed` latest first). No server in the role: the fault does nothing.

A fault with `on` (elected, candidate, vote) is armed at its time `t` and carried out at
the first such event after it — a server becoming leader, starting an election, granting a
vote: a network fault (disconnect, isolate, cut, partition) before the step's messages are
sent, so that they meet it; a crash, restart or timeout right after the step, at the same
virtual instant. A fault with `for` is undone that many ms after it was carried out (crash →
restart of the same server, disconnect → connect, isolate → the server rejoins, cut → the
two links back, slow → its usual speed). `timeout` fires the server's election timer now (a
follower that stops trusting its leader): faults armed `on` candidate at the same `t` meet
its RequestVotes. Why: the windows the vote flags need (a voter restarted between two
candidates' requests) last a few ms; a schedule with fixed times and server numbers hits
them by luck, one aimed at "the voter, right after the election" hits them by construction,
and Hypothesis shrinks it like any other fault.

Nothing here draws from the run's random generator: a schedule replays draw for draw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from impl.raft.core import ELECTION, Role
from impl.raft.labtester import RaftTester
from impl.raft.node import RaftNode
from impl.sim.schedule import ROLES, TRIGGERS

__all__ = ["ROLES", "TRIGGERS", "RoleFaults"]


# ops that step a server (or stop one): never inside another server's step, right after it
_DEFERRED = ("crash", "restart", "timeout")


class RoleFaults:
    """One run's role tracking, armed triggers, and the carrying out of faults."""

    def __init__(self, cfg: RaftTester, restart: Callable[[RaftTester, int], None],
                 heal: Callable[[RaftTester], None]) -> None:
        self.cfg = cfg
        self._restart, self._heal = restart, heal
        self.newest: tuple[int, int] | None = None  # (server, term) of the newest candidate
        self.crashed: list[int] = []  # crashed by a fault and still down, oldest first
        self._seen: dict[int, tuple[Role, int, int | None]] = {}
        self.armed: list[dict[str, Any]] = []
        self.isolated: set[int] = set()  # servers an `isolate` keeps alone, until undone
        cfg.step_hooks.append(self._step)

    # -- roles -------------------------------------------------------------------------
    def holders(self, role: str) -> list[int]:
        cfg = self.cfg
        live = [i for i in range(cfg.n) if cfg.rafts[i] is not None]
        if role == "crashed":
            return [i for i in reversed(self.crashed) if cfg.rafts[i] is None]
        if role == "leader":
            leaders = [i for i in live if _core(cfg, i).role is Role.LEADER]
            top = max((_core(cfg, i).term for i in leaders), default=None)
            return [i for i in leaders if _core(cfg, i).term == top]
        if role == "follower":
            return [i for i in live if _core(cfg, i).role is Role.FOLLOWER]
        newest = self.newest
        if newest is None:
            return []
        who, term = newest
        if role == "candidate":
            return [who] if who in live else []
        voters = [i for i in live if i != who and _core(cfg, i).term == term
                  and _core(cfg, i).voted_for == who]
        if role == "voter":
            return voters
        return [i for i in live if i != who and i not in voters]  # nonvoter

    def resolve(self, node: int | str, pick: int) -> int | None:
        if isinstance(node, int):
            return node
        found = self.holders(node)
        return found[pick % len(found)] if found else None

    # -- triggers ----------------------------------------------------------------------
    def arm(self, fault: dict[str, Any]) -> None:
        self.armed.append(fault)

    def _step(self, node: RaftNode) -> None:
        """Every step of every server (before its effects are carried out): note the
        events a trigger waits for; an armed fault fires after the step, at this instant."""
        core = node.core
        now = (core.role, core.term, core.voted_for)
        before = self._seen.get(node.id)
        self._seen[node.id] = now
        if before == now:
            return
        events = []
        if core.role is Role.CANDIDATE and (before is None or before[0] is not Role.CANDIDATE
                                             or before[1] != core.term):
            self.newest = (node.id, core.term)
            events.append("candidate")
        if core.role is Role.LEADER and (before is None or before[0] is not Role.LEADER):
            events.append("elected")
        if core.voted_for is not None and core.voted_for != node.id and (
                before is None or before[1:] != (core.term, core.voted_for)):
            events.append("vote")
        if not events or not self.armed:
            return
        fire = [f for f in self.armed if f["on"] in events]
        self.armed = [f for f in self.armed if f["on"] not in events]
        for fault in fire:
            if fault["op"] in _DEFERRED:
                # not inside the step of a server it may stop or step: right after it
                self.cfg.loop.call_later(0, self.carry_out, fault)
            else:
                # the network changes at once, so that the step's own messages (a new
                # candidate's RequestVotes, a new leader's first heartbeats) meet it
                self.carry_out(fault)

    # -- faults ------------------------------------------------------------------------
    def carry_out(self, fault: dict[str, Any]) -> None:
        """A fault whose server (and peer) are resolved now; a `for` undoes it later."""
        cfg, op = self.cfg, fault["op"]
        if op == "heal":
            self.isolated.clear()
            self._heal(cfg)
            return
        if op == "partition":  # a triggered one (chaos.scheduled_faults makes the others)
            self.isolated.clear()
            cfg.partition(fault["groups"])
            if "for" in fault:
                cfg.loop.call_later(fault["for"], self._heal, cfg)
            return
        i = self.resolve(fault["node"], fault.get("pick", 0))
        if i is None:
            return
        undo: Callable[[], None] | None = None
        if op == "crash" and cfg.rafts[i] is not None:
            cfg.crash1(i)
            self.crashed.append(i)
            undo = lambda: self._restart_down(i)  # noqa: E731
        elif op == "restart":
            self._restart_down(i)
        elif op == "disconnect":
            cfg.disconnect(i)
            undo = lambda: self._connect_live(i)  # noqa: E731
        elif op == "connect":
            self._connect_live(i)
        elif op == "isolate":
            self.isolated.add(i)
            self._isolate()
            undo = lambda: self._rejoin(i)  # noqa: E731
        elif op == "cut":
            j = self.resolve(fault["peer"], fault.get("peer_pick", 0))
            if j is None or j == i:
                return
            self._link(i, j, False)
            undo = lambda: self._link(i, j, True)  # noqa: E731
        elif op == "slow":
            cfg.net.slow[i] = fault["ms"]
            undo = lambda: self._unslow(i)  # noqa: E731
        elif op == "timeout":
            # the model checker's `timer` step in a timed run: a live server's election
            # timer (armed on followers and candidates) runs out now
            raft = cfg.rafts[i]
            if raft is not None and raft.timers.armed(ELECTION):
                raft.timers.fire_now(ELECTION)
        if undo is not None and "for" in fault:
            cfg.loop.call_later(fault["for"], undo)

    def _isolate(self) -> None:
        """Each isolated server alone, the others together (a partition: it replaces the
        network's earlier groups)."""
        cfg, alone = self.cfg, sorted(self.isolated)
        cfg.partition([*([i] for i in alone), [j for j in range(cfg.n) if j not in alone]])

    def _rejoin(self, i: int) -> None:
        """The end of one server's isolation: it rejoins the others, the other isolated
        servers stay alone (unless a heal came in between: then nothing is left to undo)."""
        if i in self.isolated:
            self.isolated.discard(i)
            self._isolate()

    def healed(self) -> None:
        self.isolated.clear()

    def _unslow(self, i: int) -> None:
        self.cfg.net.slow.pop(i, None)

    def _restart_down(self, i: int) -> None:
        if self.cfg.rafts[i] is None:
            self._restart(self.cfg, i)

    def _connect_live(self, i: int) -> None:
        if self.cfg.rafts[i] is not None:
            self.cfg.connect(i)

    def _link(self, i: int, j: int, on: bool) -> None:
        """Both directed links between i and j; back on only while both are connected
        (a partition or disconnect made since keeps them off)."""
        cfg = self.cfg
        if on and not (cfg.connected[i] and cfg.connected[j]):
            return
        cfg.net.enable(i, j, on)
        cfg.net.enable(j, i, on)
        if cfg.trace.enabled:
            cfg.trace.event("tester", "network", action="cut" if not on else "uncut",
                            args={"nodes": [i, j]})


def _core(cfg: RaftTester, i: int) -> Any:
    raft = cfg.rafts[i]
    assert raft is not None
    return raft.core
