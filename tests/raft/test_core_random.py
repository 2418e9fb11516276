"""The core under arbitrary interleavings (Hypothesis, stateful): any delivery order,
duplicates, losses, timeouts, crashes to the last persisted state, and snapshots — far more
hostile than the lab network — must never break Raft's safety properties (Figure 3):
Election Safety, Log Matching, State Machine Safety and Leader Completeness."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from impl.raft.core import RaftCore, Role
from impl.raft.effects import ApplyCommand, ApplySnapshot, Effects, HardState
from impl.raft.messages import Message

N = 3
PEERS = tuple(range(N))


@dataclass
class Server:
    core: RaftCore | None
    hard: HardState | None = None  # what is on stable storage
    snapshot: bytes = b""
    applied: dict[int, object] = field(default_factory=dict)


class RaftUnderChaos(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.servers = [Server(RaftCore(i, PEERS)) for i in PEERS]
        for s in self.servers:
            assert s.core is not None
            self._carry_out(s, s.core.boot())
        self.in_flight: list[tuple[int, int, Message]] = []
        self.leader_of_term: dict[int, int] = {}
        self.committed: dict[int, tuple[int, object]] = {}  # index -> (term, command)
        self.next_command = 0

    # -- effects -----------------------------------------------------------------------
    def _carry_out(self, server: Server, effects: Effects) -> None:
        core = server.core
        assert core is not None
        if effects.persist is not None:
            server.hard = effects.persist.state
            if effects.persist.snapshot is not None:
                server.snapshot = effects.persist.snapshot
        for send in effects.messages:
            self.in_flight.append((core.id, send.to, send.message))
        for msg in effects.applies:
            if isinstance(msg, ApplyCommand):
                server.applied[msg.index] = msg.command
                term_command = (msg.term, msg.command)
                known = self.committed.setdefault(msg.index, term_command)
                assert known == term_command, f"state machine safety at index {msg.index}"
            elif isinstance(msg, ApplySnapshot):
                # A snapshot only ever carries committed entries: it must not jump past
                # what this checker has seen committed by anyone.
                assert msg.index <= max(self.committed, default=0)
        if core.role is Role.LEADER:
            leader = self.leader_of_term.setdefault(core.term, core.id)
            assert leader == core.id, f"election safety: term {core.term}"
            self._check_leader_completeness(core)

    def _check_leader_completeness(self, leader: RaftCore) -> None:
        state = leader.visible_state()
        terms = dict(state.log)
        for index, (term, _) in self.committed.items():
            if index > state.snapshot_index and term <= leader.term:
                assert terms.get(index) == term, (
                    f"leader completeness: leader {leader.id} of term {leader.term} lacks "
                    f"committed entry {index}/{term}")

    # -- rules ---------------------------------------------------------------------------
    @precondition(lambda self: bool(self.in_flight))
    @rule(data=st.data(), duplicate=st.booleans())
    def deliver(self, data: st.DataObject, duplicate: bool) -> None:
        position = data.draw(st.integers(0, len(self.in_flight) - 1))
        src, dst, message = self.in_flight[position]
        if not duplicate:
            del self.in_flight[position]
        server = self.servers[dst]
        if server.core is not None:
            self._carry_out(server, server.core.step(src, message))

    @rule(rng=st.randoms(use_true_random=False))
    def stabilize(self, rng: object) -> None:
        """Deliver everything in flight, and what that causes, in a random order (etcd's
        `stabilize`): without it random walks rarely get as far as committing anything."""
        import random

        assert isinstance(rng, random.Random)
        for _ in range(60):
            if not self.in_flight:
                break
            src, dst, message = self.in_flight.pop(rng.randrange(len(self.in_flight)))
            server = self.servers[dst]
            if server.core is not None:
                self._carry_out(server, server.core.step(src, message))

    @precondition(lambda self: bool(self.in_flight))
    @rule(data=st.data())
    def lose(self, data: st.DataObject) -> None:
        del self.in_flight[data.draw(st.integers(0, len(self.in_flight) - 1))]

    @rule(node=st.sampled_from(PEERS), timer=st.sampled_from(["election", "heartbeat"]))
    def timeout(self, node: int, timer: str) -> None:
        server = self.servers[node]
        if server.core is not None:
            self._carry_out(server, server.core.timeout(timer))

    @rule(node=st.sampled_from(PEERS))
    def start(self, node: int) -> None:
        server = self.servers[node]
        if server.core is not None:
            self.next_command += 1
            _, effects = server.core.start(self.next_command)
            self._carry_out(server, effects)

    @rule(count=st.integers(1, 3))
    def start_on_a_leader(self, count: int) -> None:
        """Client commands go where they are accepted, so that logs really grow."""
        for server in self.servers:
            if server.core is not None and server.core.role is Role.LEADER:
                for _ in range(count):
                    self.next_command += 1
                    _, effects = server.core.start(self.next_command)
                    self._carry_out(server, effects)
                return

    @rule(node=st.sampled_from(PEERS))
    def snapshot(self, node: int) -> None:
        server = self.servers[node]
        if server.core is not None and server.core.last_applied > 0:
            index = server.core.last_applied
            self._carry_out(server, server.core.snapshot(index, f"upto{index}".encode()))

    @rule(node=st.sampled_from(PEERS))
    def crash_and_restart(self, node: int) -> None:
        server = self.servers[node]
        server.core = RaftCore(node, PEERS, restored=server.hard, snapshot=server.snapshot)
        self._carry_out(server, server.core.boot())

    # -- invariants ----------------------------------------------------------------------
    @invariant()
    def log_matching(self) -> None:
        logs = [dict(s.core.visible_state().log) for s in self.servers if s.core is not None]
        for a in logs:
            for b in logs:
                common = sorted(set(a) & set(b))
                # If two logs hold an entry with the same index and term, they agree on
                # every common entry before it.
                matching = [i for i in common if a[i] == b[i]]
                if matching:
                    top = matching[-1]
                    assert all(a[i] == b[i] for i in common if i <= top)

    @invariant()
    def commit_never_exceeds_log(self) -> None:
        for s in self.servers:
            if s.core is not None:
                state = s.core.visible_state()
                assert state.snapshot_index <= state.commit_index
                assert state.commit_index <= state.snapshot_index + len(state.log)
                assert state.last_applied == state.commit_index


TestRaftUnderChaos = RaftUnderChaos.TestCase
TestRaftUnderChaos.settings = settings(max_examples=60, stateful_step_count=80, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])


class RaftUnderLongerChaos(RaftUnderChaos):
    pass


TestRaftUnderLongerChaos = pytest.mark.campaign(RaftUnderLongerChaos.TestCase)
TestRaftUnderLongerChaos.settings = settings(max_examples=1000, stateful_step_count=150,
                                             deadline=None,
                                             suppress_health_check=[HealthCheck.too_slow])
